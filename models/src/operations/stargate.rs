//! The "stargate" task of the operational-latent-space paper: N points along a line are
//! encoded so that one learned operator T takes every point's code to the code of its
//! successor on a ring (i → i + step mod N); with step 7 and N = 12 the ring is the circle of
//! fifths. A decoder back to the line keeps the codes from collapsing. T is a FiLMR layer, or
//! a learned square matrix (plus bias) as the baseline the paper reports failing.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use serde::Serialize;

use super::film_rotation::FilmRotation;
use super::mlp::Mlp;
use crate::adam::{named_vars, Adam};
use crate::random::gaussian_vec;
use crate::vae::seeded_init;

/// The operator that should walk the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Operator {
    /// FiLM plus a rotation in a learned plane.
    FilmRotation,
    /// A learned square matrix and bias, started at the identity.
    Matrix,
}

/// The task and its training.
#[derive(Debug, Clone, Serialize)]
pub struct StargateConfig {
    /// Points on the line (and on the ring).
    pub points: usize,
    /// Dimensions of the line's space and of the codes.
    pub dims: usize,
    /// Successor of point i: i + step (mod points); 1 walks the ring in order, 7 of 12 is
    /// the circle of fifths.
    pub step: usize,
    /// Width of the encoder's and decoder's hidden layers.
    pub hidden: usize,
    /// Full-batch Adam steps.
    pub iterations: usize,
    /// Adam learning rate (decayed to 0 along a cosine).
    pub lr: f64,
    /// Trainings from different initialisations; the lowest final loss wins.
    pub restarts: usize,
    /// Initialisation of the first restart and the line's direction.
    pub seed: u64,
}

impl Default for StargateConfig {
    fn default() -> Self {
        Self {
            points: 12,
            dims: 2,
            step: 1,
            hidden: 64,
            iterations: 8000,
            lr: 3e-3,
            restarts: 4,
            seed: 0,
        }
    }
}

/// How well the operator walks the ring after training.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StargateScores {
    /// Largest distance between T(code of i) and the code of i's successor, over the points,
    /// as a share of the ring's radius (mean distance of the codes from their centre).
    pub worst_error: f64,
    /// Mean of the same distances.
    pub mean_error: f64,
    /// Spread of the codes' distances from their centre, as a share of the radius (0 on a
    /// perfect circle).
    pub radius_spread: f64,
    /// FiLMR's rotation angle in degrees (none for the matrix).
    pub angle_degrees: Option<f64>,
    /// The line's points decoded from their codes: worst error as a share of the line's
    /// spacing.
    pub decoding_error: f64,
}

/// The operator's layer.
enum Walker {
    Film(FilmRotation),
    Matrix { weight: Var, bias: Var },
}

impl Walker {
    fn new(operator: Operator, dims: usize, rng: &mut fastrand::Rng) -> candle_core::Result<Self> {
        Ok(match operator {
            Operator::FilmRotation => Walker::Film(FilmRotation::new(dims, rng)?),
            Operator::Matrix => Walker::Matrix {
                weight: Var::from_tensor(&Tensor::eye(dims, DType::F32, &Device::Cpu)?)?,
                bias: Var::zeros(dims, DType::F32, &Device::Cpu)?,
            },
        })
    }

    fn vars(&self) -> Vec<(String, Var)> {
        match self {
            Walker::Film(f) => f.vars(),
            Walker::Matrix { weight, bias } => vec![
                ("matrix.weight".into(), weight.clone()),
                ("matrix.bias".into(), bias.clone()),
            ],
        }
    }

    fn forward(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Walker::Film(f) => f.forward(z),
            Walker::Matrix { weight, bias } => z
                .matmul(&weight.as_tensor().t()?)?
                .broadcast_add(bias.as_tensor()),
        }
    }
}

/// The line's points: evenly spaced from −1 to 1 along a random unit direction.
fn line_points(config: &StargateConfig, rng: &mut fastrand::Rng) -> candle_core::Result<Tensor> {
    let direction = gaussian_vec(rng, config.dims);
    let norm = direction
        .iter()
        .map(|d| d * d)
        .sum::<f32>()
        .sqrt()
        .max(1e-12);
    let n = config.points;
    let values: Vec<f32> = (0..n)
        .flat_map(|i| {
            let t = 2.0 * i as f32 / (n - 1) as f32 - 1.0;
            direction.iter().map(move |d| t * d / norm)
        })
        .collect();
    Tensor::from_vec(values, (n, config.dims), &Device::Cpu)
}

/// Row i: the successor's index.
fn successors(config: &StargateConfig) -> candle_core::Result<Tensor> {
    let n = config.points;
    let next: Vec<u32> = (0..n).map(|i| ((i + config.step) % n) as u32).collect();
    Tensor::from_vec(next, n, &Device::Cpu)
}

/// Squared distances of rows of `a` and `b`, (points,).
fn squared_distances(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    (a - b)?.sqr()?.sum(1)
}

/// What one training run leaves.
struct Run {
    /// Its scores.
    scores: StargateScores,
    /// Its final training loss over the whole turn, which picks the best restart.
    loss: f64,
}

/// The training loss's parts at a horizon.
struct Terms {
    /// Codes of the line's points.
    codes: Tensor,
    /// Mean squared distance of the codes from their centre.
    radius2: Tensor,
    /// Per point: squared distance of T(code) from the successor's code.
    walk: Tensor,
    /// Mean over k ≤ horizon of the squared distance of T^k(code) from the k-th successor's.
    walks: Tensor,
    /// Per point: squared distance of the decoded code from the point.
    recon: Tensor,
}

impl Terms {
    /// Scale-free walking error, plus the decoder that keeps the codes apart.
    fn loss(&self) -> candle_core::Result<Tensor> {
        self.walks.broadcast_div(&(&self.radius2 + 1e-9)?)? + self.recon.mean_all()?
    }
}

/// Trains encoder, decoder and `operator` on the task from `config.restarts` initialisations
/// and returns the scores of the one with the lowest final training loss (the angle of a
/// rotation has many local minima; restarts are how such layers are usually trained).
pub fn train_stargate(
    config: &StargateConfig,
    operator: Operator,
) -> candle_core::Result<StargateScores> {
    if config.points < 3 || config.dims < 2 || config.step.is_multiple_of(config.points) {
        return Err(candle_core::Error::Msg(
            "the stargate needs at least 3 points, 2 dimensions and a step that moves".into(),
        ));
    }
    let mut best: Option<Run> = None;
    for restart in 0..config.restarts.max(1) as u64 {
        let run = train_once(config, operator, config.seed.wrapping_mul(1000) + restart)?;
        if best.as_ref().is_none_or(|b| run.loss < b.loss) {
            best = Some(run);
        }
    }
    best.map(|b| b.scores)
        .ok_or_else(|| candle_core::Error::Msg("no run".into()))
}

/// One training run from `seed`.
fn train_once(config: &StargateConfig, operator: Operator, seed: u64) -> candle_core::Result<Run> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let encoder = Mlp::new(config.dims, config.hidden, config.dims, vb.pp("encoder"))?;
    let decoder = Mlp::new(config.dims, config.hidden, config.dims, vb.pp("decoder"))?;
    seeded_init(&varmap, seed)?;
    let walker = Walker::new(operator, config.dims, &mut rng)?;
    let mut vars = named_vars(&varmap)?;
    vars.extend(walker.vars());
    let mut adam = Adam::new(vars, config.lr)?;
    // The line is the same for every restart.
    let x = line_points(config, &mut fastrand::Rng::with_seed(config.seed))?;
    let next = successors(config)?;
    let terms = |horizon: usize| -> candle_core::Result<Terms> {
        let codes = encoder.forward(&x)?;
        let centre = codes.mean_keepdim(0)?;
        let radius2 = codes.broadcast_sub(&centre)?.sqr()?.sum(1)?.mean_all()?;
        // T applied k times must reach the k-th successor: over a whole turn a spiral
        // (T^N ≠ 1) cannot satisfy that, a closed orbit can.
        let (mut stepped, mut target) = (codes.clone(), codes.clone());
        let mut walks = Vec::with_capacity(horizon);
        for _ in 0..horizon.max(1) {
            stepped = walker.forward(&stepped)?;
            target = target.index_select(&next, 0)?;
            walks.push(squared_distances(&stepped, &target)?);
        }
        let recon = squared_distances(&decoder.forward(&codes)?, &x)?;
        Ok(Terms {
            walk: walks[0].clone(),
            walks: Tensor::stack(&walks, 0)?.mean_all()?,
            codes,
            radius2,
            recon,
        })
    };
    for i in 0..config.iterations {
        let progress = i as f64 / config.iterations as f64;
        // Cosine decay of the learning rate, to settle on the exact orbit.
        adam.lr = config.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        // The horizon grows from one step to a whole turn over the first half: one step
        // finds a rough orbit, the whole turn closes it.
        let horizon = 1 + ((config.points - 1) as f64 * (2.0 * progress).min(1.0)) as usize;
        adam.step(&terms(horizon)?.loss()?.backward()?)?;
    }
    let last = terms(config.points)?;
    let loss = f64::from(last.loss()?.to_scalar::<f32>()?);
    let radius = f64::from(last.radius2.to_scalar::<f32>()?)
        .sqrt()
        .max(1e-12);
    let errors: Vec<f64> = last
        .walk
        .to_vec1::<f32>()?
        .into_iter()
        .map(|d| f64::from(d).sqrt() / radius)
        .collect();
    let centre = last.codes.mean_keepdim(0)?;
    let distances: Vec<f64> = last
        .codes
        .broadcast_sub(&centre)?
        .sqr()?
        .sum(1)?
        .to_vec1::<f32>()?
        .into_iter()
        .map(|d| f64::from(d).sqrt())
        .collect();
    let mean_distance = distances.iter().sum::<f64>() / distances.len() as f64;
    let spread = (distances
        .iter()
        .map(|d| (d - mean_distance).powi(2))
        .sum::<f64>()
        / distances.len() as f64)
        .sqrt();
    let spacing = 2.0 / (config.points - 1) as f64;
    let worst_recon = last
        .recon
        .to_vec1::<f32>()?
        .into_iter()
        .fold(0f64, |m, d| m.max(f64::from(d).sqrt()));
    let scores = StargateScores {
        worst_error: errors.iter().copied().fold(0.0, f64::max),
        mean_error: errors.iter().sum::<f64>() / errors.len() as f64,
        radius_spread: spread / mean_distance.max(1e-12),
        angle_degrees: match &walker {
            Walker::Film(f) => Some(f.angle()?.to_degrees()),
            Walker::Matrix { .. } => None,
        },
        decoding_error: worst_recon / spacing,
    };
    Ok(Run { scores, loss })
}
