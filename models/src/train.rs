//! The training loop: Adam on shuffled mini-batches, a plateau learning-rate schedule, early
//! stopping on the test loss, a live progress bar, an atomic checkpoint every epoch, `--resume`
//! and a Ctrl-C that saves before leaving.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use timbrespace_engine::model::container::{decode, encode, write_atomic};
use timbrespace_engine::model::manifest::{Architecture, EpochRecord};
use timbrespace_engine::model::TensorMap;

use crate::adam::Adam;
use crate::dataset::{Dataset, Split};
use crate::factorisation::{soft_loss, FactoriseConfig, ShiftViews};
use crate::objective::{reconstruction, Regularizer};
use crate::perceptual::{PerceptualConfig, PerceptualTargets, PerceptualVariant};
use crate::random::gaussian_vec;
use crate::scan::{SymbolTargets, SymbolVae};
use crate::vae::{export_vars, import_vars, seeded_init, Vae};
use timbrespace_engine::model::manifest::SymbolSpec;

/// Frames per batch when only evaluating.
const EVAL_BATCH: usize = 1024;
/// Metadata key of a checkpoint's training state.
const STATE_KEY: &str = "timbrespace-checkpoint";

/// Hyper-parameters of a run.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Network shapes.
    pub arch: Architecture,
    /// Latent regulariser.
    pub regularizer: Regularizer,
    /// Maximum epochs.
    pub epochs: usize,
    /// Frames per mini-batch.
    pub batch: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Stop after this many epochs without a better test loss (counted after warm-up); the
    /// learning rate halves after half as many.
    pub patience: usize,
    /// Seed of the initial weights, the shuffles and the noise.
    pub seed: u64,
    /// Train a symbol VAE alongside (SCAN) with these shapes, when the run has symbol targets.
    pub symbols: Option<SymbolSpec>,
    /// Add a perceptual term, when the run has perceptual targets.
    pub perceptual: Option<PerceptualConfig>,
    /// Add the soft pitch factorisation term.
    pub factorise: Option<FactoriseConfig>,
}

impl TrainConfig {
    /// Epochs whose loss weights still change (regulariser warm-up, the unregularised first
    /// phase and ramp of the perceptual term): the best epoch is only chosen after them.
    pub fn settling_epochs(&self) -> usize {
        let perceptual = self.perceptual.map_or(0, |p| p.settled_epoch());
        self.regularizer.warmup().max(perceptual)
    }
}

/// What a finished run hands back.
pub struct Trained {
    /// The weights of the best epoch.
    pub varmap: VarMap,
    /// The model built on them.
    pub vae: Vae,
    /// The symbol VAE, when one was trained.
    pub symbols: Option<SymbolVae>,
    /// Per-epoch losses.
    pub history: Vec<EpochRecord>,
    /// Training time in seconds (across resumed sessions).
    pub seconds: f64,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
}

/// Why training stopped without a model.
#[derive(Debug, Error)]
pub enum TrainError {
    /// candle failed.
    #[error("training failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The checkpoint could not be read or written, or belongs to another run.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Ctrl-C; the state was saved.
    #[error("interrupted after {epochs} epochs; {saved}")]
    Interrupted {
        /// Completed epochs.
        epochs: usize,
        /// Where the state went, or that there was nowhere to save it.
        saved: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "training diverged at epoch {0} (loss is not finite); try a lower --lr or a smaller --beta"
    )]
    Diverged(usize),
    /// The test split is empty.
    #[error("the test split has no frames; add files or raise --test-fraction")]
    NoTestFrames,
}

/// Progress of a run, saved in checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunState {
    /// Completed epochs.
    epoch: usize,
    /// Optimiser steps.
    step: u64,
    /// Current learning rate.
    lr: f64,
    /// Best test loss so far (`f64::MAX` before any; JSON has no infinity).
    best_loss: f64,
    /// Its epoch (1-based, 0 before any).
    best_epoch: usize,
    /// Epochs since the last improvement.
    since_best: usize,
    /// Epochs since the last improvement or learning-rate cut.
    since_cut: usize,
    /// Seed of the random generator for the next epoch.
    rng_seed: u64,
    /// Losses so far.
    history: Vec<EpochRecord>,
    /// Seconds spent so far.
    seconds: f64,
    /// Identifies the data and settings, so a checkpoint is not resumed on something else.
    fingerprint: String,
}

/// Everything a run needs besides its configuration.
pub struct TrainRun<'a> {
    /// Frames.
    pub dataset: &'a Dataset,
    /// Which frames train and which test.
    pub split: &'a Split,
    /// Where to save a checkpoint every epoch (and on Ctrl-C).
    pub checkpoint: Option<PathBuf>,
    /// Continue from `checkpoint` if it exists.
    pub resume: bool,
    /// Set by a Ctrl-C handler; checked between batches.
    pub stop: &'a AtomicBool,
    /// Draw a progress bar and per-epoch lines on stderr.
    pub show_progress: bool,
    /// Per-frame symbols for a jointly trained symbol VAE (with `TrainConfig::symbols`).
    pub symbol_targets: Option<&'a SymbolTargets>,
    /// Rated instruments per frame for the perceptual term (with `TrainConfig::perceptual`).
    pub perceptual_targets: Option<&'a PerceptualTargets>,
}

/// Train a VAE.
pub fn train(run: &TrainRun, config: &TrainConfig) -> Result<Trained, TrainError> {
    if run.split.test.is_empty() {
        return Err(TrainError::NoTestFrames);
    }
    let device = Device::Cpu;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let vae = Vae::new(&config.arch, &vb)?;
    let scan = match (&config.symbols, run.symbol_targets) {
        (Some(spec), Some(targets)) => Some(Scan {
            vae: SymbolVae::new(&config.arch, spec, targets.groups.clone(), &vb)?,
            targets,
            alpha: f64::from(spec.alpha),
            reading: f64::from(spec.reading),
        }),
        _ => None,
    };
    let perceptual = match (config.perceptual, run.perceptual_targets) {
        (Some(config), Some(targets)) => Some((config, targets)),
        _ => None,
    };
    // The transposition direction, learned with the model when the factorisation is on.
    let direction = match &config.factorise {
        Some(_) => Some(vb.get((1, config.arch.latent), DIRECTION_VAR)?),
        None => None,
    };
    seeded_init(&varmap, config.seed)?;
    let mut adam = Adam::for_varmap(&varmap, config.lr)?;
    let fingerprint = fingerprint(run, config);
    let mut state = RunState {
        epoch: 0,
        step: 0,
        lr: config.lr,
        best_loss: f64::MAX,
        best_epoch: 0,
        since_best: 0,
        since_cut: 0,
        rng_seed: config.seed ^ 0x5eed,
        history: Vec::new(),
        seconds: 0.0,
        fingerprint: fingerprint.clone(),
    };
    let mut best = export_vars(&varmap)?;
    if let (true, Some(path)) = (run.resume, &run.checkpoint) {
        if path.exists() {
            state = load_checkpoint(path, &varmap, &mut adam, &mut best, &fingerprint)?;
        }
    }
    adam.lr = state.lr;
    let batches_per_epoch = run.split.train.len().div_ceil(config.batch.max(1));
    let bar = progress_bar(
        run.show_progress,
        config.epochs,
        batches_per_epoch,
        state.epoch,
    );
    let save =
        |state: &RunState, adam: &Adam, best: &TensorMap| -> Result<Option<PathBuf>, TrainError> {
            match &run.checkpoint {
                Some(path) => {
                    save_checkpoint(path, state, &varmap, adam, best).map(|_| Some(path.clone()))
                }
                None => Ok(None),
            }
        };
    let started = Instant::now();
    let seconds_before = state.seconds;
    let mut stopped_early = false;
    while state.epoch < config.epochs && !stopped_early {
        let epoch_start = Instant::now();
        let mut rng = fastrand::Rng::with_seed(state.rng_seed);
        let mut order = run.split.train.clone();
        rng.shuffle(&mut order);
        let weight = config.regularizer.weight(state.epoch);
        let perceptual_now = perceptual.map(|(c, t)| (c.variant, c.weight_at(state.epoch), t));
        let (mut loss_sum, mut seen) = (0.0, 0usize);
        let mut perceptual_mean = TermMean::default();
        let mut factorise_mean = TermMean::default();
        for batch in order.chunks(config.batch.max(2)).filter(|b| b.len() >= 2) {
            if run.stop.load(Ordering::Relaxed) {
                let saved = save(&state, &adam, &best)?;
                bar.abandon();
                return Err(TrainError::Interrupted {
                    epochs: state.epoch,
                    saved: saved.map_or(
                        "no checkpoint file was given, so nothing was saved".into(),
                        |p| format!("resume with --resume (checkpoint {})", p.display()),
                    ),
                });
            }
            let loss = train_step(
                &vae,
                Extras {
                    scan: scan.as_ref(),
                    perceptual: perceptual_now,
                    factorise: config.factorise.as_ref().zip(direction.as_ref()),
                },
                &mut adam,
                run.dataset,
                batch,
                &config.regularizer,
                weight,
                &mut rng,
            )?;
            loss_sum += loss.total * batch.len() as f64;
            perceptual_mean.add(loss.perceptual);
            factorise_mean.add(loss.factorise);
            seen += batch.len();
            bar.inc(1);
            if state.step.is_multiple_of(8) {
                bar.set_message(format!(
                    "epoch {}/{}  train {:.2}  {:.0} frames/s",
                    state.epoch + 1,
                    config.epochs,
                    loss_sum / seen as f64,
                    seen as f64 / epoch_start.elapsed().as_secs_f64()
                ));
            }
            state.step = adam.steps();
        }
        let train_loss = loss_sum / seen.max(1) as f64;
        let frames_per_second = seen as f64 / epoch_start.elapsed().as_secs_f64().max(1e-9);
        let (test_recon, test_reg) = evaluate_loss(
            &vae,
            run.dataset,
            &run.split.test,
            &config.regularizer,
            config.seed,
        )?;
        let test_symbols = match &scan {
            Some(scan) => evaluate_symbols(&vae, scan, run.dataset, &run.split.test)?,
            None => 0.0,
        };
        let test_loss =
            test_recon + config.regularizer.weight(usize::MAX / 2) * test_reg + test_symbols;
        if !train_loss.is_finite() || !test_loss.is_finite() {
            bar.abandon();
            return Err(TrainError::Diverged(state.epoch + 1));
        }
        state.epoch += 1;
        state.rng_seed = rng.u64(..);
        state.history.push(EpochRecord {
            epoch: state.epoch,
            train_loss,
            test_loss,
            test_recon,
            test_reg,
            test_symbols,
            lr: adam.lr,
            frames_per_second,
        });
        let settling = state.epoch < config.settling_epochs();
        if settling || test_loss < state.best_loss {
            // While the weights still move, losses are not comparable: keep the latest weights
            // and start comparing once they have settled.
            state.best_loss = if settling { f64::MAX } else { test_loss };
            state.best_epoch = state.epoch;
            best = export_vars(&varmap)?;
            state.since_best = 0;
            state.since_cut = 0;
        } else {
            state.since_best += 1;
            state.since_cut += 1;
            if state.since_cut >= (config.patience / 2).max(1) {
                adam.lr *= 0.5;
                state.since_cut = 0;
            }
            stopped_early = state.since_best >= config.patience;
        }
        state.lr = adam.lr;
        state.seconds = seconds_before + started.elapsed().as_secs_f64();
        let line = format!(
            "epoch {:>3}  train {:>9.3}  test {:>9.3} (recon {:.3}, reg {:.3}, symbols {:.3})  lr {:.1e}  {:.0} frames/s{}",
            state.epoch,
            train_loss,
            test_loss,
            test_recon,
            test_reg,
            test_symbols,
            adam.lr,
            frames_per_second,
            if state.best_epoch == state.epoch { "  *" } else { "" }
        );
        let line = perceptual_mean.append(line, "perceptual");
        let line = factorise_mean.append(line, "factorise");
        if run.show_progress {
            // indicatif hides the bar when stderr is not a terminal (logs, CI); keep the lines.
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
        }
        save(&state, &adam, &best)?;
    }
    bar.finish_and_clear();
    import_vars(&varmap, &best, "")?;
    Ok(Trained {
        vae,
        symbols: scan.map(|s| s.vae),
        varmap,
        history: state.history,
        seconds: state.seconds,
        best_epoch: state.best_epoch,
    })
}

/// The symbol side of a run.
struct Scan<'a> {
    /// The symbol VAE being trained.
    vae: SymbolVae,
    /// y per frame.
    targets: &'a SymbolTargets,
    /// Weight of KL(q(z|x) ‖ q(z|y)).
    alpha: f64,
    /// Weight of −log p(y|z) on audio codes.
    reading: f64,
}

/// The optional terms of a training step.
struct Extras<'a> {
    /// The symbol side.
    scan: Option<&'a Scan<'a>>,
    /// The perceptual term's variant, current weight and targets.
    perceptual: Option<(PerceptualVariant, f64, &'a PerceptualTargets)>,
    /// The soft pitch factorisation term and the learned direction.
    factorise: Option<(&'a FactoriseConfig, &'a Tensor)>,
}

/// What a training step reports.
struct StepLoss {
    /// The loss per frame.
    total: f64,
    /// The perceptual term (unweighted), when it was on.
    perceptual: Option<f64>,
    /// The factorisation term (unweighted), when it was on.
    factorise: Option<f64>,
}

/// The mean of an optional term over an epoch's batches, for the epoch line.
#[derive(Default)]
struct TermMean {
    /// Sum of the batches' values.
    sum: f64,
    /// Batches with a value.
    batches: usize,
}

impl TermMean {
    fn add(&mut self, value: Option<f64>) {
        if let Some(v) = value {
            self.sum += v;
            self.batches += 1;
        }
    }

    /// `line` with "  NAME mean" appended when the term was on.
    fn append(&self, line: String, name: &str) -> String {
        if self.batches > 0 {
            format!("{line}  {name} {:.4}", self.sum / self.batches as f64)
        } else {
            line
        }
    }
}

/// Weight of pulling each transposed view's code onto the anchor's code moved along the
/// learned direction: light, so that the encoder keeps room for reconstruction (at 1 the
/// default recipe lost 5 dB of spectral convergence).
const ALIGN_WEIGHT: f64 = 0.1;
/// Weight of reconstructing each transposed view from its own code: transposition as data
/// augmentation, which gives back most of what the factorisation costs in reconstruction.
const OWN_VIEW_WEIGHT: f64 = 0.5;

/// Name of the learned transposition direction (a latent move per log-frequency bin) among
/// the training variables; it is taken out of the weights into the manifest at export.
pub const DIRECTION_VAR: &str = "factorise.direction";

/// One optimiser step on `batch`; returns the batch's loss per frame.
#[allow(clippy::too_many_arguments)]
fn train_step(
    vae: &Vae,
    extras: Extras,
    adam: &mut Adam,
    dataset: &Dataset,
    batch: &[usize],
    regularizer: &Regularizer,
    weight: f64,
    rng: &mut fastrand::Rng,
) -> Result<StepLoss, TrainError> {
    let latent = vae.arch.latent;
    let x = gather(dataset, batch)?;
    let (mu, logvar) = vae.encode(&x)?;
    let eps = Tensor::from_vec(
        gaussian_vec(rng, batch.len() * latent),
        (batch.len(), latent),
        &Device::Cpu,
    )?;
    let z = (&mu + (logvar.affine(0.5, 0.0)?.exp()? * eps)?)?;
    let prior = Tensor::from_vec(
        gaussian_vec(rng, batch.len() * latent),
        (batch.len(), latent),
        &Device::Cpu,
    )?;
    let recon = reconstruction(&x, &vae.decode(&z)?, f64::from(vae.arch.sigma))?;
    let reg = regularizer.value(&mu, &logvar, &z, &prior)?;
    let mut loss = (recon + (reg * weight)?)?;
    let mut perceptual = None;
    if let Some((variant, perceptual_weight, targets)) = extras.perceptual {
        if perceptual_weight > 0.0 {
            if let Some(term) = targets.loss(variant, batch, &mu)? {
                perceptual = Some(f64::from(term.to_scalar::<f32>()?));
                loss = (loss + (term * perceptual_weight)?)?;
            }
        }
    }
    let mut factorise = None;
    if let Some((config, direction)) = extras.factorise {
        let frames = x.flatten_all()?.to_vec1::<f32>()?;
        let views = ShiftViews::sample(&frames, dataset.bins, config, rng)?;
        let (first, second) = (vae.encode(&views.first)?.0, vae.encode(&views.second)?.0);
        let term = soft_loss(&mu, &first, &second, &views)?;
        factorise = Some(f64::from(term.to_scalar::<f32>()?));
        let sigma = f64::from(vae.arch.sigma);
        let mut equivariance = Tensor::zeros((), DType::F32, &Device::Cpu)?;
        for (view, code, shifts) in [
            (&views.first, &first, &views.first_shifts),
            (&views.second, &second, &views.second_shifts),
        ] {
            // The anchor moved along the direction by the view's shift must decode to the
            // view (what players rely on); the view's own code is pulled toward there and
            // decodes to the view too.
            let moved = (&mu + shifts.unsqueeze(1)?.broadcast_mul(direction)?)?;
            let decoded = reconstruction(view, &vae.decode(&moved)?, sigma)?;
            let aligned = (code - &moved)?.sqr()?.sum(D::Minus1)?.mean_all()?;
            let own = reconstruction(view, &vae.decode(code)?, sigma)?;
            equivariance = (((equivariance + (decoded * config.decode_weight)?)?
                + (aligned * ALIGN_WEIGHT)?)?
                + (own * OWN_VIEW_WEIGHT)?)?;
        }
        loss = ((loss + (term * config.weight)?)? + equivariance)?;
    }
    if let Some(scan) = extras.scan {
        if let Some((rows, y)) = scan.targets.batch(batch)? {
            let n = rows.dim(0)?;
            let eps = Tensor::from_vec(gaussian_vec(rng, n * latent), (n, latent), &Device::Cpu)?;
            let terms = scan.vae.loss(
                &y,
                &mu.contiguous()?.index_select(&rows, 0)?,
                &logvar.contiguous()?.index_select(&rows, 0)?,
                &z.index_select(&rows, 0)?,
                &eps,
            )?;
            let symbols = (((terms.symbol_recon + (terms.symbol_prior * weight)?)?
                + (terms.audio_recon * scan.reading)?)?
                + (terms.alignment * scan.alpha)?)?;
            // The terms are means over labelled frames; weigh them by their share of the batch.
            loss = (loss + (symbols * (n as f64 / batch.len() as f64))?)?;
        }
    }
    let grads = loss.backward()?;
    adam.step(&grads)?;
    Ok(StepLoss {
        total: f64::from(loss.to_scalar::<f32>()?),
        perceptual,
        factorise,
    })
}

/// Frames `indices` as a `(len, bins)` tensor.
pub fn gather(dataset: &Dataset, indices: &[usize]) -> candle_core::Result<Tensor> {
    let mut data = Vec::with_capacity(indices.len() * dataset.bins);
    for &i in indices {
        data.extend_from_slice(dataset.frame(i));
    }
    Tensor::from_vec(data, (indices.len(), dataset.bins), &Device::Cpu)
}

/// Mean reconstruction term (decoding the posterior mean) and mean regulariser over `indices`,
/// with prior samples drawn from `seed` so the number is comparable across epochs.
pub fn evaluate_loss(
    vae: &Vae,
    dataset: &Dataset,
    indices: &[usize],
    regularizer: &Regularizer,
    seed: u64,
) -> candle_core::Result<(f64, f64)> {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x7e57);
    let latent = vae.arch.latent;
    let (mut recon_sum, mut reg_sum) = (0.0, 0.0);
    for chunk in indices.chunks(EVAL_BATCH) {
        let x = gather(dataset, chunk)?;
        let (mu, logvar) = vae.encode(&x)?;
        let prior = Tensor::from_vec(
            gaussian_vec(&mut rng, chunk.len() * latent),
            (chunk.len(), latent),
            &Device::Cpu,
        )?;
        let recon = reconstruction(&x, &vae.decode(&mu)?, f64::from(vae.arch.sigma))?;
        let reg = regularizer.value(&mu, &logvar, &mu, &prior)?;
        recon_sum += f64::from(recon.to_scalar::<f32>()?) * chunk.len() as f64;
        reg_sum += f64::from(reg.to_scalar::<f32>()?) * chunk.len() as f64;
    }
    let n = indices.len().max(1) as f64;
    Ok((recon_sum / n, reg_sum / n))
}

/// Mean symbol loss per test frame at full weights (the symbol ELBO with z = μ(y), the audio
/// codes' cross-entropy, and α·KL(q(z|x) ‖ q(z|y))), or 0 when no test frame is labelled.
fn evaluate_symbols(
    vae: &Vae,
    scan: &Scan,
    dataset: &Dataset,
    indices: &[usize],
) -> candle_core::Result<f64> {
    let mut sum = 0.0;
    for chunk in indices.chunks(EVAL_BATCH) {
        let Some((rows, y)) = scan.targets.batch(chunk)? else {
            continue;
        };
        let n = rows.dim(0)?;
        let (mu, logvar) = vae.encode(&gather(dataset, chunk)?)?;
        let zeros = Tensor::zeros((n, vae.arch.latent), DType::F32, &Device::Cpu)?;
        let mu = mu.contiguous()?.index_select(&rows, 0)?;
        let logvar = logvar.contiguous()?.index_select(&rows, 0)?;
        let terms = scan.vae.loss(&y, &mu, &logvar, &mu, &zeros)?;
        let total = (((terms.symbol_recon + terms.symbol_prior)?
            + (terms.audio_recon * scan.reading)?)?
            + (terms.alignment * scan.alpha)?)?;
        sum += f64::from(total.to_scalar::<f32>()?) * n as f64;
    }
    // Per test frame, like the other test terms: unlabelled frames contribute nothing.
    Ok(sum / indices.len().max(1) as f64)
}

/// A string that changes when the data, split or settings do.
fn fingerprint(run: &TrainRun, config: &TrainConfig) -> String {
    let checksum: f64 = run
        .split
        .train
        .iter()
        .step_by(97)
        .map(|&i| {
            run.dataset
                .frame(i)
                .iter()
                .map(|&v| f64::from(v))
                .sum::<f64>()
        })
        .sum();
    format!(
        "{:?}|{}|{:?}|{:?}|{:?}|batch={}|seed={}|frames={}/{}|sum={checksum:.6e}",
        config.arch,
        config.regularizer,
        config.symbols,
        config.perceptual,
        config.factorise,
        config.batch,
        config.seed,
        run.split.train.len(),
        run.split.test.len()
    )
}

/// The progress bar (hidden when not wanted or not on a terminal).
fn progress_bar(
    show: bool,
    epochs: usize,
    batches_per_epoch: usize,
    done_epochs: usize,
) -> ProgressBar {
    let bar = if show {
        ProgressBar::new((epochs * batches_per_epoch) as u64)
    } else {
        ProgressBar::hidden()
    };
    let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_position((done_epochs * batches_per_epoch) as u64);
    bar
}

/// Write the run's state atomically.
fn save_checkpoint(
    path: &Path,
    state: &RunState,
    varmap: &VarMap,
    adam: &Adam,
    best: &TensorMap,
) -> Result<(), TrainError> {
    let fail = |reason: String| TrainError::Checkpoint {
        path: path.display().to_string(),
        reason,
    };
    let mut tensors = adam.state()?;
    for (name, t) in export_vars(varmap)? {
        tensors.insert(format!("weights.{name}"), t);
    }
    for (name, t) in best {
        tensors.insert(format!("best.{name}"), t.clone());
    }
    let json = serde_json::to_string(state).map_err(|e| fail(e.to_string()))?;
    let bytes = encode(&tensors, HashMap::from([(STATE_KEY.to_string(), json)]))
        .map_err(|e| fail(e.to_string()))?;
    write_atomic(path, &bytes).map_err(|e| fail(e.to_string()))
}

/// Restore a run's state, refusing a checkpoint of other data or settings.
fn load_checkpoint(
    path: &Path,
    varmap: &VarMap,
    adam: &mut Adam,
    best: &mut TensorMap,
    fingerprint: &str,
) -> Result<RunState, TrainError> {
    let fail = |reason: String| TrainError::Checkpoint {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let (tensors, metadata) = decode(&bytes).map_err(|e| fail(e.to_string()))?;
    let json = metadata
        .get(STATE_KEY)
        .ok_or_else(|| fail("not a training checkpoint".into()))?;
    let state: RunState = serde_json::from_str(json).map_err(|e| fail(e.to_string()))?;
    if state.fingerprint != fingerprint {
        return Err(fail("it was made with other data or settings; start without --resume or use the same options".into()));
    }
    import_vars(varmap, &tensors, "weights.").map_err(|e| fail(e.to_string()))?;
    adam.restore(&tensors, state.step)
        .map_err(|e| fail(e.to_string()))?;
    *best = tensors
        .iter()
        .filter_map(|(n, t)| n.strip_prefix("best.").map(|n| (n.to_string(), t.clone())))
        .collect();
    Ok(state)
}
