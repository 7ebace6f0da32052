//! Reading and writing WAV files as mono float samples.

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use thiserror::Error;

/// Why a WAV file could not be read or written.
#[derive(Debug, Error)]
pub enum AudioFileError {
    /// The file or bytes are not a WAV file hound can read.
    #[error("cannot read WAV {what}: {source}")]
    Read {
        /// The file name, or a description of in-memory bytes.
        what: String,
        /// hound's error.
        source: hound::Error,
    },
    /// The WAV file could not be written.
    #[error("cannot write WAV {path}: {source}")]
    Write {
        /// Target path.
        path: String,
        /// hound's error.
        source: hound::Error,
    },
    /// A file or folder could not be created or written.
    #[error("cannot write {0}")]
    Io(String),
    /// A WAV file with no channels or no samples.
    #[error("WAV {0} holds no audio")]
    Empty(String),
}

/// Mono audio at a sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// Samples in −1..1.
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub rate: u32,
}

/// Reads a WAV file (integer or float, any channel count, mixed down to mono).
pub fn read_wav(path: &Path) -> Result<MonoAudio, AudioFileError> {
    let what = path.display().to_string();
    let reader = hound::WavReader::open(path).map_err(|source| AudioFileError::Read {
        what: what.clone(),
        source,
    })?;
    decode(reader, what)
}

/// Reads WAV bytes held in memory (for embedded assets).
pub fn read_wav_bytes(bytes: &[u8], what: &str) -> Result<MonoAudio, AudioFileError> {
    let reader =
        hound::WavReader::new(Cursor::new(bytes)).map_err(|source| AudioFileError::Read {
            what: what.to_string(),
            source,
        })?;
    decode(reader, what.to_string())
}

fn decode<R: Read + Seek>(
    mut reader: hound::WavReader<R>,
    what: String,
) -> Result<MonoAudio, AudioFileError> {
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    let read_err = |source| AudioFileError::Read {
        what: what.clone(),
        source,
    };
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(read_err)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(read_err)?
        }
    };
    if channels == 0 || interleaved.len() < channels {
        return Err(AudioFileError::Empty(what));
    }
    let samples = interleaved
        .chunks_exact(channels)
        .map(|c| c.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(MonoAudio {
        samples,
        rate: spec.sample_rate,
    })
}

/// Writes mono 32-bit float WAV (quiet notes keep their detail; 16 bits would not).
pub fn write_wav(path: &Path, audio: &MonoAudio) -> Result<(), AudioFileError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: audio.rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let err = |source| AudioFileError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(err)?;
    for &s in &audio.samples {
        writer.write_sample(s).map_err(err)?;
    }
    writer.finalize().map_err(err)
}
