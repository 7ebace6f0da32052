//! The `timbrespace` subcommands, one module each.

pub mod agent_sim;
pub mod data_args;
pub mod dataset;
pub mod eval;
pub mod mixing;
pub mod model_io;
pub mod motif_space;
pub mod motifs;
pub mod patches;
pub mod path;
pub mod render;
pub mod report;
pub mod sps;
pub mod stargate;
pub mod timbre;
pub mod train;
pub mod transcribe;
