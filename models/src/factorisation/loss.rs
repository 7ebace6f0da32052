//! The soft factorisation term: for an anchor and two shifted views, the latent moves
//! d₁ = μ₁ − μₐ and d₂ = μ₂ − μₐ are pushed toward the cosine their shifts call for
//! ([`pair_target`]).

use candle_core::{Device, Result, Tensor, D};

use super::shifts::{pair_target, random_shift, shift_patch, transpose, Shift, ShiftKind};

/// Settings of the soft factorisation term of the main (single-frame) models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FactoriseConfig {
    /// Weight of the term in the loss.
    pub weight: f64,
    /// Largest shift, in log-frequency bins (shifts are 1 to this, either way).
    pub max_shift: usize,
    /// Log-frequency bins per octave.
    pub bins_per_octave: usize,
    /// Weight of decoding each view from the anchor's code moved along the learned direction
    /// (what makes a step along it a transposition in players), per view; it competes with
    /// plain reconstruction for the decoder's capacity.
    pub decode_weight: f64,
}

/// Two shifted views of each example of a batch, with the cosines wanted between their moves.
pub struct ShiftViews {
    /// Each example moved by its first shift, shaped like the batch.
    pub first: Tensor,
    /// … by its second shift.
    pub second: Tensor,
    /// Wanted cosine between an example's two moves, `(batch,)`.
    pub within: Tensor,
    /// Wanted cosine between example r's first move and example r + 1's (the last with the
    /// first), `(batch,)`: the same across sounds is what makes a shift *one* direction of the
    /// whole space rather than a direction per sound.
    pub across: Tensor,
    /// Shift sizes in bins or frames, first views then second views, `(2·batch,)`.
    pub sizes: Tensor,
    /// Per kind of shift present, the indices (into first views then second views) of its
    /// moves: step lengths are evened within a kind, not between kinds whose units differ.
    pub groups: Vec<Tensor>,
    /// The first views' signed transpositions in bins (0 for time shifts), `(batch,)`.
    pub first_shifts: Tensor,
    /// The second views' signed transpositions, `(batch,)`.
    pub second_shifts: Tensor,
}

impl ShiftViews {
    /// Transposed views of the linear STFT `frames` (`batch × bins`, row-major) with random
    /// shifts of up to `config.max_shift` log-frequency bins.
    pub fn sample(
        frames: &[f32],
        bins: usize,
        config: &FactoriseConfig,
        rng: &mut fastrand::Rng,
    ) -> Result<Self> {
        let rows = frames.len() / bins.max(1);
        let mut first = vec![0.0; rows * bins];
        let mut second = vec![0.0; rows * bins];
        let mut shifts = Vec::with_capacity(rows);
        for (r, frame) in frames.chunks_exact(bins).enumerate() {
            let (a, b) = (
                random_shift(rng, config.max_shift),
                random_shift(rng, config.max_shift),
            );
            let span = r * bins..(r + 1) * bins;
            transpose(frame, a, config.bins_per_octave, &mut first[span.clone()]);
            transpose(frame, b, config.bins_per_octave, &mut second[span]);
            shifts.push((Shift::pitch(a), Shift::pitch(b)));
        }
        Self::from_views(first, second, &[rows, bins], &shifts)
    }

    /// Two views of each of `anchors` (patches of `shape` = `[n, frames, bins]`, row-major),
    /// each moved by a random transposition of up to `max_pitch` bins or time shift of up to
    /// `max_time` frames, with even odds ([`shift_patch`]).
    pub fn of_patches(
        anchors: &[f32],
        shape: [usize; 3],
        max_pitch: usize,
        max_time: usize,
        rng: &mut fastrand::Rng,
    ) -> Result<Self> {
        let [n, frames, bins] = shape;
        let size = frames * bins;
        let mut one = || {
            if rng.bool() {
                Shift::pitch(random_shift(rng, max_pitch))
            } else {
                Shift::time(random_shift(rng, max_time))
            }
        };
        let shifts: Vec<(Shift, Shift)> = (0..n).map(|_| (one(), one())).collect();
        let (mut first, mut second) = (vec![0.0; n * size], vec![0.0; n * size]);
        for (r, anchor) in anchors.chunks_exact(size).take(n).enumerate() {
            let span = r * size..(r + 1) * size;
            shift_patch(anchor, bins, shifts[r].0, &mut first[span.clone()]);
            shift_patch(anchor, bins, shifts[r].1, &mut second[span]);
        }
        Self::from_views(first, second, &shape, &shifts)
    }

    /// Views already made (`first` and `second` of `shape`, the batch first) by `shifts`, one
    /// pair per example.
    pub fn from_views(
        first: Vec<f32>,
        second: Vec<f32>,
        shape: &[usize],
        shifts: &[(Shift, Shift)],
    ) -> Result<Self> {
        let rows = shifts.len();
        let cpu = &Device::Cpu;
        let within = shifts.iter().map(|&(a, b)| pair_target(a, b)).collect();
        let across = (0..rows)
            .map(|r| pair_target(shifts[r].0, shifts[(r + 1) % rows].0))
            .collect();
        let all: Vec<Shift> = shifts
            .iter()
            .map(|s| s.0)
            .chain(shifts.iter().map(|s| s.1))
            .collect();
        let sizes = all.iter().map(|s| s.amount.unsigned_abs() as f32).collect();
        let groups = [ShiftKind::Pitch, ShiftKind::Time]
            .into_iter()
            .map(|kind| -> Vec<u32> {
                (0..all.len() as u32)
                    .filter(|&i| all[i as usize].kind == kind)
                    .collect()
            })
            .filter(|members| !members.is_empty())
            .map(|members| {
                let count = members.len();
                Tensor::from_vec(members, count, cpu)
            })
            .collect::<Result<_>>()?;
        let pitch = |pick: fn(&(Shift, Shift)) -> Shift| -> Vec<f32> {
            shifts
                .iter()
                .map(|s| pick(s).pitch_amount() as f32)
                .collect()
        };
        Ok(Self {
            first: Tensor::from_vec(first, shape, cpu)?,
            second: Tensor::from_vec(second, shape, cpu)?,
            within: Tensor::from_vec(within, rows, cpu)?,
            across: Tensor::from_vec(across, rows, cpu)?,
            sizes: Tensor::from_vec(sizes, 2 * rows, cpu)?,
            groups,
            first_shifts: Tensor::from_vec(pitch(|s| s.0), rows, cpu)?,
            second_shifts: Tensor::from_vec(pitch(|s| s.1), rows, cpu)?,
        })
    }
}

/// Row-wise cosine between `a` and `b` (`(n, d)` each), `(n,)`.
pub fn cosines(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dot = (a * b)?.sum(D::Minus1)?;
    let norms = (a.sqr()?.sum(D::Minus1)?.sqrt()? * b.sqr()?.sum(D::Minus1)?.sqrt()?)?;
    dot / (norms + 1e-8)?
}

/// The soft factorisation loss for latent means of the anchors and of their two views: the
/// notebook's mean (cos(d₁, d₂) − t)² over each example's moves d = μ_view − μ_anchor, the same
/// between neighbouring examples' first moves (one direction for every sound), and, per kind of
/// shift, the squared coefficient of variation of the move length per bin or frame of shift
/// (one step size everywhere, so a step along a direction is the same interval for every
/// sound). Every part is scale-free: the term shapes the geometry, not the size, of the space.
pub fn soft_loss(
    anchor: &Tensor,
    first: &Tensor,
    second: &Tensor,
    views: &ShiftViews,
) -> Result<Tensor> {
    let (d1, d2) = ((first - anchor)?, (second - anchor)?);
    let within = (cosines(&d1, &d2)? - &views.within)?.sqr()?.mean_all()?;
    let rows = d1.dim(0)?;
    let neighbours = Tensor::cat(&[d1.narrow(0, 1, rows - 1)?, d1.narrow(0, 0, 1)?], 0)?;
    let across = (cosines(&d1, &neighbours)? - &views.across)?
        .sqr()?
        .mean_all()?;
    let lengths = (Tensor::cat(&[&d1, &d2], 0)?.sqr()?.sum(D::Minus1)?.sqrt()? / &views.sizes)?;
    let mut loss = (within + across)?;
    for group in &views.groups {
        let lengths = lengths.index_select(group, 0)?;
        let mean = lengths.mean_all()?;
        let spread = (lengths.broadcast_sub(&mean)?.sqr()?.mean_all()? / (mean.sqr()? + 1e-8)?)?;
        loss = (loss + spread)?;
    }
    Ok(loss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factorisation::ShiftMoves;
    use candle_core::{DType, Module};
    use candle_nn::{linear, Optimizer, VarBuilder, VarMap};

    #[test]
    fn views_carry_the_targets_of_their_shifts() -> Result<()> {
        let (p, t) = (Shift::pitch, Shift::time);
        let shifts = [(p(2), p(1)), (t(1), p(-3)), (t(-2), t(1))];
        let views = ShiftViews::from_views(vec![0.0; 6], vec![0.0; 6], &[3, 2], &shifts)?;
        assert_eq!(views.within.to_vec1::<f32>()?, [1.0, 0.0, -1.0]);
        assert_eq!(views.across.to_vec1::<f32>()?, [0.0, -1.0, 0.0]);
        assert_eq!(views.sizes.to_vec1::<f32>()?, [2., 1., 2., 1., 3., 1.]);
        let groups: Vec<Vec<u32>> = views
            .groups
            .iter()
            .map(|g| g.to_vec1::<u32>())
            .collect::<Result<_>>()?;
        assert_eq!(groups, [vec![0, 3, 4], vec![1, 2, 5]]);
        assert_eq!(views.first_shifts.to_vec1::<f32>()?, [2.0, 0.0, 0.0]);
        assert_eq!(views.second_shifts.to_vec1::<f32>()?, [1.0, -3.0, 0.0]);
        Ok(())
    }

    #[test]
    fn the_loss_pulls_a_tiny_encoders_cosines_toward_the_targets() -> Result<()> {
        // Harmonic frames at random pitches, a linear encoder to 4 dimensions.
        let bins = 64;
        let mut rng = fastrand::Rng::with_seed(5);
        let frames: Vec<f32> = (0..64)
            .flat_map(|_| {
                let f0 = 2.0 + rng.f32() * 4.0;
                (0..bins).map(move |k| {
                    (1..6)
                        .map(|h| (-(k as f32 - h as f32 * f0).powi(2)).exp() / h as f32)
                        .sum::<f32>()
                })
            })
            .collect();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let encoder = linear(bins, 4, vb)?;
        let config = FactoriseConfig {
            weight: 1.0,
            max_shift: 6,
            bins_per_octave: 24,
            decode_weight: 0.0,
        };
        let geometry = |encoder: &candle_nn::Linear| {
            ShiftMoves::measure(&frames, bins, 6, 24, &|x| encoder.forward(x))
                .map(|moves| moves.geometry(9))
        };
        let before = geometry(&encoder)?;
        let mut sgd = candle_nn::SGD::new(varmap.all_vars(), 0.05)?;
        let x = Tensor::from_vec(frames.clone(), (64, bins), &Device::Cpu)?;
        let mut losses = Vec::new();
        for _ in 0..300 {
            let views = ShiftViews::sample(&frames, bins, &config, &mut rng)?;
            let loss = soft_loss(
                &encoder.forward(&x)?,
                &encoder.forward(&views.first)?,
                &encoder.forward(&views.second)?,
                &views,
            )?;
            losses.push(loss.to_scalar::<f32>()?);
            sgd.backward_step(&loss)?;
        }
        let after = geometry(&encoder)?;
        let early: f32 = losses[..20].iter().sum::<f32>() / 20.0;
        let late: f32 = losses[losses.len() - 20..].iter().sum::<f32>() / 20.0;
        assert!(late < 0.5 * early, "loss {early} → {late}");
        assert!(
            after.same_sign > before.same_sign.max(0.8),
            "{before:?} → {after:?}"
        );
        assert!(
            after.opposite_sign < before.opposite_sign.min(-0.6),
            "{before:?} → {after:?}"
        );
        assert!(after.up_down_angle > 150.0, "{after:?}");
        Ok(())
    }
}
