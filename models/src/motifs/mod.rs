//! Motifs on piano rolls (issue 9): onset rolls from MIDI files, the symbolic corpus, the
//! temporal CONV-WTA auto-encoder whose feature maps are time-shiftable motif atoms, the
//! factorised motif space where transposition and time shift are directions, and the onset
//! scores that judge them.

pub mod bank;
pub mod corpus;
pub mod evaluate;
pub mod onsets;
pub mod piano_roll;
pub mod space;
pub mod space_bank;
pub mod wta;
