//! `timbrespace sps`: the physical-symmetry pitch factor, with K random translations and
//! without (K = 0), scored on held-out detuned notes.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use timbrespace_engine::symbols::INSTRUMENT;
use timbrespace_models::dataset::{file_key, file_label, Dataset};
use timbrespace_models::sps::{
    score_sps, train_sps, Markings, ScaleSet, SpsConfig, SpsScores, TestNote,
};

use super::data_args::DataArgs;
use super::report::print_import;

/// Options of `sps`.
#[derive(Args, Debug)]
pub struct SpsArgs {
    /// Folder of notes labelled with pitch, octave and instrument (the soundfont notes).
    pub data: PathBuf,
    /// Random latent translations per step (the K = 0 ablation is trained beside it).
    #[arg(long, default_value_t = 4)]
    pub translations: usize,
    /// Latent size (coordinate 0 is the pitch factor).
    #[arg(long, default_value_t = 4)]
    pub latent: usize,
    /// Passes over the scales.
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Seed of weights, batches, translations and detuning.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Learn from this instrument's notes only (the paper's setting: one instrument's range).
    #[arg(long)]
    pub instrument: Option<String>,
    /// Play each note of a scale at a random dynamics marking of its instrument instead of
    /// every note at the scale's one marking (the paper's setting).
    #[arg(long)]
    pub mixed_markings: bool,
    /// Weight of the step tie (0: off, the symmetry alone): views moved by a few
    /// log-frequency bins must move the pitch factor by one slope per bin, the same for every
    /// note.
    #[arg(long, default_value_t = 1e5)]
    pub step_tie: f64,
    /// Where to write the scores as JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub data_args: DataArgs,
}

/// Train with and without the symmetry, print and write the scores.
pub fn run(args: &SpsArgs) -> Result<()> {
    if !(2..=64).contains(&args.latent)
        || args.epochs == 0
        || args.translations > 64
        || !(0.0..=1e6).contains(&args.step_tie)
    {
        anyhow::bail!("--latent must be 2–64, --epochs at least 1, --translations at most 64 and --step-tie 0 to 1e6");
    }
    let options = args.data_args.options(&args.data)?;
    let dataset = Dataset::import(&args.data, &options)?;
    print_import(&dataset);
    // The scales use each note's middle frame; the frame after it is held out (detuned, it
    // is a pitch the model never heard, from the same sustained part of the note).
    let middle = |f: usize| {
        let frames = &dataset.files[f].frames;
        frames.start + (frames.len() - 2) / 2
    };
    let chosen = |f: usize| {
        let frames = &dataset.files[f].frames;
        let instrument = file_label(&dataset, f, INSTRUMENT);
        frames.len() >= 2
            && args
                .instrument
                .as_deref()
                .is_none_or(|i| instrument == Some(i))
    };
    let markings = if args.mixed_markings {
        Markings::Mixed(args.seed)
    } else {
        Markings::Same
    };
    let scales = ScaleSet::build(&dataset, &|f| chosen(f).then(|| middle(f)), markings)?;
    let instrument = dataset.label_sets.iter().position(|l| l.name == INSTRUMENT);
    let test: Vec<TestNote> = (0..dataset.files.len())
        .filter(|&f| chosen(f))
        .filter_map(|f| {
            let group = instrument.and_then(|k| dataset.files[f].labels[k])?;
            Some((middle(f) + 1, file_key(&dataset, f)?, group))
        })
        .collect();
    println!(
        "{} major scales up and down (15 notes{}) for training, {} held-out notes detuned by up to ±49 cents for testing",
        scales.scales.len(),
        match markings {
            Markings::Same => ", one marking each",
            Markings::Mixed(_) => ", each note at a random marking",
        },
        test.len()
    );
    if args.step_tie > 0.0 {
        println!(
            "step tie of weight {}: views moved by up to a whole tone move the pitch factor by one shared slope",
            args.step_tie
        );
    } else {
        println!("no step tie: the symmetry alone shapes the pitch factor");
    }
    let mut results = Vec::new();
    for k in [0, args.translations] {
        let config = SpsConfig {
            latent: args.latent,
            translations: k,
            epochs: args.epochs,
            seed: args.seed,
            step_weight: args.step_tie,
            ..SpsConfig::default()
        };
        let start = Instant::now();
        let (model, history) = train_sps(&dataset, &scales, &config)?;
        let scores = score_sps(&model, &dataset, &test, args.seed)?;
        println!(
            "K = {k}: pitch factor R² {:.4} (embedding; {:.4} within instruments), {:.4} (synthesis, {} of {} renderings voiced); {:.3} units per semitone; final loss {:.1}; {:.0} s",
            scores.embedding_r2,
            scores.within_instrument_r2,
            scores.synthesis_r2,
            scores.voiced,
            scores.rendered,
            scores.units_per_semitone,
            history.last().copied().unwrap_or(f64::NAN),
            start.elapsed().as_secs_f64()
        );
        results.push((k, scores));
    }
    if let Some(out) = &args.out {
        let json: Vec<serde_json::Value> = results
            .iter()
            .map(
                |(k, s): &(usize, SpsScores)| serde_json::json!({ "translations": k, "scores": s }),
            )
            .collect();
        std::fs::write(out, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}
