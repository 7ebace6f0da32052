//! Isolated instrument notes rendered from a General MIDI soundfont (pure Rust, `rustysynth`),
//! as float samples with reverb and chorus off: the real notes Timbrespace tests and trains on.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};
use thiserror::Error;

use crate::audio_file::{write_wav, AudioFileError, MonoAudio};
use crate::notes::{note_name, Dynamics, Instrument};

/// Why notes could not be rendered.
#[derive(Debug, Error)]
pub enum SoundfontError {
    /// The soundfont file could not be opened.
    #[error("cannot open soundfont {path}: {source} (run `cargo xtask fetch-soundfont`)")]
    Open {
        /// The path tried.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a soundfont rustysynth can read (SF3 files are not supported).
    #[error("{path} is not a readable SF2 soundfont: {reason}")]
    Parse {
        /// The path read.
        path: String,
        /// rustysynth's explanation.
        reason: String,
    },
    /// The synthesiser refused the settings.
    #[error("cannot start the synthesiser: {0}")]
    Synth(String),
    /// The output folder could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        /// The folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A rendered note could not be written.
    #[error(transparent)]
    Write(#[from] AudioFileError),
}

/// How long each note lasts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteTiming {
    /// Seconds between note-on and note-off.
    pub hold: f32,
    /// Seconds rendered after note-off, for the release.
    pub release: f32,
}

impl Default for NoteTiming {
    fn default() -> Self {
        Self {
            hold: 1.0,
            release: 0.5,
        }
    }
}

/// Renders single notes from one soundfont at one sample rate.
pub struct NoteRenderer {
    font: Arc<SoundFont>,
    settings: SynthesizerSettings,
}

impl NoteRenderer {
    /// Loads an SF2 soundfont.
    pub fn open(path: &Path, rate: u32) -> Result<Self, SoundfontError> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|source| SoundfontError::Open {
            path: shown.clone(),
            source,
        })?;
        let font =
            SoundFont::new(&mut BufReader::new(file)).map_err(|e| SoundfontError::Parse {
                path: shown,
                reason: e.to_string(),
            })?;
        let mut settings = SynthesizerSettings::new(rate.clamp(8_000, 192_000) as i32);
        settings.enable_reverb_and_chorus = false;
        Ok(Self {
            font: Arc::new(font),
            settings,
        })
    }

    /// Sample rate of the rendered notes.
    pub fn rate(&self) -> u32 {
        self.settings.sample_rate as u32
    }

    /// One note, mixed to mono.
    pub fn render(
        &self,
        instrument: &Instrument,
        key: u8,
        velocity: u8,
        timing: NoteTiming,
    ) -> Result<MonoAudio, SoundfontError> {
        let mut synth = Synthesizer::new(&self.font, &self.settings)
            .map_err(|e| SoundfontError::Synth(e.to_string()))?;
        let rate = self.settings.sample_rate as f32;
        let hold = (timing.hold.max(0.0) * rate) as usize;
        let total = hold + (timing.release.max(0.0) * rate) as usize;
        let (mut left, mut right) = (vec![0.0; total], vec![0.0; total]);
        const PROGRAM_CHANGE: i32 = 0xC0;
        synth.process_midi_message(0, PROGRAM_CHANGE, i32::from(instrument.program), 0);
        synth.note_on(0, i32::from(key), i32::from(velocity.clamp(1, 127)));
        synth.render(&mut left[..hold], &mut right[..hold]);
        synth.note_off(0, i32::from(key));
        synth.render(&mut left[hold..], &mut right[hold..]);
        let samples = left
            .iter()
            .zip(&right)
            .map(|(l, r)| 0.5 * (l + r))
            .collect();
        Ok(MonoAudio {
            samples,
            rate: self.rate(),
        })
    }
}

/// What `render_notes` produced.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct NotesSummary {
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Notes skipped because the soundfont left them silent, as `Instrument_Note_dyn`.
    pub silent: Vec<String>,
}

/// Peak level under which a rendered note counts as silent (−120 dBFS).
const SILENCE_PEAK: f32 = 1e-6;

/// The file stem of a note: `Trumpet_C#4_mf` (instrument, note name, dynamics).
pub fn note_stem(instrument: &Instrument, key: u8, dynamics: Dynamics) -> String {
    format!("{}_{}_{}", instrument.name, note_name(key), dynamics)
}

/// Renders every semitone of each instrument's range at every dynamics level into
/// `out/Instrument/Instrument_Note_dyn.wav`, calling `progress` after each note.
pub fn render_notes(
    renderer: &NoteRenderer,
    instruments: &[Instrument],
    timing: NoteTiming,
    out: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<NotesSummary, SoundfontError> {
    let mut summary = NotesSummary::default();
    for instrument in instruments {
        let dir = out.join(instrument.name);
        fs::create_dir_all(&dir).map_err(|source| SoundfontError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
        for key in instrument.low..=instrument.high {
            for dynamics in Dynamics::RENDERED {
                let stem = note_stem(instrument, key, dynamics);
                let audio = renderer.render(instrument, key, dynamics.velocity(), timing)?;
                let peak = audio.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                if peak < SILENCE_PEAK {
                    summary.silent.push(stem);
                    continue;
                }
                let path = dir.join(format!("{stem}.wav"));
                write_wav(&path, &audio)?;
                progress(&stem);
                summary.written.push(path);
            }
        }
    }
    Ok(summary)
}
