//! The multi-frame patch model, where both halves of the soft factorisation exist: a VAE of the
//! main models' MLP shape over patches of `frames` consecutive log-frequency frames from each
//! note's start, trained with the soft factorisation term over transpositions (whole
//! log-frequency bins) and time shifts (whole frames), both exact, zero-filled and never
//! wrapping, and optionally SIGReg on the batch's codes. The encoder reads its patches
//! through a Gaussian blur along log-frequency (see [`PatchConfig::blur`]).

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::Serialize;
use timbrespace_engine::model::manifest::{ArchKind, Architecture};

use super::grid::{GridGeometry, ShiftGrid};
use super::log_frequency::{EncoderBlur, LogFrequency, LogFrequencyError};
use super::loss::{soft_loss, ShiftViews};
use super::sigreg::sigreg;
use crate::adam::Adam;
use crate::batches::{mean, shuffled_epochs};
use crate::dataset::Dataset;
use crate::evaluate::recon_scores;
use crate::objective::{kl_to_prior, reconstruction};
use crate::random::gaussian_vec;
use crate::vae::{seeded_init, Vae, DEFAULT_SIGMA};

/// Weight of reconstructing each shifted view from its own code: the encoder must read
/// shifted patches as well as it reads anchors, or their moves measure its confusion.
const OWN_VIEW_WEIGHT: f64 = 0.5;
/// Training patches start at a random one of each note's first frames (the test patches at
/// its first), so the model sees attacks at several places.
const MAX_START: usize = 4;
/// Random directions SIGReg projects on.
const SIGREG_PROJECTIONS: usize = 32;

/// Settings of the patch model and its training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatchConfig {
    /// Frames per patch.
    pub frames: usize,
    /// Latent size.
    pub latent: usize,
    /// Hidden width of the encoder and decoder.
    pub hidden: usize,
    /// Weight of the soft factorisation term (0: the model without it).
    pub weight: f64,
    /// Largest transposition, in log-frequency bins.
    pub max_pitch: usize,
    /// Largest time shift, in frames.
    pub max_time: usize,
    /// Weight of SIGReg on the codes (0: off).
    pub sigreg: f64,
    /// Standard deviation, in log-frequency bins, of the Gaussian blur along log-frequency the
    /// encoder sees its patches through (0: none; the decoder still predicts the sharp patch).
    pub blur: f64,
    /// Weight of the KL term.
    pub beta: f64,
    /// Passes over the notes.
    pub epochs: usize,
    /// Patches per step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed of the weights, batches and shifts.
    pub seed: u64,
}

impl Default for PatchConfig {
    fn default() -> Self {
        Self {
            frames: 16,
            latent: 16,
            hidden: 512,
            weight: 30000.0,
            max_pitch: 12,
            max_time: 4,
            sigreg: 0.0,
            blur: 4.0,
            beta: 1.0,
            epochs: 200,
            batch: 64,
            lr: 1e-3,
            seed: 0,
        }
    }
}

/// Why the patch model could not be trained or scored.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// candle failed.
    #[error("patch model failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The log-frequency grid does not fit the STFT.
    #[error(transparent)]
    Grid(#[from] LogFrequencyError),
    /// No notes to learn from or to score.
    #[error("no notes to make patches from")]
    NoNotes,
    /// A setting is out of range.
    #[error("{0}")]
    Setting(String),
}

/// Notes as log-frequency frames, cut into patches on demand.
pub struct PatchSet {
    /// Per note, its frames' log-frequency views (`frames × bins`, row-major).
    notes: Vec<Vec<f32>>,
    /// Per note, the dataset frames the views came from (for scores on the STFT).
    sources: Vec<std::ops::Range<usize>>,
    /// Frames per patch.
    frames: usize,
    /// Log-frequency bins per frame.
    bins: usize,
}

impl PatchSet {
    /// The notes of `files` of `dataset` seen through `grid`, cut into `frames`-frame patches.
    pub fn new(dataset: &Dataset, files: &[usize], grid: &LogFrequency, frames: usize) -> Self {
        let bins = grid.bins();
        let (mut notes, mut sources) = (Vec::new(), Vec::new());
        for &f in files {
            let range = dataset.files[f].frames.clone();
            if range.is_empty() {
                continue;
            }
            notes.push(grid.views(range.clone().map(|i| dataset.frame(i))));
            sources.push(range);
        }
        Self {
            notes,
            sources,
            frames,
            bins,
        }
    }

    /// Notes held.
    pub fn len(&self) -> usize {
        self.notes.len()
    }

    /// Whether no note is held.
    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }

    /// Values per patch.
    fn size(&self) -> usize {
        self.frames * self.bins
    }

    /// Note `n`'s patch from frame `start`, zero past its end, appended to `out`.
    fn push_patch(&self, n: usize, start: usize, out: &mut Vec<f32>) {
        let note = &self.notes[n];
        let available = (note.len() / self.bins)
            .saturating_sub(start)
            .min(self.frames);
        out.extend_from_slice(&note[start * self.bins..(start + available) * self.bins]);
        out.resize(out.len() + (self.frames - available) * self.bins, 0.0);
    }

    /// Every note's patch from its first frame, `len × frames × bins`.
    pub fn first_patches(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.len() * self.size());
        (0..self.len()).for_each(|n| self.push_patch(n, 0, &mut out));
        out
    }
}

/// The patch VAE.
pub struct PatchModel {
    /// Encoder and decoder over flattened patches.
    pub vae: Vae,
    /// The encoder's blur along log-frequency.
    blur: EncoderBlur,
    /// Its variables.
    varmap: VarMap,
    /// Frames per patch.
    frames: usize,
    /// Log-frequency bins per frame.
    bins: usize,
}

impl PatchModel {
    fn new(frames: usize, bins: usize, config: &PatchConfig) -> candle_core::Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let arch = Architecture {
            kind: ArchKind::Mlp,
            bins: frames * bins,
            latent: config.latent,
            hidden: vec![config.hidden],
            conv: None,
            sigma: DEFAULT_SIGMA,
        };
        let vae = Vae::new(&arch, &vb)?;
        seeded_init(&varmap, config.seed)?;
        Ok(Self {
            vae,
            blur: EncoderBlur::new(bins, config.blur)?,
            varmap,
            frames,
            bins,
        })
    }

    /// Latent means of patches `(n, frames, bins)`.
    pub fn encode(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        Ok(self.posterior(x)?.0)
    }

    /// Posterior parameters (μ, log σ²) of patches `(n, frames, bins)`.
    fn posterior(&self, x: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        self.vae.encode(&self.blur.apply(x)?)
    }

    /// Reconstructions of `patches` (`n × frames × bins`) from their latent means.
    pub fn reconstruct(&self, patches: &[f32]) -> candle_core::Result<Vec<f32>> {
        let n = patches.len() / (self.frames * self.bins).max(1);
        let x = Tensor::from_slice(patches, (n, self.frames, self.bins), &Device::Cpu)?;
        self.vae.decode(&self.encode(&x)?)?.flatten_all()?.to_vec1()
    }
}

/// Mean terms of one epoch, unweighted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PatchEpoch {
    /// Negative ELBO of the anchors (reconstruction + β·KL).
    pub elbo: f64,
    /// The soft factorisation term (0 when off).
    pub factorise: f64,
    /// SIGReg (0 when off).
    pub sigreg: f64,
}

/// The loss of one batch of `anchors` (`n × frames × bins`) and its terms.
fn batch_loss(
    model: &PatchModel,
    anchors: Vec<f32>,
    config: &PatchConfig,
    rng: &mut fastrand::Rng,
) -> candle_core::Result<(Tensor, PatchEpoch)> {
    let (frames, bins) = (model.frames, model.bins);
    let size = frames * bins;
    let n = anchors.len() / size;
    let shape = [n, frames, bins];
    let sigma = f64::from(DEFAULT_SIGMA);
    let x = Tensor::from_slice(&anchors, shape.as_slice(), &Device::Cpu)?;
    let (mu, logvar) = model.posterior(&x)?;
    let eps = Tensor::from_vec(
        gaussian_vec(rng, n * config.latent),
        mu.shape(),
        &Device::Cpu,
    )?;
    let z = (&mu + (logvar.affine(0.5, 0.0)?.exp()? * eps)?)?;
    let elbo = (reconstruction(&x.flatten_from(1)?, &model.vae.decode(&z)?, sigma)?
        + (kl_to_prior(&mu, &logvar)? * config.beta)?)?;
    let mut terms = PatchEpoch {
        elbo: f64::from(elbo.to_scalar::<f32>()?),
        ..PatchEpoch::default()
    };
    let mut loss = elbo;
    if config.weight > 0.0 {
        let views =
            ShiftViews::of_patches(&anchors, shape, config.max_pitch, config.max_time, rng)?;
        let (mu1, mu2) = (model.encode(&views.first)?, model.encode(&views.second)?);
        let own = (reconstruction(
            &views.first.flatten_from(1)?,
            &model.vae.decode(&mu1)?,
            sigma,
        )? + reconstruction(
            &views.second.flatten_from(1)?,
            &model.vae.decode(&mu2)?,
            sigma,
        )?)?;
        let soft = soft_loss(&mu, &mu1, &mu2, &views)?;
        terms.factorise = f64::from(soft.to_scalar::<f32>()?);
        loss = ((loss + (own * OWN_VIEW_WEIGHT)?)? + (soft * config.weight)?)?;
    }
    if config.sigreg > 0.0 {
        let term = sigreg(&mu, SIGREG_PROJECTIONS, rng)?;
        terms.sigreg = f64::from(term.to_scalar::<f32>()?);
        loss = (loss + (term * config.sigreg)?)?;
    }
    Ok((loss, terms))
}

/// Trains a patch model on `notes`; returns it with each epoch's mean terms.
pub fn train_patches(
    notes: &PatchSet,
    config: &PatchConfig,
) -> Result<(PatchModel, Vec<PatchEpoch>), PatchError> {
    if notes.is_empty() {
        return Err(PatchError::NoNotes);
    }
    if config.frames < 2 || config.max_time >= config.frames || config.max_pitch >= notes.bins {
        return Err(PatchError::Setting(format!(
            "a patch needs at least 2 frames, time shifts shorter than it and transpositions \
             smaller than its {} log-frequency bins",
            notes.bins
        )));
    }
    let model = PatchModel::new(notes.frames, notes.bins, config)?;
    let mut adam = Adam::for_varmap(&model.varmap, config.lr)?;
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let epochs = shuffled_epochs(
        notes.len(),
        config.epochs,
        config.batch,
        2,
        &mut rng,
        |chunk, rng| -> Result<PatchEpoch, PatchError> {
            let mut anchors = Vec::with_capacity(chunk.len() * notes.size());
            for &n in chunk {
                notes.push_patch(n, rng.usize(0..=MAX_START), &mut anchors);
            }
            let (loss, terms) = batch_loss(&model, anchors, config, rng)?;
            adam.step(&loss.backward()?)?;
            Ok(terms)
        },
    )?;
    let history = epochs
        .iter()
        .map(|b| PatchEpoch {
            elbo: mean(b.iter().map(|t| t.elbo)),
            factorise: mean(b.iter().map(|t| t.factorise)),
            sigreg: mean(b.iter().map(|t| t.sigreg)),
        })
        .collect();
    Ok((model, history))
}

/// How well a patch model reconstructs and how it lays out pitch and time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PatchScores {
    /// Spectral convergence of the test patches' reconstructions on the log-frequency grid, dB.
    pub spectral_convergence_db: f64,
    /// The same after the reconstructions are mapped back to STFT frames, against the STFT
    /// frames they came from, dB.
    pub stft_spectral_convergence_db: f64,
    /// The floor of the last: the test frames' own log-frequency views mapped back, dB.
    pub grid_floor_db: f64,
    /// The notebook's metrics on the test patches.
    pub geometry: GridGeometry,
    /// Test notes.
    pub notes: usize,
}

/// Scores `model` on the first patch of each of `test`'s notes; `seed` picks the pairs of
/// sounds compared across. The grid of codes the geometry came from is returned beside the
/// scores, for plots.
pub fn score_patches(
    model: &PatchModel,
    test: &PatchSet,
    dataset: &Dataset,
    grid: &LogFrequency,
    config: &PatchConfig,
    seed: u64,
) -> Result<(PatchScores, ShiftGrid), PatchError> {
    if test.is_empty() {
        return Err(PatchError::NoNotes);
    }
    let patches = test.first_patches();
    let recon = model.reconstruct(&patches)?;
    let scaling = dataset.scaling;
    let sigma = f64::from(DEFAULT_SIGMA);
    let log_sc = recon_scores(&patches, &recon, test.bins, sigma, scaling).spectral_convergence_db;
    // The patches' real frames, their views and their reconstructions back on the STFT.
    let stft_bins = dataset.bins;
    let (mut real, mut floor, mut back) = (Vec::new(), Vec::new(), Vec::new());
    let mut frame = vec![0.0; stft_bins];
    for (n, source) in test.sources.iter().enumerate() {
        for (t, i) in source.clone().take(test.frames).enumerate() {
            let at = (n * test.frames + t) * test.bins..(n * test.frames + t + 1) * test.bins;
            real.extend_from_slice(dataset.frame(i));
            grid.to_linear(&patches[at.clone()], &mut frame);
            floor.extend_from_slice(&frame);
            grid.to_linear(&recon[at], &mut frame);
            back.extend_from_slice(&frame);
        }
    }
    let stft_sc = |estimate: &[f32]| {
        recon_scores(&real, estimate, stft_bins, sigma, scaling).spectral_convergence_db
    };
    let codes = ShiftGrid::measure(
        &patches,
        test.frames,
        test.bins,
        (config.max_pitch, config.max_time),
        &|x| model.encode(x),
    )?;
    let scores = PatchScores {
        spectral_convergence_db: log_sc,
        stft_spectral_convergence_db: stft_sc(&back),
        grid_floor_db: stft_sc(&floor),
        geometry: codes.geometry(seed),
        notes: test.len(),
    };
    Ok((scores, codes))
}

/// The grid the patch model reads for `dataset`'s STFT ([`LogFrequency::standard`]).
pub fn patch_grid(dataset: &Dataset) -> Result<LogFrequency, PatchError> {
    Ok(LogFrequency::standard(
        dataset.bins,
        dataset.signal.sample_rate,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoder_blur_is_a_unit_gain_gaussian_that_commutes_with_shifts(
    ) -> candle_core::Result<()> {
        let (bins, sigma) = (64, 3.0);
        let blur = EncoderBlur::new(bins, sigma)?;
        let spike = |at: usize| -> candle_core::Result<Vec<f32>> {
            let mut x = vec![0.0f32; bins];
            x[at] = 1.0;
            blur.apply(&Tensor::from_vec(x, (1, bins), &Device::Cpu)?)?
                .flatten_all()?
                .to_vec1()
        };
        let (here, there) = (spike(30)?, spike(34)?);
        // A Gaussian around the spike: e^{−1/2} of the peak one σ away.
        let ratio = here[33] / here[30];
        assert!((ratio - (-0.5f32).exp()).abs() < 1e-4, "{ratio}");
        // Shifting the input shifts the output (away from the edges).
        for k in 10..50 {
            assert!((here[k] - there[k + 4]).abs() < 1e-6, "bin {k}");
        }
        // Unit gain everywhere, edges included: a flat row stays flat.
        let flat = blur
            .apply(&Tensor::ones((1, bins), DType::F32, &Device::Cpu)?)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert!(flat.iter().all(|v| (v - 1.0).abs() < 1e-5), "{flat:?}");
        Ok(())
    }
}
