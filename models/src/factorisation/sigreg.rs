//! SIGReg (LeJEPA): the batch's embeddings are projected on random unit directions and each
//! projection's empirical characteristic function is compared with the standard normal's — the
//! Epps–Pulley statistic ∫ |φ̂(t) − e^{−t²/2}|² e^{−t²/2} dt — so the embeddings spread as an
//! isotropic Gaussian without a per-example KL.

use candle_core::{Device, Result, Tensor, D};

use crate::random::gaussian_vec;

/// Knots of the integral over t ∈ [0, T_MAX] (the integrand is even).
const KNOTS: usize = 17;
/// Where the weight e^{−t²/2} has fallen below 4·10⁻⁴.
const T_MAX: f64 = 4.0;

/// The mean Epps–Pulley statistic of `z` (`(n, d)`) over `projections` random directions
/// drawn from `rng`: 0 for a standard normal batch (up to sampling noise), larger the further
/// the projections are from N(0, 1) in location, scale or shape. Differentiable in `z`.
pub fn sigreg(z: &Tensor, projections: usize, rng: &mut fastrand::Rng) -> Result<Tensor> {
    let (d, m) = (z.dim(1)?, projections.max(1));
    let mut directions = gaussian_vec(rng, d * m);
    for column in 0..m {
        let norm = (0..d)
            .map(|r| directions[r * m + column].powi(2))
            .sum::<f32>()
            .sqrt()
            .max(1e-12);
        (0..d).for_each(|r| directions[r * m + column] /= norm);
    }
    let directions = Tensor::from_vec(directions, (d, m), &Device::Cpu)?;
    epps_pulley(&z.matmul(&directions)?)
}

/// The Epps–Pulley statistic of every column of `x` (`(n, m)`) against N(0, 1), averaged over
/// the columns.
pub fn epps_pulley(x: &Tensor) -> Result<Tensor> {
    let step = T_MAX / (KNOTS - 1) as f64;
    let t: Vec<f32> = (0..KNOTS).map(|k| (k as f64 * step) as f32).collect();
    let gaussian: Vec<f32> = t.iter().map(|&t| (-0.5 * t * t).exp()).collect();
    // Trapezoid weights × the weight function, doubled for t < 0.
    let weights: Vec<f32> = gaussian
        .iter()
        .enumerate()
        .map(|(k, &g)| {
            let end = if k == 0 || k == KNOTS - 1 { 0.5 } else { 1.0 };
            (2.0 * step) as f32 * end * g
        })
        .collect();
    let cpu = &Device::Cpu;
    let t = Tensor::from_vec(t, (1, 1, KNOTS), cpu)?;
    let gaussian = Tensor::from_vec(gaussian, (1, KNOTS), cpu)?;
    let weights = Tensor::from_vec(weights, (1, KNOTS), cpu)?;
    let phase = x.unsqueeze(2)?.broadcast_mul(&t)?;
    let real = phase.cos()?.mean(0)?.broadcast_sub(&gaussian)?;
    let imaginary = phase.sin()?.mean(0)?;
    let gap = (real.sqr()? + imaginary.sqr()?)?;
    gap.broadcast_mul(&weights)?.sum(D::Minus1)?.mean_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    fn statistic(values: Vec<f32>, n: usize, d: usize) -> Result<f32> {
        let z = Tensor::from_vec(values, (n, d), &Device::Cpu)?;
        sigreg(&z, 16, &mut fastrand::Rng::with_seed(3))?.to_scalar::<f32>()
    }

    #[test]
    fn gaussian_batches_score_near_zero_and_others_do_not() -> Result<()> {
        let mut rng = fastrand::Rng::with_seed(1);
        let (n, d) = (512, 8);
        let normal = statistic(gaussian_vec(&mut rng, n * d), n, d)?;
        let shifted = statistic(
            gaussian_vec(&mut rng, n * d)
                .iter()
                .map(|v| v + 1.0)
                .collect(),
            n,
            d,
        )?;
        let narrow = statistic(
            gaussian_vec(&mut rng, n * d)
                .iter()
                .map(|v| v * 0.2)
                .collect(),
            n,
            d,
        )?;
        let uniform = statistic((0..n * d).map(|_| 2.0 * rng.f32() - 1.0).collect(), n, d)?;
        assert!(normal < 0.01, "normal {normal}");
        for (name, value) in [
            ("shifted", shifted),
            ("narrow", narrow),
            ("uniform", uniform),
        ] {
            assert!(value > 5.0 * normal.max(1e-3), "{name} {value} vs {normal}");
        }
        Ok(())
    }

    #[test]
    fn descending_the_statistic_gaussianises_a_batch() -> Result<()> {
        let mut rng = fastrand::Rng::with_seed(2);
        let (n, d) = (256, 4);
        let start: Vec<f32> = (0..n * d).map(|_| 3.0 + 0.1 * rng.f32()).collect();
        let z = Var::from_vec(start, (n, d), &Device::Cpu)?;
        let first = sigreg(z.as_tensor(), 16, &mut rng)?.to_scalar::<f32>()?;
        for _ in 0..300 {
            let loss = sigreg(z.as_tensor(), 16, &mut rng)?;
            let grad = loss.backward()?;
            let g = grad
                .get(&z)
                .ok_or_else(|| candle_core::Error::Msg("no grad".into()))?;
            z.set(&(z.as_tensor() - (g * (n as f64 * 2.0))?)?)?;
        }
        let last = sigreg(z.as_tensor(), 16, &mut rng)?.to_scalar::<f32>()?;
        assert!(last < 0.2 * first, "{first} → {last}");
        Ok(())
    }
}
