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

/// Two transposed views of each frame of a batch, with the cosine wanted between their moves.
pub struct ShiftViews {
    /// Each frame transposed by its first shift, `(batch, bins)`.
    pub first: Tensor,
    /// … by its second shift.
    pub second: Tensor,
    /// Wanted cosine per frame, `(batch,)`.
    pub targets: Tensor,
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
        let mut targets = Vec::with_capacity(rows);
        for (r, frame) in frames.chunks_exact(bins).enumerate() {
            let (a, b) = (
                random_shift(rng, config.max_shift),
                random_shift(rng, config.max_shift),
            );
            let span = r * bins..(r + 1) * bins;
            transpose(frame, a, config.bins_per_octave, &mut first[span.clone()]);
            transpose(frame, b, config.bins_per_octave, &mut second[span]);
            targets.push(pair_target(a, b));
        }
        Ok(Self {
            first: Tensor::from_vec(first, (rows, bins), &Device::Cpu)?,
            second: Tensor::from_vec(second, (rows, bins), &Device::Cpu)?,
            targets: Tensor::from_vec(targets, rows, &Device::Cpu)?,
        })
    }
}

/// Row-wise cosine between `a` and `b` (`(n, d)` each), `(n,)`.
pub fn cosines(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dot = (a * b)?.sum(D::Minus1)?;
    let norms = (a.sqr()?.sum(D::Minus1)?.sqrt()? * b.sqr()?.sum(D::Minus1)?.sqrt()?)?;
    dot / (norms + 1e-8)?
}

/// The soft factorisation loss: mean over rows of (cos(μ₁ − μₐ, μ₂ − μₐ) − target)².
pub fn soft_loss(
    anchor: &Tensor,
    first: &Tensor,
    second: &Tensor,
    targets: &Tensor,
) -> Result<Tensor> {
    let cos = cosines(&(first - anchor)?, &(second - anchor)?)?;
    (cos - targets)?.sqr()?.mean_all()
}

/// How transposition shows in a latent space (the notebook's metrics for the pitch half).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PitchGeometry {
    /// Mean cosine between the moves of two shifts the same way (1 = one direction).
    pub same_sign: f64,
    /// Mean cosine between the moves of two shifts opposite ways (−1 = one line).
    pub opposite_sign: f64,
    /// Angle between the mean move up and the mean move down, degrees (180 = one line).
    pub up_down_angle: f64,
    /// Frames measured.
    pub frames: usize,
}

/// Measures [`PitchGeometry`] with `encode` (frames `(n, bins)` → latent means `(n, latent)`)
/// on `frames` (`n × bins`), with shifts of 1 to `max_shift` bins each way.
pub fn pitch_geometry(
    frames: &[f32],
    bins: usize,
    max_shift: usize,
    bins_per_octave: usize,
    seed: u64,
    encode: &dyn Fn(&Tensor) -> Result<Tensor>,
) -> Result<PitchGeometry> {
    let rows = frames.len() / bins.max(1);
    let mut rng = fastrand::Rng::with_seed(seed);
    let anchor = encode(&Tensor::from_vec(
        frames.to_vec(),
        (rows, bins),
        &Device::Cpu,
    )?)?;
    let shifted = |sign: i32, rng: &mut fastrand::Rng| -> Result<Tensor> {
        let mut out = vec![0.0; rows * bins];
        for (r, frame) in frames.chunks_exact(bins).enumerate() {
            let shift = sign * rng.usize(1..=max_shift.max(1)) as i32;
            transpose(
                frame,
                shift,
                bins_per_octave,
                &mut out[r * bins..(r + 1) * bins],
            );
        }
        let z = encode(&Tensor::from_vec(out, (rows, bins), &Device::Cpu)?)?;
        z - &anchor
    };
    let (up_a, up_b) = (shifted(1, &mut rng)?, shifted(1, &mut rng)?);
    let down = shifted(-1, &mut rng)?;
    let mean = |t: &Tensor| -> Result<f64> { Ok(f64::from(t.mean_all()?.to_scalar::<f32>()?)) };
    let same_sign = mean(&cosines(&up_a, &up_b)?)?;
    let opposite_sign = mean(&cosines(&up_a, &down)?)?;
    let mean_up = up_a.mean(0)?.unsqueeze(0)?;
    let mean_down = down.mean(0)?.unsqueeze(0)?;
    let cos = mean(&cosines(&mean_up, &mean_down)?)?.clamp(-1.0, 1.0);
    Ok(PitchGeometry {
        same_sign,
        opposite_sign,
        up_down_angle: cos.acos().to_degrees(),
        frames: rows,
    })
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
        };
        let geometry = |encoder: &candle_nn::Linear| {
            pitch_geometry(&frames, bins, 6, 24, 9, &|x| encoder.forward(x))
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
                &views.targets,
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
