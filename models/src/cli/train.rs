//! `timbrespace train`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use timbrespace_engine::model::manifest::{ArchKind, Architecture, ConvShape, SymbolSpec};
use timbrespace_engine::symbols::{DYNAMICS, INSTRUMENT};
use timbrespace_models::dataset::Dataset;
use timbrespace_models::evaluate::{evaluate, EvalReport};
use timbrespace_models::export::{build_model_file, DataRecipe};
use timbrespace_models::factorisation::{self, FactoriseConfig};
use timbrespace_models::objective::{MmdKernel, Regularizer};
use timbrespace_models::perceptual::{PerceptualConfig, PerceptualTargets, PerceptualVariant};
use timbrespace_models::scan::{symbol_kinds, vocabulary, SymbolTargets};
use timbrespace_models::symbol_eval::evaluate_symbols;
use timbrespace_models::timbre_ratings::TimbreRatings;
use timbrespace_models::train::{train, TrainConfig, TrainRun};
use timbrespace_models::trajectory::template_frames;
use timbrespace_models::transposition::{transposition_score, TRANSPOSED_SOUNDS};
use timbrespace_models::vae::DEFAULT_SIGMA;

use super::data_args::DataArgs;
use super::report::{
    print_import, print_report, print_symbol_report, print_transposition, record_symbol_scores,
    record_transposition,
};

/// Set by Ctrl-C; the training loop saves a checkpoint and stops.
static STOP: AtomicBool = AtomicBool::new(false);

/// Latent regulariser choice.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Objective {
    /// β-KL to the unit Gaussian prior, with warm-up.
    Kl,
    /// MMD between the aggregated posterior and the prior (WAE).
    Mmd,
    /// Rényi-α divergence to the prior.
    Renyi,
}

/// Network family.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Arch {
    /// Fully connected.
    Mlp,
    /// 1-D convolutions along frequency.
    Conv,
}

/// MMD kernel.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Kernel {
    /// Gaussian.
    Rbf,
    /// Inverse multiquadric.
    Imq,
}

/// Options of `train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Folder of sounds (WAV, FLAC, OGG, AIFF; searched recursively).
    pub data: PathBuf,
    /// The model file to write.
    #[arg(long, short, default_value = "model.tsm")]
    pub out: PathBuf,
    #[command(flatten)]
    pub data_args: DataArgs,
    /// Latent dimensions (2–64).
    #[arg(long, default_value_t = 16)]
    pub latent: usize,
    /// Network family.
    #[arg(long, value_enum, default_value = "mlp")]
    pub arch: Arch,
    /// Hidden widths from the input side, comma-separated (conv: one dense width).
    #[arg(long, value_delimiter = ',', default_value = "512,512")]
    pub hidden: Vec<usize>,
    /// Conv: channels per convolution.
    #[arg(long, default_value_t = 16)]
    pub channels: usize,
    /// Conv: kernel length (odd).
    #[arg(long, default_value_t = 5)]
    pub kernel: usize,
    /// Conv: stride-2 stages.
    #[arg(long, default_value_t = 3)]
    pub stages: usize,
    /// Latent regulariser.
    #[arg(long, value_enum, default_value = "kl")]
    pub objective: Objective,
    /// Weight of the KL or Rényi term.
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    /// Epochs over which β ramps up from 0.
    #[arg(long, default_value_t = 10)]
    pub warmup: usize,
    /// Weight of the MMD term.
    #[arg(long, default_value_t = 100.0)]
    pub lambda: f64,
    /// MMD kernel.
    #[arg(long, value_enum, default_value = "imq")]
    pub mmd_kernel: Kernel,
    /// Rényi order α (> 0, ≠ 1).
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f64,
    /// Decoder standard deviation in the scaled domain (smaller = sharper reconstructions,
    /// weaker regularisation).
    #[arg(long, default_value_t = DEFAULT_SIGMA)]
    pub sigma: f32,
    /// Maximum epochs.
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Frames per mini-batch.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Learning rate (halved when the test loss stalls).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Early stopping: epochs without a better test loss.
    #[arg(long, default_value_t = 12)]
    pub patience: usize,
    /// Seed of every random choice (weights, split, shuffles, noise).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of files held out for testing.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Checkpoint file (default: OUT with extension .ckpt), written every epoch.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    pub quiet: bool,
    /// Do not train the symbol VAE even when the files have pitch/dynamics/instrument labels.
    #[arg(long)]
    pub no_symbols: bool,
    /// Weight α of KL(q(z|x) ‖ q(z|y)) that ties symbols to sounds (SCAN).
    #[arg(long, default_value_t = 10.0)]
    pub symbol_alpha: f32,
    /// Weight of reading the symbols back from audio codes (−log p(y|z), z from q(z|x)):
    /// higher makes transcription more accurate at some cost in reconstruction.
    #[arg(long, default_value_t = 30.0)]
    pub symbol_reading: f32,
    /// Hidden widths of the symbol VAE, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256")]
    pub symbol_hidden: Vec<usize>,
    /// Perceptual regularisation: make latent distances between instruments follow human
    /// timbre dissimilarity ratings (needs instrument labels matching the rated instruments).
    #[arg(long, value_enum)]
    pub perceptual: Option<Perceptual>,
    /// Weight of the perceptual term (default: 10 for the prior; 30000 for the distance
    /// terms, which are small numbers computed on running centroids).
    #[arg(long)]
    pub perceptual_weight: Option<f64>,
    /// Epoch (1-based) from which the perceptual term is on; earlier epochs train
    /// unregularised (two-step schedule).
    #[arg(long, default_value_t = 30)]
    pub perceptual_from: usize,
    /// Folder of timbre ratings (default: the copy built into the program, see
    /// assets/timbre/README.md).
    #[arg(long)]
    pub timbre_ratings: Option<PathBuf>,
    /// Soft pitch factorisation: weight of the term that makes transposition one direction of
    /// the latent space (off when absent; 1–10 is a sensible range).
    #[arg(long)]
    pub factorise: Option<f64>,
    /// Largest transposition of the factorisation's views, in log-frequency bins.
    #[arg(long, default_value_t = 12)]
    pub factorise_shift: usize,
    /// Log-frequency bins per octave of the factorisation's transpositions (24–48).
    #[arg(long, default_value_t = factorisation::BINS_PER_OCTAVE)]
    pub bins_per_octave: usize,
    /// With --factorise: weight of decoding transposed views from the code moved along the
    /// learned pitch direction (higher: truer transposition in the plugin, poorer
    /// reconstruction).
    #[arg(long, default_value_t = 0.5)]
    pub factorise_decode: f64,
}

/// Perceptual regulariser choice (thesis 3.4.2).
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Perceptual {
    /// An informative prior per instrument centred on its MDS timbre-space position.
    Prior,
    /// ℓ2 between normalised latent and rated distances.
    L2,
    /// Gaussian likelihood of latent distances under each pair's fitted rating distribution.
    Gaussian,
    /// Student-t latent affinities matched to the ratings' (t-SNE-like KL).
    StudentT,
}

impl Perceptual {
    /// The weight used when none is given.
    fn default_weight(self) -> f64 {
        match self {
            Perceptual::Prior => 10.0,
            Perceptual::L2 | Perceptual::Gaussian | Perceptual::StudentT => 30_000.0,
        }
    }

    /// The library's variant.
    fn variant(self) -> PerceptualVariant {
        match self {
            Perceptual::Prior => PerceptualVariant::Prior,
            Perceptual::L2 => PerceptualVariant::L2,
            Perceptual::Gaussian => PerceptualVariant::Gaussian,
            Perceptual::StudentT => PerceptualVariant::StudentT,
        }
    }
}

impl TrainArgs {
    fn config(&self) -> Result<TrainConfig> {
        if !(2..=64).contains(&self.latent) {
            bail!("--latent {} is outside 2–64", self.latent);
        }
        let valid = self.sigma > 0.0 && self.sigma.is_finite() && self.lr > 0.0 && self.lr < 1.0;
        if !valid || self.batch < 2 || self.epochs == 0 {
            bail!("--sigma and --lr must be positive (lr < 1), --batch at least 2 and --epochs at least 1");
        }
        if matches!(self.objective, Objective::Renyi)
            && (self.alpha <= 0.0 || (self.alpha - 1.0).abs() < 1e-6)
        {
            bail!("--alpha must be positive and different from 1 (α → 1 is the KL objective)");
        }
        let bins = self.data_args.n_fft / 2 + 1;
        let (kind, conv) = match self.arch {
            Arch::Mlp => (ArchKind::Mlp, None),
            Arch::Conv => {
                if self.kernel.is_multiple_of(2)
                    || !(1..=6).contains(&self.stages)
                    || !(1..=256).contains(&self.channels)
                {
                    bail!("conv needs an odd --kernel, --stages 1–6 and --channels 1–256");
                }
                (
                    ArchKind::Conv,
                    Some(ConvShape {
                        channels: self.channels,
                        kernel: self.kernel,
                        stages: self.stages,
                    }),
                )
            }
        };
        let regularizer = match self.objective {
            Objective::Kl => Regularizer::Kl {
                beta: self.beta,
                warmup: self.warmup,
            },
            Objective::Mmd => Regularizer::Mmd {
                lambda: self.lambda,
                kernel: match self.mmd_kernel {
                    Kernel::Rbf => MmdKernel::Rbf,
                    Kernel::Imq => MmdKernel::Imq,
                },
            },
            Objective::Renyi => Regularizer::Renyi {
                alpha: self.alpha,
                beta: self.beta,
                warmup: self.warmup,
            },
        };
        Ok(TrainConfig {
            arch: Architecture {
                kind,
                bins,
                latent: self.latent,
                hidden: self.hidden.clone(),
                conv,
                sigma: self.sigma,
            },
            regularizer,
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            patience: self.patience.max(1),
            seed: self.seed,
            symbols: None,
            perceptual: None,
            factorise: self.factorise_config()?,
        })
    }

    /// The soft factorisation term's settings, or `None` when it is off.
    fn factorise_config(&self) -> Result<Option<FactoriseConfig>> {
        let Some(weight) = self.factorise else {
            return Ok(None);
        };
        if !weight.is_finite() || weight < 0.0 {
            bail!("--factorise must be a finite weight ≥ 0");
        }
        if !(1..=96).contains(&self.bins_per_octave) {
            bail!("--bins-per-octave must be between 1 and 96");
        }
        if self.factorise_shift == 0 || self.factorise_shift > 4 * self.bins_per_octave {
            bail!("--factorise-shift must be between 1 and four octaves of bins");
        }
        if !self.factorise_decode.is_finite() || self.factorise_decode < 0.0 {
            bail!("--factorise-decode must be a finite weight ≥ 0");
        }
        Ok(Some(FactoriseConfig {
            weight,
            decode_weight: self.factorise_decode,
            max_shift: self.factorise_shift,
            bins_per_octave: self.bins_per_octave,
        }))
    }

    /// The perceptual term and its targets for `dataset`, or `None` when it is off; an error
    /// when it is asked for but the data cannot carry it.
    fn perceptual(
        &self,
        dataset: &Dataset,
        ratings: &TimbreRatings,
    ) -> Result<Option<(PerceptualConfig, PerceptualTargets)>> {
        let Some(choice) = self.perceptual else {
            return Ok(None);
        };
        let weight = self
            .perceptual_weight
            .unwrap_or_else(|| choice.default_weight());
        if !(weight >= 0.0 && weight.is_finite()) {
            bail!("--perceptual-weight must be a finite number ≥ 0");
        }
        if self.perceptual_from == 0 || self.perceptual_from > self.epochs {
            bail!("--perceptual-from must be an epoch between 1 and --epochs");
        }
        let Some(targets) = PerceptualTargets::new(dataset, ratings) else {
            bail!(
                "--perceptual needs instrument labels naming at least 3 of the rated instruments ({})",
                ratings.instruments.join(", ")
            );
        };
        Ok(Some((
            PerceptualConfig {
                variant: choice.variant(),
                weight,
                from_epoch: self.perceptual_from - 1,
            },
            targets,
        )))
    }

    /// The symbol VAE's shapes for `dataset`, or `None` when it has no symbol labels or
    /// symbols are off.
    fn symbol_spec(&self, dataset: &Dataset) -> Result<Option<SymbolSpec>> {
        let kinds = symbol_kinds(&dataset.label_sets);
        if self.no_symbols || kinds.is_empty() {
            return Ok(None);
        }
        let weight_ok = |w: f32| w >= 0.0 && w.is_finite();
        if !weight_ok(self.symbol_alpha)
            || !weight_ok(self.symbol_reading)
            || self.symbol_hidden.iter().any(|&h| h == 0 || h > 8192)
        {
            bail!(
                "--symbol-alpha and --symbol-reading must be ≥ 0 and --symbol-hidden widths 1–8192"
            );
        }
        let (attack_frames, release_frames) =
            template_frames(dataset.signal.sample_rate, dataset.signal.hop);
        Ok(Some(SymbolSpec {
            trajectory_kinds: [INSTRUMENT, DYNAMICS]
                .iter()
                .map(|k| k.to_string())
                .filter(|k| kinds.contains(k))
                .collect(),
            kinds,
            hidden: self.symbol_hidden.clone(),
            alpha: self.symbol_alpha,
            reading: self.symbol_reading,
            attack_frames,
            release_frames,
            levels: true,
        }))
    }
}

/// Train, evaluate and write the model.
pub fn run(args: &TrainArgs) -> Result<()> {
    let mut config = args.config()?;
    let options = args.data_args.options(&args.data)?;
    let dataset = Dataset::import(&args.data, &options)?;
    print_import(&dataset);
    config.symbols = args.symbol_spec(&dataset)?;
    let targets = match &config.symbols {
        Some(spec) => {
            let targets =
                SymbolTargets::new(&dataset, &vocabulary(&spec.kinds, &dataset.label_sets)?);
            println!(
                "symbols: {} (y has {} values, α = {}); {} of {} files fully labelled",
                spec.kinds.join(", "),
                targets.width,
                spec.alpha,
                targets.labelled_files(),
                dataset.files.len()
            );
            Some(targets)
        }
        None => None,
    };
    let ratings = TimbreRatings::load_or_embedded(args.timbre_ratings.as_deref())?;
    let perceptual = args.perceptual(&dataset, &ratings)?;
    if let Some((perceptual_config, targets)) = &perceptual {
        println!(
            "{perceptual_config}: rated instruments {}",
            targets.matched().join(", ")
        );
        config.perceptual = Some(*perceptual_config);
    }
    let split = dataset.split(args.test_fraction, args.seed)?;
    println!(
        "split by file: {} train files ({} frames), {} test files ({} frames)",
        split.train_files.len(),
        split.train.len(),
        split.test_files.len(),
        split.test.len()
    );
    let checkpoint = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| args.out.with_extension("ckpt"));
    if checkpoint.exists() && !args.resume {
        println!(
            "note: overwriting the checkpoint {} (use --resume to continue it)",
            checkpoint.display()
        );
    }
    // A second Ctrl-C while saving still kills the process, as users expect.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let run = TrainRun {
        dataset: &dataset,
        split: &split,
        checkpoint: Some(checkpoint.clone()),
        resume: args.resume,
        stop: &STOP,
        show_progress: !args.quiet,
        symbol_targets: targets.as_ref(),
        perceptual_targets: perceptual.as_ref().map(|(_, t)| t),
    };
    let trained = candle_core::Device::Cpu.with_context(|| train(&run, &config))?;
    let last = trained.history.last().context("no epoch was run")?;
    println!(
        "trained {} epochs in {:.1} s ({:.0} frames/s); kept epoch {} (test loss {:.3})",
        trained.history.len(),
        trained.seconds,
        last.frames_per_second,
        trained.best_epoch,
        trained
            .history
            .get(trained.best_epoch.saturating_sub(1))
            .map_or(f64::NAN, |r| r.test_loss)
    );
    let recipe = DataRecipe {
        dataset: &dataset,
        options: &options,
        split: &split,
        test_fraction: args.test_fraction,
    };
    let mut model = build_model_file(&trained, &recipe, &config)?;
    let report = evaluate(&model, &dataset, &split, &ratings, args.seed)?;
    record_scores(&mut model.manifest.scores, &report);
    print_report(&report);
    if let Some(symbols) = evaluate_symbols(&model, &dataset, &split, args.seed)? {
        record_symbol_scores(&mut model.manifest.scores, &symbols);
        print_symbol_report(&symbols);
    }
    if let Some(score) = transposition_score(&model, &dataset, &split, TRANSPOSED_SOUNDS)? {
        record_transposition(&mut model.manifest.scores, &score);
        print_transposition(&score);
    }
    model.save(&args.out)?;
    println!(
        "wrote {} ({:.1} MB)",
        args.out.display(),
        std::fs::metadata(&args.out).map_or(0.0, |m| m.len() as f64 / 1e6)
    );
    // The finished model supersedes the checkpoint.
    let _ = std::fs::remove_file(&checkpoint);
    Ok(())
}

/// Headline scores kept in the manifest.
pub fn record_scores(scores: &mut std::collections::BTreeMap<String, f64>, report: &EvalReport) {
    scores.insert("test_sc_db".into(), report.vae.spectral_convergence_db);
    scores.insert("pca_test_sc_db".into(), report.pca.spectral_convergence_db);
    scores.insert("test_nll".into(), report.vae.nll);
    scores.insert("test_kl".into(), report.latent_kl);
    for (name, probe) in &report.probes {
        scores.insert(format!("probe_{name}"), probe.accuracy);
    }
    if let Some(perceptual) = &report.perceptual {
        scores.insert("timbre_spearman".into(), perceptual.spearman);
        scores.insert("timbre_pearson".into(), perceptual.pearson);
    }
    if let Some(perceptual) = &report.perceptual_held_out {
        scores.insert("timbre_spearman_test".into(), perceptual.spearman);
    }
}
