//! `timbrespace transcribe`: audio → symbols.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use timbrespace_engine::model::ModelFile;
use timbrespace_models::transcribe::transcribe;

/// Options of `transcribe`.
#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// The model file (trained with symbols).
    pub model: PathBuf,
    /// The sound to read.
    pub audio: PathBuf,
    /// Write the per-frame CSV here instead of printing it.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Print or write per-frame symbols, then the note-level reading.
pub fn run(args: &TranscribeArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let transcription = transcribe(&model, &args.audio)?;
    let csv = transcription.to_csv();
    match &args.out {
        Some(path) => {
            std::fs::write(path, &csv)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "wrote {} frames to {}",
                transcription.frames.len(),
                path.display()
            );
        }
        None => print!("{csv}"),
    }
    let summary: Vec<String> = transcription
        .group_names
        .iter()
        .zip(&transcription.note)
        .map(|(name, r)| format!("{name} {} ({:.0} %)", r.class, 100.0 * r.probability))
        .collect();
    println!("note: {}", summary.join(", "));
    Ok(())
}
