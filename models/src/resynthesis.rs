//! Resynthesis of a bundled soundfont note from its STFT magnitudes alone, with each real-time
//! phase reconstruction mode: the engine's reference check on a real instrument.

use timbrespace_engine::error::EngineError;
use timbrespace_engine::metrics::spectral_convergence_db;
use timbrespace_engine::phase::refined::RefineSettings;
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::stft::{magnitude_stft, StftConfig};
use timbrespace_engine::voice::{PhaseMode, SpectrogramSource, Voice};
use timbrespace_engine::window::WindowKind;

use crate::audio_file::{read_wav_bytes, AudioFileError, MonoAudio};

/// The bundled reference note: a FluidR3 (MIT) trumpet C5, mezzo-forte, 44.1 kHz float.
pub const REFERENCE_NOTE: &[u8] = include_bytes!("../../assets/demo/Trumpet_C5_mf.wav");

/// The real-time phase modes, with the names the command line uses.
pub const PHASE_MODES: [(&str, PhaseMode); 3] = [
    ("rtpghi-0", PhaseMode::Rtpghi(Lookahead::Zero)),
    ("rtpghi-1", PhaseMode::Rtpghi(Lookahead::One)),
    (
        "refined",
        PhaseMode::Refined(RefineSettings {
            active_frames: 2,
            iterations: 3,
            momentum: 0.3,
        }),
    ),
];

/// The STFT the reference check analyses with: n_fft 1024, hop 256, Hann.
pub fn reference_config() -> Result<StftConfig, EngineError> {
    StftConfig::new(1024, 256, WindowKind::Hann)
}

/// The bundled note.
pub fn reference_note() -> Result<MonoAudio, AudioFileError> {
    read_wav_bytes(REFERENCE_NOTE, "bundled reference note")
}

/// One resynthesis: the audio at the source's rate (latency removed) and its spectral
/// convergence against the original magnitudes.
pub struct Resynthesis {
    /// The resynthesised samples, aligned with the input.
    pub audio: MonoAudio,
    /// Spectral convergence in dB (lower is better).
    pub sc_db: f64,
}

/// Streams `input`'s magnitudes through a real-time voice in host-sized blocks of 512 samples
/// and measures the result.
pub fn resynthesise(input: &MonoAudio, config: &StftConfig, mode: PhaseMode) -> Resynthesis {
    let frames = magnitude_stft(config, &input.samples);
    let mut voice = Voice::new(config, mode);
    let latency = voice.latency_samples();
    let mut source = SpectrogramSource::new(&frames, false);
    let mut out = vec![0.0; input.samples.len() + latency];
    for block in out.chunks_mut(512) {
        voice.render(block, &mut source);
    }
    out.drain(..latency);
    let sc_db = spectral_convergence_db(config, &frames, &out);
    Resynthesis {
        audio: MonoAudio {
            samples: out,
            rate: input.rate,
        },
        sc_db,
    }
}

/// The phase mode called `name` (see [`PHASE_MODES`]).
pub fn phase_mode(name: &str) -> Option<PhaseMode> {
    PHASE_MODES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, m)| m)
}
