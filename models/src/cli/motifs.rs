//! `timbrespace motifs`: a CONV-WTA motif dictionary learned from a folder of MIDI files
//! (drum parts or melodies), scored on held-out pieces, with its atoms, an interpolation and a
//! style map drawn.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_models::motifs::bank::motif_bank;
use timbrespace_models::motifs::corpus::Corpus;
use timbrespace_models::motifs::evaluate::{
    fit_cleaning, interpolate, score_motifs, split_by_piece, style_map, Cleaning, MotifScores,
    MotifSplit,
};
use timbrespace_models::motifs::onsets::OnsetScore;
use timbrespace_models::motifs::piano_roll::{PianoRoll, RollKind, DRUM_CLASSES};
use timbrespace_models::motifs::wta::{train_wta, ConvWta, WtaConfig};
use timbrespace_models::plots::{latent_map, roll_panels, CellShading};

/// Mixed into the seed of the corruption the cleaning thresholds are fitted on, so it differs
/// from the test's.
const CLEANING_SEED: u64 = 0x5eed_c1ea;

/// Which pieces are held out, and the seed of everything random.
#[derive(Args, Debug)]
pub struct PieceSplitArgs {
    /// Share of the pieces held out.
    #[arg(long, default_value_t = 0.1)]
    pub test_share: f64,
    /// Seed of the split, the weights, the batches and every random draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Which notes become the rolls.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MotifKind {
    /// The drum channel, by drum class.
    Drums,
    /// Every other channel, by pitch (C3–B5, octaves folded in).
    Melodies,
}

/// Options of `motifs`.
#[derive(Args, Debug)]
pub struct MotifArgs {
    /// Folder of MIDI files (sub-folders are collections), e.g. data/midi-corpus/drums.
    pub data: PathBuf,
    /// Which notes to learn from.
    #[arg(long, value_enum)]
    pub kind: MotifKind,
    /// 4/4 bars per window.
    #[arg(long, default_value_t = 2)]
    pub bars: usize,
    /// Feature maps (atoms in the dictionary).
    #[arg(long, default_value_t = WtaConfig::default().maps)]
    pub maps: usize,
    /// Steps (sixteenths) an atom spans.
    #[arg(long, default_value_t = WtaConfig::default().atom_steps)]
    pub atom_steps: usize,
    /// Winners kept per map and window.
    #[arg(long, default_value_t = WtaConfig::default().winners)]
    pub winners: usize,
    /// Passes over the training windows.
    #[arg(long, default_value_t = WtaConfig::default().epochs)]
    pub epochs: usize,
    /// Share of notes dropped and added while training (denoising; 0 = off).
    #[arg(long, default_value_t = WtaConfig::default().corruption)]
    pub corruption: f64,
    /// Share of notes dropped and added in the denoising test.
    #[arg(long, default_value_t = 0.1)]
    pub test_corruption: f64,
    /// Share of the pieces set aside to fit the denoising test's cleaning on, with a second
    /// model trained without them (0: no cleaning, one model).
    #[arg(long, default_value_t = 0.1)]
    pub validation_share: f64,
    #[command(flatten)]
    pub pieces: PieceSplitArgs,
    /// Folder for motifs.json, atoms.png, interpolation.png and styles.png.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write a motif bank for the instrument's Motif mode here (melodies only), e.g.
    /// my-motifs.tsmotif.
    #[arg(long)]
    pub bank: Option<PathBuf>,
    /// Motifs in the bank (training windows spread along their first principal axis).
    #[arg(long, default_value_t = 64)]
    pub bank_motifs: usize,
}

/// The roll kind of a `--kind`.
pub fn roll_kind(kind: MotifKind) -> RollKind {
    match kind {
        MotifKind::Drums => RollKind::Drums,
        MotifKind::Melodies => RollKind::Melody {
            lowest: 48,
            rows: 36,
        },
    }
}

/// Learn, score and draw a motif dictionary.
pub fn run(args: &MotifArgs) -> Result<()> {
    if !(1..=8).contains(&args.bars) || !(1..=512).contains(&args.maps) || args.epochs == 0 {
        bail!("--bars must be 1–8, --maps 1–512 and --epochs at least 1");
    }
    if !(1..=64).contains(&args.atom_steps) || !(1..=16).contains(&args.winners) {
        bail!("--atom-steps must be 1–64 and --winners 1–16");
    }
    for (name, v) in [
        ("--corruption", args.corruption),
        ("--test-corruption", args.test_corruption),
    ] {
        if !(0.0..=0.9).contains(&v) {
            bail!("{name} must be between 0 and 0.9, not {v}");
        }
    }
    if args.bank.is_some() && matches!(args.kind, MotifKind::Drums) {
        bail!("--bank writes melodic motifs for the instrument; use --kind melodies");
    }
    if !(1..=1024).contains(&args.bank_motifs) {
        bail!("--bank-motifs must be 1–1024");
    }
    let CorpusSplit {
        corpus,
        windows,
        split,
    } = load_split(
        &args.data,
        roll_kind(args.kind),
        (args.bars, args.validation_share),
        &args.pieces,
    )?;
    let config = WtaConfig {
        maps: args.maps,
        atom_steps: args.atom_steps,
        winners: args.winners,
        epochs: args.epochs,
        corruption: args.corruption,
        seed: args.pieces.seed,
        ..WtaConfig::default()
    };
    let start = Instant::now();
    let (model, history) = train_wta(&split.train, &config)?;
    println!(
        "trained in {:.0} s; last epoch loss {:.4}",
        start.elapsed().as_secs_f64(),
        history.last().copied().unwrap_or(f64::NAN)
    );
    let cleaning = fit_cleaning_on_validation(&split, &config, args)?;
    let scores = score_motifs(
        &model,
        &split.test,
        args.test_corruption,
        cleaning,
        args.pieces.seed,
    )?;
    print_scores(&scores);
    if let Some(path) = &args.bank {
        write_bank(&model, &split.train, args, path)?;
    }
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let path = out.join("motifs.json");
        let report = serde_json::json!({ "config": config, "scores": scores, "history": history });
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        draw(&model, &corpus, &windows, &split.test, args, out)?;
        println!(
            "wrote motifs.json, atoms.png, interpolation.png and styles.png to {}",
            out.display()
        );
    }
    Ok(())
}

/// Cleaning thresholds for the denoising test, fitted on the validation pieces with a model
/// trained as `config` says on the other training pieces (the model tested saw the
/// validation pieces, so its confidence there would mislead the fit); no cleaning without
/// validation pieces.
fn fit_cleaning_on_validation(
    split: &MotifSplit,
    config: &WtaConfig,
    args: &MotifArgs,
) -> Result<Cleaning> {
    if split.validation.is_empty() || split.train_without_validation.is_empty() {
        return Ok(Cleaning::NONE);
    }
    let start = Instant::now();
    let (model, _) = train_wta(&split.train_without_validation, config)?;
    let cleaning = fit_cleaning(
        &model,
        &split.validation,
        args.test_corruption,
        args.pieces.seed ^ CLEANING_SEED,
    )?;
    println!(
        "fitted the cleaning on {} validation windows with a model of the other {} ({:.0} s)",
        split.validation.len(),
        split.train_without_validation.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(cleaning)
}

/// A corpus cut into windows and split by piece.
pub struct CorpusSplit {
    /// The MIDI files read.
    pub corpus: Corpus,
    /// Every window, with the index of its piece.
    pub windows: Vec<(usize, PianoRoll)>,
    /// The windows split by piece.
    pub split: MotifSplit,
}

/// The corpus of MIDI files under `data`, its windows of `bars` bars and their split by piece
/// as `pieces` asks, with `validation_share` of the pieces for validation; says what it found.
pub fn load_split(
    data: &Path,
    kind: RollKind,
    (bars, validation_share): (usize, f64),
    pieces: &PieceSplitArgs,
) -> Result<CorpusSplit> {
    if !(0.01..=0.9).contains(&pieces.test_share) {
        bail!("--test-share must be between 0.01 and 0.9");
    }
    if !(0.0..=0.5).contains(&validation_share) {
        bail!("--validation-share must be between 0 and 0.5");
    }
    let corpus = Corpus::load(data, kind)?;
    if !corpus.unreadable.is_empty() {
        println!(
            "skipped {} unreadable MIDI files, e.g. {}",
            corpus.unreadable.len(),
            corpus.unreadable[0]
        );
    }
    let windows = corpus.windows(bars, 2);
    let split = split_by_piece(
        windows.clone(),
        corpus.pieces.len(),
        (pieces.test_share, validation_share),
        pieces.seed,
    );
    if split.train.is_empty() || split.test.is_empty() {
        bail!(
            "{} pieces give {} training and {} held-out windows; need both",
            corpus.pieces.len(),
            split.train.len(),
            split.test.len()
        );
    }
    println!(
        "{} pieces in {} collections; {} training (of which {} validation) and {} held-out \
         windows of {bars} bars ({} pieces held out)",
        corpus.pieces.len(),
        corpus.collections().len(),
        split.train.len(),
        split.validation.len(),
        split.test.len(),
        split.test_pieces.len()
    );
    Ok(CorpusSplit {
        corpus,
        windows,
        split,
    })
}

/// Writes the Motif mode's bank of `args.bank_motifs` training windows to `path`.
fn write_bank(model: &ConvWta, train: &[PianoRoll], args: &MotifArgs, path: &Path) -> Result<()> {
    let RollKind::Melody { lowest, .. } = roll_kind(args.kind) else {
        bail!("only melodies make a motif bank");
    };
    let source = format!("{} ({} training windows)", args.data.display(), train.len());
    let bank = motif_bank(model, train, args.bank_motifs, lowest, &source)?;
    // Check it the way the instrument will read it before anyone tries to.
    let text = serde_json::to_string(&bank)?;
    MotifBank::from_json(text.as_bytes()).context("the bank just made does not load")?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote a bank of {} motifs to {}",
        bank.motifs.len(),
        path.display()
    );
    Ok(())
}

/// One onset score as text.
fn describe(s: &OnsetScore) -> String {
    format!(
        "F1 {:.3} (precision {:.3}, recall {:.3})",
        s.f1(),
        s.precision(),
        s.recall()
    )
}

/// The held-out scores.
fn print_scores(s: &MotifScores) {
    println!(
        "held-out reconstruction: {} over {} windows; {} atoms in use",
        describe(&s.reconstruction),
        s.windows,
        s.atoms_used
    );
    println!(
        "denoising ({:.0} % of notes dropped, as many added): corrupted input {}",
        100.0 * s.corruption,
        describe(&s.corrupted),
    );
    println!("  its reconstruction {}", describe(&s.denoised));
    println!(
        "  cleaned by the model (a note stays unless its probability is below {}, one comes \
         where it is above {}; fitted on the validation pieces) {}",
        s.cleaning.keep,
        s.cleaning.add,
        describe(&s.cleaned)
    );
}

/// atoms.png, interpolation.png and styles.png.
fn draw(
    model: &ConvWta,
    corpus: &Corpus,
    windows: &[(usize, PianoRoll)],
    test: &[PianoRoll],
    args: &MotifArgs,
    out: &Path,
) -> Result<()> {
    let atoms = model.atoms()?;
    let panels: Vec<(String, &PianoRoll)> = atoms
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("atom {i}"), a))
        .collect();
    let rows = match args.kind {
        MotifKind::Drums => format!("rows: {}", DRUM_CLASSES.join(", ")),
        MotifKind::Melodies => "rows: C3 upwards".to_string(),
    };
    roll_panels(
        &out.join("atoms.png"),
        &format!("motif atoms (red: plays, blue: suppresses; {rows})"),
        &panels,
        8,
        CellShading::Signed,
    )?;
    if let (Some(a), Some(b)) = (test.first(), test.last()) {
        let path = interpolate(model, a, b, 6)?;
        let mut panels: Vec<(String, &PianoRoll)> = vec![("window A".into(), a)];
        panels.extend(
            path.iter()
                .enumerate()
                .map(|(i, r)| (format!("{:.0} % of the way", 100.0 * i as f64 / 5.0), r)),
        );
        panels.push(("window B".into(), b));
        roll_panels(
            &out.join("interpolation.png"),
            "decoded codes between two held-out windows (onset probability)",
            &panels,
            4,
            CellShading::Probability,
        )?;
    }
    let styles = style_map(model, corpus, windows)?;
    latent_map(
        &out.join("styles.png"),
        "pieces' mean motif codes (PCA), by collection",
        &styles.points,
        &styles.classes,
        &styles.names,
    )?;
    Ok(())
}
