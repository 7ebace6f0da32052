//! `timbrespace dataset`: generated datasets.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use timbrespace_models::notes::{find_instrument, Instrument, INSTRUMENTS};
use timbrespace_models::soundfont::{render_notes, NoteRenderer, NoteTiming};
use timbrespace_models::toy::{write_toy_set, ToyKind};

/// Toy generator choice.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ToyArg {
    /// Harmonic tones: f0 64–1024 Hz, 1–7 partials, decay 0.2–4.
    Additive,
    /// FM tones: carrier 60–600 Hz, ratio 0–3, index 0–30.
    Fm,
}

/// Dataset generators.
#[derive(Subcommand, Debug)]
pub enum DatasetKind {
    /// Render isolated notes of the timbre study's 12 instruments from an SF2 soundfont:
    /// every semitone of each range at pp, p, mf and ff, as OUT/Instrument/Instrument_Note_dyn.wav.
    Notes {
        /// The SF2 soundfont (`cargo xtask fetch-soundfont` puts FluidR3_GM.sf2 in data/).
        #[arg(long, default_value = "data/soundfonts/FluidR3_GM.sf2")]
        soundfont: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "data/notes")]
        out: PathBuf,
        /// Sample rate in Hz.
        #[arg(long, default_value_t = 44_100)]
        rate: u32,
        /// Only these instruments (comma-separated names), instead of all twelve.
        #[arg(long, value_delimiter = ',')]
        instruments: Vec<String>,
        /// Seconds each note is held before its release.
        #[arg(long, default_value_t = 1.0)]
        hold: f32,
    },
    /// Random toy sounds from the thesis (3.2.1.1) with their parameters in OUT/labels.csv.
    Toy {
        /// Generator.
        #[arg(value_enum)]
        kind: ToyArg,
        /// Output folder.
        #[arg(long, default_value = "data/toy")]
        out: PathBuf,
        /// Number of sounds.
        #[arg(long, default_value_t = 400)]
        count: usize,
        /// Seconds per sound.
        #[arg(long, default_value_t = 0.5)]
        seconds: f64,
        /// Sample rate in Hz.
        #[arg(long, default_value_t = 22_050)]
        rate: u32,
        /// Seed of the parameters and phases.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Generate a dataset.
pub fn run(kind: &DatasetKind) -> Result<()> {
    match kind {
        DatasetKind::Notes {
            soundfont,
            out,
            rate,
            instruments,
            hold,
        } => notes(soundfont, out, *rate, instruments, *hold),
        DatasetKind::Toy {
            kind,
            out,
            count,
            seconds,
            rate,
            seed,
        } => {
            if *count == 0 || !(0.25..=60.0).contains(seconds) || !(8000..=192_000).contains(rate) {
                bail!("--count must be positive, --seconds 0.25–60 and --rate 8–192 kHz");
            }
            let kind = match kind {
                ToyArg::Additive => ToyKind::Additive,
                ToyArg::Fm => ToyKind::Fm,
            };
            let written = write_toy_set(kind, *count, *seconds, *rate, *seed, out)?;
            println!(
                "wrote {} {kind:?} sounds and labels.csv to {}",
                written.len(),
                out.display()
            );
            Ok(())
        }
    }
}

fn notes(
    soundfont: &std::path::Path,
    out: &std::path::Path,
    rate: u32,
    names: &[String],
    hold: f32,
) -> Result<()> {
    let instruments: Vec<Instrument> = if names.is_empty() {
        INSTRUMENTS.to_vec()
    } else {
        names
            .iter()
            .map(|n| find_instrument(n).with_context(|| format!("unknown instrument {n:?}")))
            .collect::<Result<_>>()?
    };
    let renderer = NoteRenderer::open(soundfont, rate)?;
    let timing = NoteTiming {
        hold: hold.clamp(0.05, 30.0),
        ..NoteTiming::default()
    };
    let mut count = 0;
    let summary = render_notes(&renderer, &instruments, timing, out, &mut |_| {
        count += 1;
        if count % 100 == 0 {
            println!("  {count} notes");
        }
    })?;
    println!("Wrote {} notes to {}", summary.written.len(), out.display());
    if !summary.silent.is_empty() {
        println!(
            "Skipped {} silent notes: {}",
            summary.silent.len(),
            summary.silent.join(", ")
        );
    }
    Ok(())
}
