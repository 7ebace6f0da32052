//! `timbrespace motif-space`: the motif auto-encoder over one-bar melody windows, trained
//! without and with the soft pitch/time factorisation, scored on held-out pieces with onset F1
//! and the notebook's metrics.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use timbrespace_models::motifs::space::{
    score_motif_space, train_motif_space, MotifSpaceConfig, MotifSpaceScores,
};

use super::motifs::{load_split, roll_kind, CorpusSplit, MotifKind, PieceSplitArgs};
use super::patches::print_geometry;
use super::report::write_json;

/// Options of `motif-space`.
#[derive(Args, Debug)]
pub struct MotifSpaceArgs {
    /// Folder of MIDI files (sub-folders are collections), e.g. data/midi-corpus/melodies.
    pub data: PathBuf,
    /// Weight of the soft factorisation term (the space without it is trained beside).
    #[arg(long, default_value_t = MotifSpaceConfig::default().weight)]
    pub weight: f64,
    /// Largest transposition, in semitones.
    #[arg(long, default_value_t = MotifSpaceConfig::default().max_pitch)]
    pub max_pitch: usize,
    /// Largest time shift, in sixteenth-note steps.
    #[arg(long, default_value_t = MotifSpaceConfig::default().max_time)]
    pub max_time: usize,
    /// Blur along pitch, in semitones, of the encoder's view of each window (0 = none).
    #[arg(long, default_value_t = MotifSpaceConfig::default().blur)]
    pub blur: f64,
    /// Blur along time, in steps, of the encoder's view of each window (0 = none).
    #[arg(long, default_value_t = MotifSpaceConfig::default().time_blur)]
    pub time_blur: f64,
    /// Latent size.
    #[arg(long, default_value_t = MotifSpaceConfig::default().latent)]
    pub latent: usize,
    /// Hidden width of the encoder and decoder.
    #[arg(long, default_value_t = MotifSpaceConfig::default().hidden)]
    pub hidden: usize,
    /// Weight of onset cells against empty ones in the cross-entropy.
    #[arg(long, default_value_t = MotifSpaceConfig::default().onset_weight)]
    pub onset_weight: f64,
    /// Passes over the training windows.
    #[arg(long, default_value_t = MotifSpaceConfig::default().epochs)]
    pub epochs: usize,
    /// Held-out windows whose codes at every shift give the metrics.
    #[arg(long, default_value_t = 200)]
    pub geometry_windows: usize,
    #[command(flatten)]
    pub pieces: PieceSplitArgs,
    /// Folder for `motif_space.json`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Train without and with the factorisation, print and write the scores.
pub fn run(args: &MotifSpaceArgs) -> Result<()> {
    let blur_ok = |b: f64| (0.0..=8.0).contains(&b);
    let weight_ok = args.weight >= 0.0 && args.weight.is_finite();
    if !(weight_ok && blur_ok(args.blur) && blur_ok(args.time_blur)) {
        bail!("--weight must be ≥ 0, --blur 0–8 semitones and --time-blur 0–8 steps");
    }
    if !(1..=128).contains(&args.latent)
        || !(1..=8192).contains(&args.hidden)
        || args.epochs == 0
        || args.geometry_windows < 2
    {
        bail!(
            "--latent must be 1–128, --hidden 1–8192, --epochs at least 1 and \
             --geometry-windows at least 2"
        );
    }
    if !(args.onset_weight > 0.0 && args.onset_weight <= 1000.0) {
        bail!("--onset-weight must be above 0 and at most 1000");
    }
    let CorpusSplit { split, .. } =
        load_split(&args.data, roll_kind(MotifKind::Melodies), 1, &args.pieces)?;
    let config = MotifSpaceConfig {
        weight: args.weight,
        max_pitch: args.max_pitch,
        max_time: args.max_time,
        blur: args.blur,
        time_blur: args.time_blur,
        latent: args.latent,
        hidden: args.hidden,
        onset_weight: args.onset_weight,
        epochs: args.epochs,
        seed: args.pieces.seed,
        ..MotifSpaceConfig::default()
    };
    let mut report = Vec::new();
    for weight in [0.0, args.weight] {
        let config = MotifSpaceConfig { weight, ..config };
        let start = Instant::now();
        let (model, history) = train_motif_space(&split.train, &config)?;
        let scores = score_motif_space(
            &model,
            &split.test,
            &config,
            args.geometry_windows,
            args.pieces.seed,
        )?;
        print_scores(weight, &scores, start.elapsed().as_secs_f64());
        report.push(serde_json::json!({ "config": config, "scores": scores, "history": history }));
    }
    if let Some(out) = &args.out {
        write_json(out, "motif_space.json", &serde_json::Value::Array(report))?;
    }
    Ok(())
}

/// One space's lines of scores.
fn print_scores(weight: f64, s: &MotifSpaceScores, seconds: f64) {
    let o = &s.onsets;
    println!(
        "factorisation weight {weight}: held-out onset F1 {:.3} (precision {:.3}, recall {:.3}); {seconds:.0} s",
        o.f1(),
        o.precision(),
        o.recall()
    );
    print_geometry(&s.geometry, &format!("{} held-out windows", s.windows));
}
