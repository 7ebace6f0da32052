//! Reading any supported audio file (WAV, FLAC, OGG Vorbis, AIFF) as mono at a chosen rate.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use thiserror::Error;
use timbrespace_engine::resample::StreamResampler;

use crate::audio_file::MonoAudio;

/// File extensions (lower case) the importer reads.
pub const AUDIO_EXTENSIONS: [&str; 7] = ["wav", "flac", "ogg", "oga", "aif", "aiff", "aifc"];

/// Why an audio file could not be imported.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The container or codec is unknown or the data is corrupt.
    #[error("cannot decode {path}: {reason}")]
    Decode {
        /// The file.
        path: String,
        /// symphonia's explanation.
        reason: String,
    },
    /// The file decodes to nothing.
    #[error("{0} holds no audio")]
    Empty(String),
    /// The file's sample rate cannot be converted to the model's.
    #[error("cannot resample {path}: {reason}")]
    Resample {
        /// The file.
        path: String,
        /// The resampler's explanation.
        reason: String,
    },
}

/// Whether `path` has an extension the importer reads.
pub fn is_audio_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decode `path`, mix it down to mono and resample it to `rate`.
pub fn load_audio(path: &Path, rate: u32) -> Result<MonoAudio, ImportError> {
    let audio = decode_mono(path)?;
    if audio.rate == rate {
        return Ok(audio);
    }
    resample(&audio, rate).map_err(|e| ImportError::Resample {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Decode the first audio track of `path` to mono at its own rate.
pub fn decode_mono(path: &Path) -> Result<MonoAudio, ImportError> {
    let shown = path.display().to_string();
    let decode_error = |reason: String| ImportError::Decode {
        path: shown.clone(),
        reason,
    };
    let file = File::open(path).map_err(|source| ImportError::Open {
        path: shown.clone(),
        source,
    })?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| decode_error(e.to_string()))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| decode_error("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| decode_error("no audio codec parameters".into()))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| decode_error(e.to_string()))?;
    let mut samples = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut rate = params.sample_rate.unwrap_or(0);
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(e) => return Err(decode_error(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                let channels = buffer.spec().channels().count().max(1);
                rate = buffer.spec().rate();
                interleaved.resize(buffer.samples_interleaved(), 0.0);
                buffer.copy_to_slice_interleaved(&mut interleaved);
                samples.extend(
                    interleaved
                        .chunks_exact(channels)
                        .map(|frame| frame.iter().sum::<f32>() / channels as f32),
                );
            }
            // A damaged packet is skipped, as players do; anything else ends the file.
            Err(SymphoniaError::DecodeError(_)) => {}
            Err(e) => return Err(decode_error(e.to_string())),
        }
    }
    if samples.is_empty() || rate == 0 {
        return Err(ImportError::Empty(shown));
    }
    if samples.iter().any(|s| !s.is_finite()) {
        return Err(decode_error(
            "the decoded samples hold NaN or infinity".into(),
        ));
    }
    Ok(MonoAudio { samples, rate })
}

/// Resample audio to `rate` with the engine's resampler (its latency removed).
pub fn resample(
    audio: &MonoAudio,
    rate: u32,
) -> Result<MonoAudio, timbrespace_engine::error::EngineError> {
    let mut resampler = StreamResampler::new(audio.rate as usize, rate as usize, 256)?;
    let delay = resampler.delay();
    let wanted = (audio.samples.len() as u64 * u64::from(rate) / u64::from(audio.rate)) as usize;
    let mut out = vec![0.0; wanted + delay];
    let mut next = 0;
    resampler.render(&mut out, &mut |chunk: &mut [f32]| {
        for s in chunk {
            *s = audio.samples.get(next).copied().unwrap_or(0.0);
            next += 1;
        }
    });
    out.drain(..delay);
    Ok(MonoAudio { samples: out, rate })
}
