//! Soft pitch factorisation (Hawley's soft-factorisation notebook; DESIGN §7), the pitch half
//! that a single-frame model can learn: a frame is transposed by whole bins of a log-frequency
//! grid (`bins_per_octave` per octave), and for an anchor and two transposed views the latent
//! moves d₁ = μ₁ − μₐ and d₂ = μ₂ − μₐ are pushed toward cos(d₁, d₂) = +1 when both shifts go
//! the same way and −1 when they go opposite ways, so transposition becomes one direction of
//! the latent space.
//!
//! A shift of n log-frequency bins scales every frequency by 2^(n/B); it is applied to the
//! linear STFT frame the model reads and writes by resampling it along frequency (the
//! log-frequency view's shift mapped back to the STFT without the loss of resolution a coarse
//! constant-Q grid would bring at high frequencies). Content moved past the top bin is dropped
//! and bins with no source are zero: nothing wraps.

use candle_core::{Device, Result, Tensor, D};

use crate::linalg::{mean_and_covariance, symmetric_eigen, top_eigen, Matrix};

/// Default log-frequency resolution: quarter tones.
pub const BINS_PER_OCTAVE: usize = 24;

/// Settings of the soft factorisation term.
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

/// `frame` transposed by `shift` bins of a log-frequency grid with `bins_per_octave` bins per
/// octave, written to `out` (same length): `out[k] = frame[k / r]` with r = 2^(shift/B),
/// interpolated linearly, zero where `k / r` lies beyond the last bin.
pub fn transpose(frame: &[f32], shift: i32, bins_per_octave: usize, out: &mut [f32]) {
    let ratio = 2f64.powf(f64::from(shift) / bins_per_octave.max(1) as f64);
    let last = frame.len().saturating_sub(1);
    for (k, o) in out.iter_mut().enumerate() {
        let source = k as f64 / ratio;
        let below = source.floor() as usize;
        *o = if below > last || frame.is_empty() {
            0.0
        } else if below == last {
            if source - below as f64 > 1e-9 {
                0.0
            } else {
                frame[last]
            }
        } else {
            let t = (source - below as f64) as f32;
            frame[below] * (1.0 - t) + frame[below + 1] * t
        };
    }
}

/// The cosine wanted between the latent moves of two shifts: +1 when they go the same way,
/// −1 when they go opposite ways.
pub fn pair_target(first: i32, second: i32) -> f32 {
    if (first > 0) == (second > 0) {
        1.0
    } else {
        -1.0
    }
}

/// A random non-zero shift of at most `max` bins either way.
pub fn random_shift(rng: &mut fastrand::Rng, max: usize) -> i32 {
    let size = rng.usize(1..=max.max(1)) as i32;
    if rng.bool() {
        size
    } else {
        -size
    }
}

/// Two transposed views of each frame of a batch, with the cosines wanted between their moves.
pub struct ShiftViews {
    /// Each frame transposed by its first shift, `(batch, bins)`.
    pub first: Tensor,
    /// … by its second shift.
    pub second: Tensor,
    /// Wanted cosine between a frame's two moves, `(batch,)`.
    pub within: Tensor,
    /// Wanted cosine between frame r's first move and frame r + 1's (the last with the
    /// first), `(batch,)`: the same across sounds is what makes transposition *one* direction
    /// of the whole space rather than a direction per sound.
    pub across: Tensor,
    /// Shift sizes in bins, first views then second views, `(2·batch,)`.
    pub sizes: Tensor,
    /// The first views' signed shifts in bins, `(batch,)`.
    pub first_shifts: Tensor,
    /// The second views' signed shifts, `(batch,)`.
    pub second_shifts: Tensor,
}

impl ShiftViews {
    /// Views of the `frames` (`batch × bins`, row-major) with random shifts.
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
            shifts.push((a, b));
        }
        let within = shifts.iter().map(|&(a, b)| pair_target(a, b)).collect();
        let across = (0..rows)
            .map(|r| pair_target(shifts[r].0, shifts[(r + 1) % rows].0))
            .collect();
        let sizes = shifts
            .iter()
            .map(|s| s.0.unsigned_abs() as f32)
            .chain(shifts.iter().map(|s| s.1.unsigned_abs() as f32))
            .collect();
        Ok(Self {
            first: Tensor::from_vec(first, (rows, bins), &Device::Cpu)?,
            second: Tensor::from_vec(second, (rows, bins), &Device::Cpu)?,
            within: Tensor::from_vec(within, rows, &Device::Cpu)?,
            across: Tensor::from_vec(across, rows, &Device::Cpu)?,
            sizes: Tensor::from_vec(sizes, 2 * rows, &Device::Cpu)?,
            first_shifts: Tensor::from_vec(
                shifts.iter().map(|s| s.0 as f32).collect(),
                rows,
                &Device::Cpu,
            )?,
            second_shifts: Tensor::from_vec(
                shifts.iter().map(|s| s.1 as f32).collect(),
                rows,
                &Device::Cpu,
            )?,
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
/// notebook's mean (cos(d₁, d₂) − t)² over each frame's moves d = μ_view − μ_anchor, the same
/// between neighbouring frames' first moves (one direction for every sound), and the squared
/// coefficient of variation of the move length per bin of shift (one step size everywhere, so
/// a step along the direction is the same interval for every sound). Every part is
/// scale-free: the term shapes the geometry, not the size, of the space.
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
    let mean = lengths.mean_all()?;
    let spread = (lengths.broadcast_sub(&mean)?.sqr()?.mean_all()? / (mean.sqr()? + 1e-8)?)?;
    (within + across)? + spread
}

/// Every frame's latent move for every shift of 1 to `max_shift` bins either way.
pub struct ShiftMoves {
    /// The shifts, in log-frequency bins, ascending without 0.
    shifts: Vec<i32>,
    /// Per shift, the moves μ(shifted) − μ(frame), `frames × latent` row-major.
    moves: Vec<Vec<f32>>,
    /// Frames measured.
    frames: usize,
    /// Latent dimensions.
    latent: usize,
}

impl ShiftMoves {
    /// Moves of `frames` (`n × bins`) under `encode` (frames `(n, bins)` → latent means).
    pub fn measure(
        frames: &[f32],
        bins: usize,
        max_shift: usize,
        bins_per_octave: usize,
        encode: &dyn Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Self> {
        let rows = frames.len() / bins.max(1);
        let to_tensor = |data: Vec<f32>| Tensor::from_vec(data, (rows, bins), &Device::Cpu);
        let anchor = encode(&to_tensor(frames[..rows * bins].to_vec())?)?;
        let latent = anchor.dim(1)?;
        let max = max_shift.max(1) as i32;
        let shifts: Vec<i32> = (-max..=max).filter(|&s| s != 0).collect();
        let mut moves = Vec::with_capacity(shifts.len());
        let mut out = vec![0.0; rows * bins];
        for &shift in &shifts {
            for (frame, o) in frames.chunks_exact(bins).zip(out.chunks_exact_mut(bins)) {
                transpose(frame, shift, bins_per_octave, o);
            }
            let z = (encode(&to_tensor(out.clone())?)? - &anchor)?;
            moves.push(z.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(Self {
            shifts,
            moves,
            frames: rows,
            latent,
        })
    }

    /// Frame `r`'s move for the shift at index `s`.
    fn get(&self, s: usize, r: usize) -> &[f32] {
        &self.moves[s][r * self.latent..(r + 1) * self.latent]
    }

    /// The least-squares direction u of d ≈ shift · u over every frame and shift (a move per
    /// log-frequency bin).
    pub fn direction(&self) -> Vec<f32> {
        let mut u = vec![0.0f64; self.latent];
        let mut norm = 0.0f64;
        for (s, &shift) in self.shifts.iter().enumerate() {
            for r in 0..self.frames {
                for (ui, &d) in u.iter_mut().zip(self.get(s, r)) {
                    *ui += f64::from(shift) * f64::from(d);
                }
                norm += f64::from(shift * shift);
            }
        }
        u.into_iter()
            .map(|v| (v / norm.max(1e-12)) as f32)
            .collect()
    }

    /// The share of the moves' energy that shift · `u` explains (`u` a move per bin; 1 when
    /// every move is exactly that, ≤ 0 when it explains nothing).
    pub fn explained_by(&self, u: &[f32]) -> f64 {
        let (mut residual, mut total) = (0.0f64, 0.0f64);
        for (s, &shift) in self.shifts.iter().enumerate() {
            for r in 0..self.frames {
                for (&ui, &d) in u.iter().zip(self.get(s, r)) {
                    residual += (f64::from(d) - f64::from(shift) * f64::from(ui)).powi(2);
                    total += f64::from(d).powi(2);
                }
            }
        }
        1.0 - residual / total.max(1e-12)
    }

    /// The notebook's metrics for the pitch half (see [`PitchGeometry`]); `seed` picks the
    /// pairs of sounds compared across.
    pub fn geometry(&self, seed: u64) -> PitchGeometry {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (mut same, mut opposite, mut across) =
            (Mean::default(), Mean::default(), Mean::default());
        let mut grid_share = Mean::default();
        let mut up = vec![0.0f64; self.latent];
        let mut down = vec![0.0f64; self.latent];
        for r in 0..self.frames {
            for (i, &a) in self.shifts.iter().enumerate() {
                let total = if a > 0 { &mut up } else { &mut down };
                total
                    .iter_mut()
                    .zip(self.get(i, r))
                    .for_each(|(t, &d)| *t += f64::from(d));
                for (j, &b) in self.shifts.iter().enumerate().skip(i + 1) {
                    let cos = cosine(self.get(i, r), self.get(j, r));
                    if pair_target(a, b) > 0.0 {
                        same.add(cos)
                    } else {
                        opposite.add(cos)
                    }
                }
            }
            if self.frames > 1 {
                let other = (r + 1 + rng.usize(0..self.frames - 1)) % self.frames;
                let (i, j) = (
                    rng.usize(0..self.shifts.len()),
                    rng.usize(0..self.shifts.len()),
                );
                let sign = f64::from(pair_target(self.shifts[i], self.shifts[j]));
                across.add(sign * cosine(self.get(i, r), self.get(j, other)));
            }
            grid_share.add(self.first_singular_share(r));
        }
        let angle = cosine_f64(&up, &down).clamp(-1.0, 1.0).acos().to_degrees();
        PitchGeometry {
            same_sign: same.value(),
            opposite_sign: opposite.value(),
            up_down_angle: angle,
            across_sounds: across.value(),
            first_singular_share: grid_share.value(),
            explained_by_direction: self.explained_by(&self.direction()),
            frames: self.frames,
        }
    }

    /// Every move projected on the first two principal axes of all the moves, with its shift
    /// (bins) — the notebook's PCA plot of the difference vectors.
    pub fn principal_plane(&self) -> Vec<(f64, f64, i32)> {
        let data: Vec<f32> = self.moves.iter().flatten().copied().collect();
        let (mean, covariance) = mean_and_covariance(&data, self.latent);
        let (_, axes) = top_eigen(&covariance, 2.min(self.latent), 60, 1);
        let axis = |k: usize, d: &[f32]| -> f64 {
            if k >= axes.rows {
                return 0.0;
            }
            d.iter()
                .zip(&mean)
                .zip(axes.row(k))
                .map(|((&v, m), a)| (f64::from(v) - m) * a)
                .sum()
        };
        let mut points = Vec::with_capacity(self.frames * self.shifts.len());
        for (s, &shift) in self.shifts.iter().enumerate() {
            for r in 0..self.frames {
                let d = self.get(s, r);
                points.push((axis(0, d), axis(1, d), shift));
            }
        }
        points
    }

    /// σ₁² / Σσ² of frame `r`'s (shift × latent) grid of moves: 1 when all its moves lie on
    /// one line.
    fn first_singular_share(&self, r: usize) -> f64 {
        let n = self.latent;
        let mut gram = Matrix::zeros(n, n);
        for s in 0..self.shifts.len() {
            let d = self.get(s, r);
            for a in 0..n {
                for b in 0..n {
                    *gram.at(a, b) += f64::from(d[a]) * f64::from(d[b]);
                }
            }
        }
        let trace: f64 = (0..n).map(|k| gram.get(k, k)).sum();
        let (values, _) = symmetric_eigen(&gram);
        let top = values.iter().copied().fold(0.0f64, f64::max);
        top / trace.max(1e-12)
    }
}

/// Running mean.
#[derive(Default)]
struct Mean {
    sum: f64,
    count: usize,
}

impl Mean {
    fn add(&mut self, value: f64) {
        self.sum += value;
        self.count += 1;
    }

    fn value(&self) -> f64 {
        self.sum / self.count.max(1) as f64
    }
}

/// Cosine of two vectors (0 when either is zero).
fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let a: Vec<f64> = a.iter().map(|&v| f64::from(v)).collect();
    let b: Vec<f64> = b.iter().map(|&v| f64::from(v)).collect();
    cosine_f64(&a, &b)
}

fn cosine_f64(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f64>().sqrt() * b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norms > 0.0 {
        dot / norms
    } else {
        0.0
    }
}

/// How transposition shows in a latent space (the notebook's metrics for the pitch half).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PitchGeometry {
    /// Mean cosine between a sound's moves for two shifts the same way (1 = one direction).
    pub same_sign: f64,
    /// Mean cosine between a sound's moves for two shifts opposite ways (−1 = one line).
    pub opposite_sign: f64,
    /// Angle between the mean move up and the mean move down, degrees (180 = one line).
    pub up_down_angle: f64,
    /// Mean cosine between two different sounds' moves, signed so that 1 means transposing
    /// either one moves the same way (one direction for the whole space, not one per sound).
    pub across_sounds: f64,
    /// Mean share of the first singular value in each sound's (shift × latent) grid of moves.
    pub first_singular_share: f64,
    /// Share of all moves' energy explained by one global direction times the shift.
    pub explained_by_direction: f64,
    /// Frames measured.
    pub frames: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Module};
    use candle_nn::{linear, Optimizer, VarBuilder, VarMap};

    #[test]
    fn transposition_is_exact_on_the_grid_zero_filled_and_never_wraps() {
        let frame: Vec<f32> = (0..16).map(|k| 1.0 + k as f32).collect();
        let mut out = vec![f32::NAN; 16];
        // One octave up at 24 bins per octave: bin 2k takes bin k exactly; the top half of
        // the source is gone (nothing wraps round to the bottom).
        transpose(&frame, 24, 24, &mut out);
        for k in 0..8 {
            assert_eq!(out[2 * k], frame[k]);
            assert_eq!(out[2 * k + 1], 0.5 * (frame[k] + frame[k + 1]));
        }
        // One octave down: bin k takes bin 2k; above half the bins there is no source: zeros.
        transpose(&frame, -24, 24, &mut out);
        for k in 0..8 {
            assert_eq!(out[k], frame[2 * k]);
        }
        assert!(out[8..].iter().all(|&v| v == 0.0), "{out:?}");
        // No shift is the identity.
        transpose(&frame, 0, 24, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn pairs_want_plus_one_the_same_way_and_minus_one_opposite() {
        assert_eq!(pair_target(3, 1), 1.0);
        assert_eq!(pair_target(-2, -5), 1.0);
        assert_eq!(pair_target(2, -2), -1.0);
        assert_eq!(pair_target(-1, 4), -1.0);
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..200 {
            let s = random_shift(&mut rng, 6);
            assert!(s != 0 && s.abs() <= 6);
        }
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
