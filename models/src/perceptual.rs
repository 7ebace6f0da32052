//! Perceptual regularisation (thesis 3.4.2; Esling, Chemla-Romeu-Santos & Bitton, DAFx 2018):
//! a training term that makes the latent distances between instrument centroids follow human
//! timbre dissimilarity ratings, in four variants, switched on after an unregularised first
//! phase (the two-step schedule), and the correlation scores `eval` reports.

use std::fmt;
use std::sync::Mutex;

use candle_core::{Device, Result, Tensor, D};

use crate::dataset::Dataset;
use crate::labels::INSTRUMENT;
use crate::timbre_ratings::TimbreRatings;

/// Epochs over which the perceptual weight ramps up once it starts.
pub const PERCEPTUAL_RAMP: usize = 5;
/// Latent distance per unit of MDS distance for the informative prior's centres: the MDS
/// positions span about ±0.5, so the centres end up about two prior σ apart.
const PRIOR_SCALE: f64 = 4.0;
/// Frames the running centroid memory counts as when blended with a batch's centroids.
const MEMORY_FRAMES: f32 = 256.0;
/// Share of a batch's centroid taken into the running memory per step (about 20 batches).
const MEMORY_RATE: f32 = 0.05;
/// Width of the Student-t affinities, as a fraction of the mean rated dissimilarity (and of the
/// mean latent centroid distance): about a 6:1 contrast between the most and least similar
/// rated pairs.
const AFFINITY_WIDTH: f64 = 0.5;

/// Which perceptual term (thesis 3.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerceptualVariant {
    /// Informative prior: each instrument's codes are pulled toward its own prior centre, placed
    /// at its MDS position (scaled) in the first three latent dimensions (the mean part of a
    /// KL divergence to that prior, on top of the usual one).
    Prior,
    /// Squared error between normalised centroid distances and normalised mean ratings.
    L2,
    /// Negative log-likelihood of the centroid distances under the Gaussian fitted to each
    /// pair's ratings.
    Gaussian,
    /// KL divergence between Student-t affinities of the ratings and of the centroids
    /// (t-SNE-like), both on distances relative to their mean, so the term is indifferent to
    /// the overall scale and vanishes when the latent distances are proportional to the
    /// ratings.
    StudentT,
}

impl PerceptualVariant {
    /// Name on the command line and in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            PerceptualVariant::Prior => "prior",
            PerceptualVariant::L2 => "l2",
            PerceptualVariant::Gaussian => "gaussian",
            PerceptualVariant::StudentT => "student-t",
        }
    }
}

/// A perceptual term in a training run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerceptualConfig {
    /// Which term.
    pub variant: PerceptualVariant,
    /// Its final weight.
    pub weight: f64,
    /// First epoch (0-based) with the term on; the epochs before train unregularised.
    pub from_epoch: usize,
}

impl PerceptualConfig {
    /// Weight of the term at `epoch` (0-based): 0 before `from_epoch`, then a linear ramp over
    /// `PERCEPTUAL_RAMP` epochs.
    pub fn weight_at(&self, epoch: usize) -> f64 {
        if epoch < self.from_epoch {
            return 0.0;
        }
        let ramp = (epoch - self.from_epoch + 1) as f64 / PERCEPTUAL_RAMP as f64;
        self.weight * ramp.min(1.0)
    }

    /// The first epoch at full weight.
    pub fn settled_epoch(&self) -> usize {
        self.from_epoch + PERCEPTUAL_RAMP
    }
}

impl fmt::Display for PerceptualConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "perceptual({}, weight={}, from epoch {})",
            self.variant.name(),
            self.weight,
            self.from_epoch + 1
        )
    }
}

/// The ratings matched to a dataset's frames.
#[derive(Debug)]
pub struct PerceptualTargets {
    /// The ratings.
    ratings: TimbreRatings,
    /// Rated instrument of each frame, when its instrument is rated.
    rated: Vec<Option<usize>>,
    /// Running mean latent point of each rated instrument over recent batches (no gradient).
    /// A batch holds a few dozen frames per instrument, whose mean wanders by about as much as
    /// the distances being shaped; blending it with this memory makes the target distances
    /// stable while the gradient still flows through the batch.
    memory: Mutex<Vec<Option<Vec<f32>>>>,
    /// Frames the memory counts as (0: no memory, each batch's centroids alone).
    memory_frames: f32,
}

impl PerceptualTargets {
    /// Match `dataset`'s instrument labels onto `ratings`; `None` when fewer than three of its
    /// instruments are rated (the distance terms need at least three).
    pub fn new(dataset: &Dataset, ratings: &TimbreRatings) -> Option<Self> {
        let column = dataset
            .label_sets
            .iter()
            .position(|l| l.name == INSTRUMENT)?;
        let rated_class = rated_classes(&dataset.label_sets[column].classes, ratings);
        let rated = dataset
            .frame_files()
            .iter()
            .map(|&f| dataset.files[f].labels[column].and_then(|c| rated_class[c]))
            .collect();
        Self::from_frames(ratings, rated)
    }

    /// Targets for frames whose rated instruments are `rated`; `None` when fewer than three
    /// instruments are rated.
    pub fn from_frames(ratings: &TimbreRatings, rated: Vec<Option<usize>>) -> Option<Self> {
        let mut seen: Vec<usize> = rated.iter().flatten().copied().collect();
        seen.sort_unstable();
        seen.dedup();
        (seen.len() >= 3).then(|| Self {
            memory: Mutex::new(vec![None; ratings.len()]),
            memory_frames: MEMORY_FRAMES,
            ratings: ratings.clone(),
            rated,
        })
    }

    /// The same targets without the running memory: each batch's centroids alone, for
    /// batches that hold every frame (full-batch optimisation, where a lagging memory would
    /// only slow the descent down).
    pub fn without_memory(mut self) -> Self {
        self.memory_frames = 0.0;
        self
    }

    /// Names of the dataset's rated instruments.
    pub fn matched(&self) -> Vec<&str> {
        let mut seen: Vec<usize> = self.rated.iter().flatten().copied().collect();
        seen.sort_unstable();
        seen.dedup();
        seen.iter()
            .map(|&i| self.ratings.instruments[i].as_str())
            .collect()
    }

    /// The term for a batch of `frames` whose latent means are `mu` (`frames × latent`), or
    /// `None` when the batch has too few rated instruments for it.
    pub fn loss(
        &self,
        variant: PerceptualVariant,
        frames: &[usize],
        mu: &Tensor,
    ) -> Result<Option<Tensor>> {
        let (rows, rated): (Vec<u32>, Vec<usize>) = frames
            .iter()
            .enumerate()
            .filter_map(|(row, &f)| self.rated[f].map(|r| (row as u32, r)))
            .unzip();
        if rows.is_empty() {
            return Ok(None);
        }
        let n = rows.len();
        let mu = mu
            .contiguous()?
            .index_select(&Tensor::from_vec(rows, n, &Device::Cpu)?, 0)?;
        if variant == PerceptualVariant::Prior {
            return self.prior_loss(&rated, &mu).map(Some);
        }
        let mut present = rated.clone();
        present.sort_unstable();
        present.dedup();
        if present.len() < 3 {
            return Ok(None);
        }
        let centroids = self.remembered(&present, centroids(&present, &rated, &mu)?, &rated)?;
        let d2 = squared_distances(&centroids)?;
        let pairs = Pairs::new(&present, &self.ratings)?;
        pairs.loss(variant, &d2).map(Some)
    }

    /// The batch's centroids blended with the running memory (weights n / (n + M) and
    /// M / (n + M) for n batch frames), and the memory updated with the batch's values.
    fn remembered(&self, present: &[usize], batch: Tensor, rated: &[usize]) -> Result<Tensor> {
        if self.memory_frames <= 0.0 {
            return Ok(batch);
        }
        let memory_frames = self.memory_frames;
        let latent = batch.dim(1)?;
        let values = batch.flatten_all()?.to_vec1::<f32>()?;
        let mut memory = self
            .memory
            .lock()
            .map_err(|_| candle_core::Error::Msg("perceptual memory poisoned".into()))?;
        let mut own = vec![0f32; present.len()];
        let mut carried = vec![0f32; present.len() * latent];
        for (c, &p) in present.iter().enumerate() {
            let n = rated.iter().filter(|&&r| r == p).count() as f32;
            let now = &values[c * latent..(c + 1) * latent];
            match &mut memory[p] {
                Some(m) => {
                    own[c] = n / (n + memory_frames);
                    for ((out, old), &v) in carried[c * latent..(c + 1) * latent]
                        .iter_mut()
                        .zip(m.iter_mut())
                        .zip(now)
                    {
                        *out = *old * memory_frames / (n + memory_frames);
                        *old += MEMORY_RATE * (v - *old);
                    }
                }
                slot @ None => {
                    own[c] = 1.0;
                    *slot = Some(now.to_vec());
                }
            }
        }
        let own = Tensor::from_vec(own, (present.len(), 1), &Device::Cpu)?;
        let carried = Tensor::from_vec(carried, (present.len(), latent), &Device::Cpu)?;
        batch.broadcast_mul(&own)? + carried
    }

    /// ½‖μ₁₋₃ − m_c‖² per frame: the mean part of a KL to an informative prior N(m_c, I) in the
    /// first three latent dimensions, whose centre m_c is the instrument's MDS position.
    fn prior_loss(&self, rated: &[usize], mu: &Tensor) -> Result<Tensor> {
        let dims = mu.dim(1)?.min(3);
        let centres: Vec<f32> = rated
            .iter()
            .flat_map(|&r| {
                self.ratings.mds[r][..dims]
                    .iter()
                    .map(|&v| (PRIOR_SCALE * v) as f32)
            })
            .collect();
        let m = Tensor::from_vec(centres, (rated.len(), dims), &Device::Cpu)?;
        ((mu.narrow(1, 0, dims)? - m)?.sqr()?.sum(D::Minus1)? * 0.5)?.mean_all()
    }
}

/// Mean latent point of each instrument in `present` (`present × latent`).
fn centroids(present: &[usize], rated: &[usize], mu: &Tensor) -> Result<Tensor> {
    let n = rated.len();
    let mut weights = vec![0f32; present.len() * n];
    for (c, p) in present.iter().enumerate() {
        let count = rated.iter().filter(|&&r| r == *p).count() as f32;
        for (row, &r) in rated.iter().enumerate() {
            if r == *p {
                weights[c * n + row] = 1.0 / count;
            }
        }
    }
    Tensor::from_vec(weights, (present.len(), n), &Device::Cpu)?.matmul(mu)
}

/// Squared Euclidean distances between the rows of `points`.
fn squared_distances(points: &Tensor) -> Result<Tensor> {
    let norms = points.sqr()?.sum_keepdim(D::Minus1)?;
    let gram = points.matmul(&points.t()?)?;
    norms
        .broadcast_add(&norms.t()?)?
        .sub(&(gram * 2.0)?)?
        .relu()
}

/// Constant matrices over the present instruments' pairs.
struct Pairs {
    /// 1 off the diagonal, 0 on it.
    mask: Tensor,
    /// Off-diagonal entries.
    count: f64,
    /// Mean ratings, normalised to mean 1 over the pairs.
    mean_normalised: Tensor,
    /// Fitted Gaussian means.
    gaussian_mean: Tensor,
    /// Mean of the fitted Gaussian means over the pairs.
    gaussian_mean_average: f64,
    /// 1 / (2σ²) of the fitted Gaussians (0 on the diagonal).
    gaussian_precision: Tensor,
    /// Normalised Student-t affinities of the ratings (0 on the diagonal).
    affinity: Tensor,
    /// Σ p log p of those affinities, so the Student-t term is the KL divergence itself
    /// (0 at a perfect match) rather than a cross-entropy.
    affinity_neg_entropy: f64,
}

impl Pairs {
    /// The matrices for `present` (rated indices).
    fn new(present: &[usize], ratings: &TimbreRatings) -> Result<Self> {
        let size = present.len();
        let n = ratings.len();
        let at = |m: &[f64], i: usize, j: usize| m[present[i] * n + present[j]];
        let off = |i: usize, j: usize| i != j;
        let matrix = |f: &dyn Fn(usize, usize) -> f64| -> Vec<f64> {
            (0..size * size)
                .map(|k| {
                    let (i, j) = (k / size, k % size);
                    if off(i, j) {
                        f(i, j)
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let count = (size * size - size) as f64;
        let mean = matrix(&|i, j| at(&ratings.mean, i, j));
        let mean_average = mean.iter().sum::<f64>() / count;
        let gaussian_mean = matrix(&|i, j| at(&ratings.gaussian_mean, i, j));
        let width = AFFINITY_WIDTH * mean_average;
        let raw_affinity = matrix(&|i, j| 1.0 / (1.0 + (at(&ratings.mean, i, j) / width).powi(2)));
        let affinity_sum: f64 = raw_affinity.iter().sum();
        let tensor = |v: Vec<f64>| {
            let v: Vec<f32> = v.into_iter().map(|x| x as f32).collect();
            Tensor::from_vec(v, (size, size), &Device::Cpu)
        };
        Ok(Self {
            mask: tensor(matrix(&|_, _| 1.0))?,
            count,
            mean_normalised: tensor(mean.iter().map(|d| d / mean_average).collect())?,
            gaussian_mean_average: gaussian_mean.iter().sum::<f64>() / count,
            gaussian_mean: tensor(gaussian_mean)?,
            gaussian_precision: tensor(matrix(&|i, j| {
                1.0 / (2.0 * at(&ratings.gaussian_std, i, j).powi(2))
            }))?,
            affinity_neg_entropy: raw_affinity
                .iter()
                .map(|a| a / affinity_sum)
                .filter(|&p| p > 0.0)
                .map(|p| p * p.ln())
                .sum(),
            affinity: tensor(raw_affinity.iter().map(|a| a / affinity_sum).collect())?,
        })
    }

    /// The term of `variant` given the centroids' squared distances.
    fn loss(&self, variant: PerceptualVariant, d2: &Tensor) -> Result<Tensor> {
        let distance = (d2 + 1e-6)?.sqrt()?.mul(&self.mask)?;
        let average = (distance.sum_all()? / self.count)?;
        match variant {
            PerceptualVariant::L2 => {
                let normalised = distance.broadcast_div(&average)?;
                normalised.sub(&self.mean_normalised)?.sqr()?.sum_all()? / self.count
            }
            PerceptualVariant::Gaussian => {
                let scaled = (distance.broadcast_div(&average)? * self.gaussian_mean_average)?;
                let error = scaled.sub(&self.gaussian_mean)?.sqr()?;
                error.mul(&self.gaussian_precision)?.sum_all()? / self.count
            }
            PerceptualVariant::StudentT => {
                // Distances scaled to the ratings' mean in kernel units: Q = P exactly when
                // the latent distances are proportional to the ratings, at any overall scale,
                // so the prior's pull toward the origin does not fight the shape.
                let scaled = distance.broadcast_div(&average)? * (1.0 / AFFINITY_WIDTH);
                let kernel = ((scaled?.sqr()? + 1.0)?.recip()?).mul(&self.mask)?;
                let q = kernel.broadcast_div(&kernel.sum_all()?)?;
                // KL(P ‖ Q) = Σ p log p − Σ p log q.
                let log_q = (q + 1e-12)?.log()?;
                log_q.mul(&self.affinity)?.sum_all()?.neg()? + self.affinity_neg_entropy
            }
            PerceptualVariant::Prior => Err(candle_core::Error::Msg(
                "the prior variant has no pairwise term".into(),
            )),
        }
    }
}

/// How well latent instrument distances follow the ratings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PerceptualScore {
    /// Spearman rank correlation between centroid distances and mean dissimilarities.
    pub spearman: f64,
    /// Pearson correlation between them.
    pub pearson: f64,
    /// Rated instruments found.
    pub instruments: usize,
}

/// Compare the distances between the centroids of `mu` (`rows × latent`) grouped by `rated`
/// (rated-instrument index per row, `None` to skip) with the ratings; `None` with fewer than
/// three rated instruments.
pub fn perceptual_score(
    mu: &[f32],
    latent: usize,
    rated: &[Option<usize>],
    ratings: &TimbreRatings,
) -> Option<PerceptualScore> {
    let centroids = class_centroids(mu, latent, rated, ratings.len());
    let present: Vec<usize> = (0..ratings.len())
        .filter(|&i| centroids[i].is_some())
        .collect();
    if present.len() < 3 {
        return None;
    }
    let (mut latent_d, mut human) = (Vec::new(), Vec::new());
    for (a, &i) in present.iter().enumerate() {
        for &j in &present[a + 1..] {
            let (ci, cj) = (centroids[i].as_ref()?, centroids[j].as_ref()?);
            latent_d.push(euclidean(ci, cj));
            human.push(ratings.dissimilarity(i, j));
        }
    }
    Some(PerceptualScore {
        spearman: pearson(&ranks(&latent_d), &ranks(&human)),
        pearson: pearson(&latent_d, &human),
        instruments: present.len(),
    })
}

/// The rated instrument of each class of an instrument label set.
pub fn rated_classes(classes: &[String], ratings: &TimbreRatings) -> Vec<Option<usize>> {
    classes.iter().map(|c| ratings.index_of(c)).collect()
}

/// Mean point of each of `classes` classes among the rows of `mu`; `None` for absent ones.
pub fn class_centroids(
    mu: &[f32],
    latent: usize,
    class: &[Option<usize>],
    classes: usize,
) -> Vec<Option<Vec<f64>>> {
    let mut sums = vec![vec![0.0; latent]; classes];
    let mut counts = vec![0usize; classes];
    for (z, c) in mu.chunks_exact(latent).zip(class) {
        if let Some(c) = *c {
            counts[c] += 1;
            sums[c]
                .iter_mut()
                .zip(z)
                .for_each(|(s, &v)| *s += f64::from(v));
        }
    }
    sums.into_iter()
        .zip(counts)
        .map(|(s, n)| (n > 0).then(|| s.iter().map(|v| v / n as f64).collect()))
        .collect()
}

/// Euclidean distance.
pub fn euclidean(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Pearson correlation (0 when either side is constant).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        return 0.0;
    }
    sab / (saa * sbb).sqrt()
}

/// Ranks from 1, ties sharing their mean rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut out = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        order[start..end].iter().for_each(|&k| out[k] = rank);
        start = end;
    }
    out
}
