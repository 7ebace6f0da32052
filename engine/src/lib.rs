//! Timbrespace's real-time spectral engine: STFT/ISTFT, phase reconstruction from magnitudes
//! (RTPGHI, a refined real-time mode, offline PGHI and Fast Griffin-Lim), voices that turn a
//! stream of magnitude frames into audio at any block size, resampling to the host's rate, and
//! the `.tsm` model file with the allocation-free decoder kernel that plays it.
//!
//! It also holds the co-exploration agent, which runs beside the audio thread (never on it), and
//! the Motif mode's motif bank and beat-grid sequencer.
//!
//! Nothing here depends on a machine-learning framework: every object on the audio path is
//! allocated when it is built and never again.

pub mod agent;
pub mod axes;
pub mod descriptor_path;
pub mod descriptors;
pub mod error;
pub mod grid;
pub mod metrics;
pub mod model;
pub mod motif;
pub mod phase;
pub mod pitch;
pub mod player;
pub mod resample;
pub mod steering;
pub mod stft;
pub mod symbols;
pub mod voice;
pub mod window;

pub use realfft::num_complex::Complex32;
