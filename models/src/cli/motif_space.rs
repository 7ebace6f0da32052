//! `timbrespace motif-space`: the motif auto-encoder over one-bar melody windows, trained
//! without and with the soft pitch/time factorisation, scored on held-out pieces with onset F1,
//! the notebook's metrics and how well mean latent moves shift motifs; optionally written as a
//! motif bank for the instrument's Motif mode.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use timbrespace_engine::model::container::write_atomic;
use timbrespace_models::motifs::piano_roll::{PianoRoll, RollKind};
use timbrespace_models::motifs::space::{
    score_motif_space, train_motif_space, MotifSpace, MotifSpaceConfig, MotifSpaceScores,
};
use timbrespace_models::motifs::space_bank::{
    motif_space_bank, score_moves, MoveScore, MoveScores, SpaceBankSpec, SpaceMoves,
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
    /// Also write the factorised space as a motif bank for the instrument's Motif mode here,
    /// e.g. my-space.tsmotif.
    #[arg(long)]
    pub bank: Option<PathBuf>,
    /// Motifs in the bank (training windows spread along their first principal axis).
    #[arg(long, default_value_t = 64)]
    pub bank_motifs: usize,
}

/// Training windows the mean moves are measured on (their mean settles long before).
const MOVE_WINDOWS: usize = 1000;

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
    if !(1..=1024).contains(&args.bank_motifs) {
        bail!("--bank-motifs must be 1–1024");
    }
    let kind = roll_kind(MotifKind::Melodies);
    let CorpusSplit { split, .. } = load_split(&args.data, kind, (1, 0.0), &args.pieces)?;
    let config = MotifSpaceConfig {
        weight: args.weight,
        max_pitch: args.max_pitch,
        max_time: args.max_time,
        blur: args.blur,
        time_blur: args.time_blur,
        latent: args.latent,
        hidden: args.hidden,
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
        let measured = &split.train[..MOVE_WINDOWS.min(split.train.len())];
        let moves = SpaceMoves::measure(&model, measured, &config)?;
        let scored = &split.test[..args.geometry_windows.min(split.test.len())];
        let move_scores = score_moves(&model, &moves, scored)?;
        print_moves(&move_scores);
        report.push(serde_json::json!({
            "config": config, "scores": scores, "moves": move_scores, "history": history
        }));
        if let (Some(path), true) = (&args.bank, weight == args.weight) {
            write_bank(&model, &config, &moves, &split.train, kind, args, path)?;
        }
    }
    if let Some(out) = &args.out {
        write_json(out, "motif_space.json", &serde_json::Value::Array(report))?;
    }
    Ok(())
}

/// Writes the Motif mode's bank of `args.bank_motifs` training windows to `path`.
fn write_bank(
    model: &MotifSpace,
    config: &MotifSpaceConfig,
    moves: &SpaceMoves,
    train: &[PianoRoll],
    kind: RollKind,
    args: &MotifSpaceArgs,
    path: &Path,
) -> Result<()> {
    let RollKind::Melody { lowest, .. } = kind else {
        bail!("only melodies make a motif bank");
    };
    let spec = SpaceBankSpec {
        windows: train,
        moves,
        count: args.bank_motifs,
        lowest_key: lowest,
        source: format!(
            "motif space of {} ({} training windows)",
            args.data.display(),
            train.len()
        ),
    };
    let (bytes, motifs) = motif_space_bank(model, config, &spec)?;
    write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote a motif-space bank of {motifs} motifs to {}",
        path.display()
    );
    Ok(())
}

/// How well mean moves shift held-out motifs.
fn print_moves(s: &MoveScores) {
    let line = |name: &str, m: &MoveScore| {
        println!(
            "  {name} along the mean moves: F1 {:.3} against the shifted window (its own code: \
             {:.3}; not moving: {:.3})",
            m.moved.f1(),
            m.encoded.f1(),
            m.unmoved.f1()
        );
    };
    line("transposed", &s.pitch);
    line("moved in time", &s.time);
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
