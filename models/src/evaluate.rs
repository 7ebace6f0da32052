//! `timbrespace eval`: reconstruction scores of the VAE and of PCA with the same number of
//! dimensions on the test split, latent-space scores, and linear-probe accuracy per label.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use serde::Serialize;
use timbrespace_engine::model::{ModelFile, Scaling};

use crate::dataset::{Dataset, Split};
use crate::export::encode_means;
use crate::factorisation::{ShiftGeometry, ShiftMoves, BINS_PER_OCTAVE};
use crate::labels::INSTRUMENT;
use crate::linalg::{mean_and_covariance, top_eigen};
use crate::objective::{kl_to_prior, mmd, MmdKernel};
use crate::perceptual::{perceptual_score, rated_classes, PerceptualScore};
use crate::random::gaussian_vec;
use crate::timbre_ratings::{family, TimbreRatings, FAMILIES};
use crate::train::gather;
use crate::vae::Vae;

/// Test frames used for the MMD estimate (its cost is quadratic).
const MMD_POINTS: usize = 2000;
/// Test frames the pitch geometry is measured on.
const GEOMETRY_FRAMES: usize = 2000;
/// Largest transposition the pitch geometry probes, in log-frequency bins (half an octave).
const GEOMETRY_SHIFT: usize = 12;
/// Subspace-iteration steps for the PCA baseline.
const PCA_ITERATIONS: usize = 40;

/// Reconstruction scores of one method on the test split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReconScores {
    /// Mean −log p(x|z) per frame in nats, under the model's Gaussian decoder (scaled domain).
    pub nll: f64,
    /// Mean Euclidean distance per frame in the scaled domain.
    pub l2: f64,
    /// Spectral convergence over all test frames in dB (linear magnitudes; lower is better).
    pub spectral_convergence_db: f64,
    /// Mean Itakura–Saito divergence per bin of the power spectra.
    pub itakura_saito: f64,
    /// Mean |ln X − ln X̂| per bin.
    pub log_spectral_l1: f64,
}

/// Linear-probe result for one label kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeScore {
    /// Test accuracy of softmax regression on the latent means.
    pub accuracy: f64,
    /// Accuracy of always answering the most common training class.
    pub chance: f64,
    /// Classes present.
    pub classes: usize,
    /// Test frames with this label.
    pub frames: usize,
}

/// Everything `eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Latent size (and PCA components).
    pub latent: usize,
    /// Test frames scored.
    pub test_frames: usize,
    /// The VAE, decoding posterior means.
    pub vae: ReconScores,
    /// PCA fitted on the training frames, same dimensions.
    pub pca: ReconScores,
    /// Mean KL(q(z|x) ‖ N(0, I)) per test frame.
    pub latent_kl: f64,
    /// MMD² (RBF) between sampled test codes and the prior.
    pub latent_mmd: f64,
    /// Linear-probe accuracy per label kind (and `family`, derived from known instruments).
    pub probes: BTreeMap<String, ProbeScore>,
    /// How the instrument centroids of all frames (training and test) follow the human timbre
    /// ratings, when at least three instruments are rated.
    pub perceptual: Option<PerceptualScore>,
    /// The same with centroids of the test frames only (noisier: a few dozen notes each).
    pub perceptual_held_out: Option<PerceptualScore>,
    /// How transposing test frames moves their codes (the soft factorisation's metrics).
    pub pitch_geometry: ShiftGeometry,
    /// Those moves on their first two principal axes, with their shifts in bins (for the plot).
    #[serde(skip)]
    pub pitch_moves: Vec<(f64, f64, i32)>,
}

impl EvalReport {
    /// How many dB the VAE's spectral convergence beats PCA's.
    pub fn sc_gain_db(&self) -> f64 {
        self.pca.spectral_convergence_db - self.vae.spectral_convergence_db
    }
}

/// Score `model` on `dataset`'s test split.
pub fn evaluate(
    model: &ModelFile,
    dataset: &Dataset,
    split: &Split,
    ratings: &TimbreRatings,
    seed: u64,
) -> candle_core::Result<EvalReport> {
    let arch = &model.manifest.architecture;
    let vae = Vae::from_tensors(arch, &model.tensors)?;
    let sigma = f64::from(arch.sigma);
    let scaling = model.manifest.scaling;
    let test: Vec<f32> = split
        .test
        .iter()
        .flat_map(|&i| dataset.frame(i).iter().copied())
        .collect();
    let mut vae_out = Vec::with_capacity(test.len());
    let (mut kl_sum, mut mu_all, mut logvar_all) = (0.0, Vec::new(), Vec::new());
    for chunk in split.test.chunks(1024) {
        let x = gather(dataset, chunk)?;
        let (mu, logvar) = vae.encode(&x)?;
        vae_out.extend(vae.decode(&mu)?.flatten_all()?.to_vec1::<f32>()?);
        kl_sum += f64::from(kl_to_prior(&mu, &logvar)?.to_scalar::<f32>()?) * chunk.len() as f64;
        mu_all.extend(mu.flatten_all()?.to_vec1::<f32>()?);
        logvar_all.extend(logvar.flatten_all()?.to_vec1::<f32>()?);
    }
    let latent = arch.latent;
    let n_test = split.test.len();
    let train: Vec<f32> = split
        .train
        .iter()
        .flat_map(|&i| dataset.frame(i).iter().copied())
        .collect();
    let pca_out = pca_reconstruct(&train, &test, dataset.bins, latent, seed);
    let mut rng = fastrand::Rng::with_seed(seed);
    let m = n_test.min(MMD_POINTS);
    let eps = gaussian_vec(&mut rng, m * latent);
    let sampled: Vec<f32> = (0..m * latent)
        .map(|i| mu_all[i] + (0.5 * logvar_all[i]).exp() * eps[i])
        .collect();
    let prior = gaussian_vec(&mut rng, m * latent);
    let latent_mmd = f64::from(
        mmd(
            &Tensor::from_vec(sampled, (m, latent), &Device::Cpu)?,
            &Tensor::from_vec(prior, (m, latent), &Device::Cpu)?,
            MmdKernel::Rbf,
        )?
        .to_scalar::<f32>()?,
    );
    let train_mu = encode_means(&vae, dataset, &split.train)?;
    let owner = dataset.frame_files();
    let labels_of = |indices: &[usize], k: usize| -> Vec<Option<usize>> {
        indices
            .iter()
            .map(|&i| dataset.files[owner[i]].labels[k])
            .collect()
    };
    let mut probes = BTreeMap::new();
    for (k, set) in dataset.label_sets.iter().enumerate() {
        if let Some(score) = linear_probe(
            &train_mu,
            &labels_of(&split.train, k),
            &mu_all,
            &labels_of(&split.test, k),
            latent,
            set.classes.len(),
        ) {
            probes.insert(set.name.clone(), score);
        }
    }
    let (mut perceptual, mut perceptual_held_out) = (None, None);
    if let Some(k) = dataset.label_sets.iter().position(|l| l.name == INSTRUMENT) {
        let classes = &dataset.label_sets[k].classes;
        let families: Vec<Option<usize>> = classes.iter().map(|c| family(c)).collect();
        let map = |labels: Vec<Option<usize>>, to: &[Option<usize>]| -> Vec<Option<usize>> {
            labels.into_iter().map(|l| l.and_then(|c| to[c])).collect()
        };
        let family_of = |indices: &[usize]| map(labels_of(indices, k), &families);
        if let Some(score) = linear_probe(
            &train_mu,
            &family_of(&split.train),
            &mu_all,
            &family_of(&split.test),
            latent,
            FAMILIES.len(),
        ) {
            probes.insert("family".into(), score);
        }
        let rated_of =
            |indices: &[usize]| map(labels_of(indices, k), &rated_classes(classes, ratings));
        let held_out = rated_of(&split.test);
        perceptual_held_out = perceptual_score(&mu_all, latent, &held_out, ratings);
        let every_mu: Vec<f32> = train_mu.iter().chain(&mu_all).copied().collect();
        let every: Vec<Option<usize>> =
            rated_of(&split.train).into_iter().chain(held_out).collect();
        perceptual = perceptual_score(&every_mu, latent, &every, ratings);
    }
    let measured = n_test.min(GEOMETRY_FRAMES);
    let moves = ShiftMoves::measure(
        &test[..measured * dataset.bins],
        dataset.bins,
        GEOMETRY_SHIFT,
        BINS_PER_OCTAVE,
        &|x| Ok(vae.encode(x)?.0),
    )?;
    let pitch_geometry = moves.geometry(seed);
    let pitch_moves = moves.principal_plane();
    Ok(EvalReport {
        pitch_geometry,
        pitch_moves,
        latent,
        test_frames: n_test,
        vae: recon_scores(&test, &vae_out, dataset.bins, sigma, scaling),
        pca: recon_scores(&test, &pca_out, dataset.bins, sigma, scaling),
        latent_kl: kl_sum / n_test.max(1) as f64,
        latent_mmd,
        probes,
        perceptual,
        perceptual_held_out,
    })
}

/// The top `k` principal components of `train` (`n × bins`) and its mean.
pub struct PcaBasis {
    /// Mean frame.
    mean: Vec<f64>,
    /// `k × bins` orthonormal rows.
    basis: crate::linalg::Matrix,
}

impl PcaBasis {
    /// Fit on `train`.
    pub fn fit(train: &[f32], bins: usize, k: usize, seed: u64) -> Self {
        let (mean, cov) = mean_and_covariance(train, bins);
        let (_, basis) = top_eigen(&cov, k, PCA_ITERATIONS, seed);
        Self { mean, basis }
    }

    /// The `k` coefficients of each frame of `x`, `n × k`.
    pub fn codes(&self, x: &[f32]) -> Vec<f32> {
        let bins = self.mean.len();
        let mut out = Vec::with_capacity(x.len() / bins * self.basis.rows);
        for frame in x.chunks_exact(bins) {
            for r in 0..self.basis.rows {
                let coef: f64 = self
                    .basis
                    .row(r)
                    .iter()
                    .zip(frame)
                    .zip(&self.mean)
                    .map(|((b, &v), m)| b * (f64::from(v) - m))
                    .sum();
                out.push(coef as f32);
            }
        }
        out
    }
}

/// Project `test` onto the top `k` principal components of `train` and back.
pub fn pca_reconstruct(train: &[f32], test: &[f32], bins: usize, k: usize, seed: u64) -> Vec<f32> {
    let pca = PcaBasis::fit(train, bins, k, seed);
    let codes = pca.codes(test);
    let mut out = Vec::with_capacity(test.len());
    for coefs in codes.chunks_exact(k.max(1)) {
        let mut y = pca.mean.clone();
        for (r, &coef) in coefs.iter().enumerate() {
            for (yv, &b) in y.iter_mut().zip(pca.basis.row(r)) {
                *yv += f64::from(coef) * b;
            }
        }
        out.extend(y.iter().map(|&v| v as f32));
    }
    out
}

/// Scores of reconstructions `x_hat` of `x` (both scaled, `n × bins`).
pub fn recon_scores(
    x: &[f32],
    x_hat: &[f32],
    bins: usize,
    sigma: f64,
    scaling: Scaling,
) -> ReconScores {
    let n = (x.len() / bins).max(1) as f64;
    let floor = 1.0 / f64::from(scaling.gain);
    let (mut sq, mut l2, mut err, mut energy, mut is, mut lsd) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (a, b) in x.chunks_exact(bins).zip(x_hat.chunks_exact(bins)) {
        let frame_sq: f64 = a
            .iter()
            .zip(b)
            .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
            .sum();
        sq += frame_sq;
        l2 += frame_sq.sqrt();
        for (&p, &q) in a.iter().zip(b) {
            let (mp, mq) = (f64::from(scaling.expand(p)), f64::from(scaling.expand(q)));
            err += (mp - mq).powi(2);
            energy += mp * mp;
            let ratio = (mp * mp + floor * floor) / (mq * mq + floor * floor);
            is += ratio - ratio.ln() - 1.0;
            lsd += ((mp + floor).ln() - (mq + floor).ln()).abs();
        }
    }
    let cells = n * bins as f64;
    ReconScores {
        nll: sq / n / (2.0 * sigma * sigma)
            + 0.5 * bins as f64 * (std::f64::consts::TAU * sigma * sigma).ln(),
        l2: l2 / n,
        spectral_convergence_db: 10.0 * (err / energy.max(f64::MIN_POSITIVE)).max(1e-30).log10(),
        itakura_saito: is / cells,
        log_spectral_l1: lsd / cells,
    }
}

/// Softmax regression from standardised latent means; `None` when fewer than two classes
/// appear in training or no test frame is labelled.
pub fn linear_probe(
    train_x: &[f32],
    train_y: &[Option<usize>],
    test_x: &[f32],
    test_y: &[Option<usize>],
    dim: usize,
    classes: usize,
) -> Option<ProbeScore> {
    let rows = |x: &[f32], y: &[Option<usize>]| -> Vec<(Vec<f64>, usize)> {
        x.chunks_exact(dim)
            .zip(y)
            .filter_map(|(r, l)| l.map(|c| (r.iter().map(|&v| f64::from(v)).collect(), c)))
            .collect()
    };
    let (train, test) = (rows(train_x, train_y), rows(test_x, test_y));
    let mut counts = vec![0usize; classes];
    train.iter().for_each(|(_, c)| counts[*c] += 1);
    if counts.iter().filter(|&&c| c > 0).count() < 2 || test.is_empty() {
        return None;
    }
    let n = train.len() as f64;
    let mean: Vec<f64> = (0..dim)
        .map(|j| train.iter().map(|(x, _)| x[j]).sum::<f64>() / n)
        .collect();
    let std: Vec<f64> = (0..dim)
        .map(|j| {
            (train
                .iter()
                .map(|(x, _)| (x[j] - mean[j]).powi(2))
                .sum::<f64>()
                / n)
                .sqrt()
                .max(1e-9)
        })
        .collect();
    let standardise = |x: &[f64]| -> Vec<f64> {
        x.iter()
            .zip(&mean)
            .zip(&std)
            .map(|((v, m), s)| (v - m) / s)
            .chain([1.0])
            .collect()
    };
    let train_s: Vec<(Vec<f64>, usize)> = train.iter().map(|(x, c)| (standardise(x), *c)).collect();
    let width = dim + 1;
    let mut w = vec![0.0; classes * width];
    let mut grad = vec![0.0; classes * width];
    let mut p = vec![0.0; classes];
    // Full-batch gradient descent with a little L2; the problem is convex and small.
    for _ in 0..300 {
        grad.fill(0.0);
        for (x, c) in &train_s {
            softmax(&w, x, &mut p);
            for k in 0..classes {
                let g = p[k] - if k == *c { 1.0 } else { 0.0 };
                for (gv, xv) in grad[k * width..(k + 1) * width].iter_mut().zip(x) {
                    *gv += g * xv;
                }
            }
        }
        for (wv, gv) in w.iter_mut().zip(&grad) {
            *wv -= 1.0 * (gv / n + 1e-4 * *wv);
        }
    }
    let correct = test
        .iter()
        .filter(|(x, c)| {
            softmax(&w, &standardise(x), &mut p);
            p.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(k, _)| k)
                == Some(*c)
        })
        .count();
    let majority = counts
        .iter()
        .enumerate()
        .max_by_key(|(_, &c)| c)
        .map_or(0, |(k, _)| k);
    Some(ProbeScore {
        accuracy: correct as f64 / test.len() as f64,
        chance: test.iter().filter(|(_, c)| *c == majority).count() as f64 / test.len() as f64,
        classes: counts.iter().filter(|&&c| c > 0).count(),
        frames: test.len(),
    })
}

/// Class probabilities of `x` under weights `w` (`classes × len(x)`).
fn softmax(w: &[f64], x: &[f64], p: &mut [f64]) {
    for (k, pk) in p.iter_mut().enumerate() {
        *pk = w[k * x.len()..(k + 1) * x.len()]
            .iter()
            .zip(x)
            .map(|(a, b)| a * b)
            .sum();
    }
    let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in p.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    p.iter_mut().for_each(|v| *v /= sum);
}
