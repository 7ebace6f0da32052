//! Typed errors of the engine.

use thiserror::Error;

/// What can go wrong when building engine objects. Nothing on the audio path returns errors:
/// every check happens when a configuration is built.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EngineError {
    /// The STFT size is not a power of two between 256 and 8192.
    #[error("FFT size {0} is not a power of two between 256 and 8192")]
    FftSize(usize),
    /// The hop is not n_fft/4 or n_fft/8 (phase reconstruction needs redundancy 4 or 8).
    #[error("hop {hop} does not divide FFT size {n_fft} by 4 or 8")]
    Hop {
        /// The FFT size the hop was checked against.
        n_fft: usize,
        /// The rejected hop.
        hop: usize,
    },
    /// A Gaussian window parameter outside the range where truncation stays harmless.
    #[error("Gaussian window ratio {0} is outside 0.02..=0.5 (λ as a fraction of the window length squared)")]
    GaussianRatio(f32),
    /// A sample rate of zero or beyond 768 kHz.
    #[error("sample rate {0} Hz is not between 1 Hz and 768 kHz")]
    SampleRate(usize),
    /// The resampler could not be built for this pair of rates.
    #[error("cannot resample {from} Hz to {to} Hz: {reason}")]
    Resampler {
        /// Source rate.
        from: usize,
        /// Target rate.
        to: usize,
        /// The resampler's own explanation.
        reason: String,
    },
    /// Buffers or grids whose shapes do not match the configuration.
    #[error("shape mismatch: {0}")]
    Shape(String),
}
