//! Training objectives: the Gaussian reconstruction term plus one latent regulariser — β-KL
//! with warm-up, MMD to the prior on the aggregated posterior (WAE), or the Rényi-α divergence.

use std::fmt;

use candle_core::{Result, Tensor, D};

/// Kernel of the MMD regulariser; C = 2·latent (the WAE choice for a unit Gaussian prior).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmdKernel {
    /// exp(−‖x−y‖²/C).
    Rbf,
    /// C/(C + ‖x−y‖²), heavier tails (WAE's recommendation).
    Imq,
}

/// The latent regulariser and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regularizer {
    /// β·KL(q(z|x) ‖ N(0, I)), β ramped from 0 over `warmup` epochs.
    Kl {
        /// Final weight.
        beta: f64,
        /// Epochs of linear warm-up (0 for none).
        warmup: usize,
    },
    /// λ·MMD(q(z), N(0, I)) on sampled codes of the batch.
    Mmd {
        /// Weight.
        lambda: f64,
        /// Kernel.
        kernel: MmdKernel,
    },
    /// β·D_α(q(z|x) ‖ N(0, I)) in closed form for Gaussians, with warm-up like KL.
    Renyi {
        /// Order α > 0, α ≠ 1 (α → 1 is KL).
        alpha: f64,
        /// Final weight.
        beta: f64,
        /// Epochs of linear warm-up.
        warmup: usize,
    },
}

impl fmt::Display for Regularizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Regularizer::Kl { beta, warmup } => write!(f, "kl(beta={beta}, warmup={warmup})"),
            Regularizer::Mmd { lambda, kernel } => {
                write!(f, "mmd(lambda={lambda}, kernel={kernel:?})")
            }
            Regularizer::Renyi {
                alpha,
                beta,
                warmup,
            } => write!(f, "renyi(alpha={alpha}, beta={beta}, warmup={warmup})"),
        }
    }
}

impl Regularizer {
    /// Weight of the regulariser at `epoch` (0-based), after warm-up.
    pub fn weight(&self, epoch: usize) -> f64 {
        let ramp = |beta: f64, warmup: usize| {
            if warmup == 0 {
                beta
            } else {
                beta * ((epoch + 1) as f64 / warmup as f64).min(1.0)
            }
        };
        match *self {
            Regularizer::Kl { beta, warmup } | Regularizer::Renyi { beta, warmup, .. } => {
                ramp(beta, warmup)
            }
            Regularizer::Mmd { lambda, .. } => lambda,
        }
    }

    /// Epochs before the weight reaches its final value.
    pub fn warmup(&self) -> usize {
        match *self {
            Regularizer::Kl { warmup, .. } | Regularizer::Renyi { warmup, .. } => warmup,
            Regularizer::Mmd { .. } => 0,
        }
    }

    /// Mean regulariser value per example (unweighted).
    pub fn value(
        &self,
        mu: &Tensor,
        logvar: &Tensor,
        z: &Tensor,
        prior: &Tensor,
    ) -> Result<Tensor> {
        match *self {
            Regularizer::Kl { .. } => kl_to_prior(mu, logvar),
            Regularizer::Mmd { kernel, .. } => mmd(z, prior, kernel),
            Regularizer::Renyi { alpha, .. } => renyi_to_prior(mu, logvar, alpha),
        }
    }
}

/// Mean over the batch of ‖x − x̂‖² / (2σ²), the Gaussian −log p(x|z) without its constant.
pub fn reconstruction(x: &Tensor, x_hat: &Tensor, sigma: f64) -> Result<Tensor> {
    (x - x_hat)?.sqr()?.sum(D::Minus1)?.mean_all()? / (2.0 * sigma * sigma)
}

/// Mean over the batch of KL(N(μ, σ²) ‖ N(0, I)).
pub fn kl_to_prior(mu: &Tensor, logvar: &Tensor) -> Result<Tensor> {
    let terms = ((mu.sqr()? + logvar.exp()?)? - logvar)?.affine(0.5, -0.5)?;
    terms.sum(D::Minus1)?.mean_all()
}

/// Mean over the batch of the Rényi divergence D_α(N(μ, σ²) ‖ N(0, I)), per dimension
/// α μ²/(2σ²_α) − ln(σ²_α / σ^{2(1−α)}) / (2(α−1)) with σ²_α = α + (1−α)σ².
pub fn renyi_to_prior(mu: &Tensor, logvar: &Tensor, alpha: f64) -> Result<Tensor> {
    let var = logvar.exp()?;
    let var_alpha = var.affine(1.0 - alpha, alpha)?.clamp(1e-6, f64::INFINITY)?;
    let mean_term = (mu.sqr()? / &var_alpha)?.affine(alpha / 2.0, 0.0)?;
    let log_term = (var_alpha.log()? - logvar.affine(1.0 - alpha, 0.0)?)?
        .affine(-1.0 / (2.0 * (alpha - 1.0)), 0.0)?;
    (mean_term + log_term)?.sum(D::Minus1)?.mean_all()
}

/// Squared MMD between samples `z` and prior samples `p` (both `(batch, latent)`), biased
/// estimate with kernel constant C = 2·latent.
pub fn mmd(z: &Tensor, p: &Tensor, kernel: MmdKernel) -> Result<Tensor> {
    let c = 2.0 * z.dim(1)? as f64;
    let k = |a: &Tensor, b: &Tensor| -> Result<Tensor> {
        let d = pairwise_sq_distances(a, b)?;
        match kernel {
            MmdKernel::Rbf => d.affine(-1.0 / c, 0.0)?.exp()?.mean_all(),
            MmdKernel::Imq => d.affine(1.0 / c, 1.0)?.recip()?.mean_all(),
        }
    };
    (k(z, z)? + k(p, p)?)? - k(z, p)?.affine(2.0, 0.0)?
}

/// ‖a_i − b_j‖² for every pair of rows.
fn pairwise_sq_distances(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let a2 = a.sqr()?.sum_keepdim(1)?;
    let b2 = b.sqr()?.sum_keepdim(1)?.t()?;
    let ab = a.matmul(&b.t()?)?;
    a2.broadcast_add(&b2)?
        .broadcast_sub(&ab.affine(2.0, 0.0)?)?
        .relu()
}
