//! Soft pitch/time factorisation (Hawley's soft-factorisation notebook; DESIGN §7): inputs are
//! shifted along log-frequency (a transposition) or, for multi-frame patches, along time, and
//! for an anchor and two shifted views the latent moves are pushed toward cosine +1 (same kind,
//! same way), −1 (same kind, opposite ways) or 0 (pitch against time), so that transposition
//! and time shift become two orthogonal directions of the latent space.
//!
//! The main (single-frame) models get the pitch half, applied to their linear STFT frames
//! ([`transpose`]); [`patches`] trains the multi-frame patch model on log-frequency patches
//! ([`log_frequency`]) for both halves, with an optional SIGReg term ([`sigreg`]).

mod grid;
pub mod log_frequency;
mod loss;
mod moves;
pub mod patches;
mod shifts;
pub mod sigreg;

pub use grid::{GridGeometry, ShiftGrid};
pub use loss::{cosines, soft_loss, FactoriseConfig, ShiftViews};
pub use moves::{ShiftGeometry, ShiftMoves};
pub use shifts::{
    pair_target, random_shift, shift_patch, transpose, Shift, ShiftKind, BINS_PER_OCTAVE,
};
