//! `timbrespace`: the command line of Timbrespace's offline tools.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use timbrespace_models::audio_file::write_wav;
use timbrespace_models::demo::{demo_config, demo_note, resample, resynthesise, DEMO_MODES};
use timbrespace_models::notes::{find_instrument, Instrument, INSTRUMENTS};
use timbrespace_models::soundfont::{render_notes, NoteRenderer, NoteTiming};

#[derive(Parser)]
#[command(
    name = "timbrespace",
    version,
    about = "Timbrespace: neural spectral synthesis tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resynthesise the bundled trumpet note from its magnitudes alone with each real-time
    /// phase reconstruction mode, print their spectral convergence, and write one as WAV.
    Demo {
        /// Where to write the resynthesis.
        #[arg(long, default_value = "demo.wav")]
        out: PathBuf,
        /// Which mode to write: rtpghi-0, rtpghi-1 or refined.
        #[arg(long, default_value = "refined")]
        mode: String,
        /// Output sample rate in Hz (resampled from the note's 44.1 kHz if different).
        #[arg(long, default_value_t = 44_100)]
        rate: u32,
    },
    /// Build datasets.
    Dataset {
        #[command(subcommand)]
        kind: DatasetKind,
    },
}

#[derive(Subcommand)]
enum DatasetKind {
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
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Demo { out, mode, rate } => demo(out, &mode, rate),
        Command::Dataset {
            kind:
                DatasetKind::Notes {
                    soundfont,
                    out,
                    rate,
                    instruments,
                    hold,
                },
        } => notes(&soundfont, &out, rate, &instruments, hold),
    }
}

fn demo(out: PathBuf, mode: &str, rate: u32) -> Result<()> {
    let Some(&(_, chosen)) = DEMO_MODES.iter().find(|(name, _)| *name == mode) else {
        let names: Vec<_> = DEMO_MODES.iter().map(|(n, _)| *n).collect();
        bail!("unknown mode {mode:?}; choose one of {}", names.join(", "));
    };
    let note = demo_note()?;
    let config = demo_config()?;
    println!(
        "Resynthesising the bundled trumpet note ({:.2} s at {} Hz) from magnitudes alone",
        note.samples.len() as f32 / note.rate as f32,
        note.rate
    );
    println!(
        "n_fft {}, hop {}, Hann window",
        config.n_fft(),
        config.hop()
    );
    let mut written = None;
    for (name, phase_mode) in DEMO_MODES {
        let result = resynthesise(&note, &config, phase_mode);
        println!("  {name:<9} spectral convergence {:>6.1} dB", result.sc_db);
        if phase_mode == chosen {
            written = Some(result.audio);
        }
    }
    let audio = written.context("the chosen mode was not rendered")?;
    let audio = if rate == audio.rate {
        audio
    } else {
        resample(&audio, rate)?
    };
    write_wav(&out, &audio)?;
    println!("Wrote {} ({mode}, {} Hz)", out.display(), audio.rate);
    Ok(())
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
