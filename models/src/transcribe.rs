//! Audio → symbols: every frame of a sound is encoded with q(z|x) and read with the symbol
//! decoder p(y|z), giving pitch class, octave, dynamics and instrument with probabilities per
//! frame, and a note-level reading for an isolated note.

use std::path::Path;

use timbrespace_engine::model::ModelFile;
use timbrespace_engine::symbols::SymbolReader;

use crate::synth::{analyse, encode_grid, SynthError};

/// Frames more than this far below the loudest frame are left out of the note-level reading.
const NOTE_FLOOR_DB: f32 = 20.0;

/// Why a sound could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// The sound or the model could not be used.
    #[error(transparent)]
    Synth(#[from] SynthError),
    /// The model has no symbol decoder.
    #[error("this model was trained without symbols, so it cannot transcribe; retrain it on labelled notes")]
    NoSymbols,
    /// The model's symbol decoder is unusable.
    #[error(transparent)]
    Model(#[from] timbrespace_engine::model::ModelFileError),
}

/// The reading of one group (e.g. pitch): best class and its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Class name.
    pub class: String,
    /// Its probability.
    pub probability: f32,
}

/// One frame's symbols.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameReading {
    /// Centre of the frame in seconds.
    pub seconds: f64,
    /// Frame energy relative to the loudest frame, dB.
    pub level_db: f32,
    /// One reading per group, in the model's group order.
    pub groups: Vec<Reading>,
}

/// A sound's symbols.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcription {
    /// Group names (pitch, octave, dynamics, instrument, …).
    pub group_names: Vec<String>,
    /// Per frame.
    pub frames: Vec<FrameReading>,
    /// Per group, the class with the highest mean probability over frames within
    /// 20 dB of the loudest: the reading of an isolated note.
    pub note: Vec<Reading>,
}

/// Transcribe the sound at `path` with `model`.
pub fn transcribe(model: &ModelFile, path: &Path) -> Result<Transcription, TranscribeError> {
    let mut reader = SymbolReader::new(model)?.ok_or(TranscribeError::NoSymbols)?;
    let grid = analyse(model, path)?;
    let latents = encode_grid(model, &grid)?;
    let energies: Vec<f32> = (0..grid.frames())
        .map(|j| grid.frame(j).iter().map(|m| m * m).sum())
        .collect();
    let peak = energies.iter().copied().fold(0.0f32, f32::max).max(1e-20);
    let vocabulary = reader.vocabulary().clone();
    let width = vocabulary.width();
    let mut probabilities = vec![0.0; width];
    let mut note_sum = vec![0.0f64; width];
    let mut note_frames = 0usize;
    let signal = &model.manifest.signal;
    let mut frames = Vec::with_capacity(latents.len());
    for (j, z) in latents.iter().enumerate() {
        reader.probabilities(z, &mut probabilities);
        let level_db = 10.0 * (energies[j] / peak).max(1e-12).log10();
        if level_db >= -NOTE_FLOOR_DB {
            note_frames += 1;
            note_sum
                .iter_mut()
                .zip(&probabilities)
                .for_each(|(s, &p)| *s += f64::from(p));
        }
        frames.push(FrameReading {
            seconds: (j * signal.hop) as f64 / f64::from(signal.sample_rate),
            level_db,
            groups: (0..vocabulary.groups.len())
                .map(|g| reading(&vocabulary, g, &probabilities))
                .collect(),
        });
    }
    let mean: Vec<f32> = note_sum
        .iter()
        .map(|s| (s / note_frames.max(1) as f64) as f32)
        .collect();
    Ok(Transcription {
        group_names: vocabulary.groups.iter().map(|g| g.name.clone()).collect(),
        note: (0..vocabulary.groups.len())
            .map(|g| reading(&vocabulary, g, &mean))
            .collect(),
        frames,
    })
}

/// The best class of group `g`.
fn reading(
    vocabulary: &timbrespace_engine::symbols::SymbolVocabulary,
    g: usize,
    probabilities: &[f32],
) -> Reading {
    let (class, probability) = vocabulary.best(g, probabilities);
    Reading {
        class: vocabulary.groups[g].classes[class].clone(),
        probability,
    }
}

impl Transcription {
    /// The frames as CSV: `seconds,level_db,<group>,<group>_p,…`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("seconds,level_db");
        for name in &self.group_names {
            out.push_str(&format!(",{name},{name}_p"));
        }
        out.push('\n');
        for f in &self.frames {
            out.push_str(&format!("{:.4},{:.1}", f.seconds, f.level_db));
            for r in &f.groups {
                out.push_str(&format!(",{},{:.3}", r.class, r.probability));
            }
            out.push('\n');
        }
        out
    }
}
