//! Motifs on piano rolls (issue 9): onset rolls from MIDI files, the symbolic corpus, the
//! temporal CONV-WTA auto-encoder whose feature maps are time-shiftable motif atoms, and the
//! onset scores that judge it.

pub mod bank;
pub mod corpus;
pub mod evaluate;
pub mod onsets;
pub mod piano_roll;
pub mod wta;
