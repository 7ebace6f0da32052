//! The `timbrespace` subcommands, one module each.

pub mod data_args;
pub mod dataset;
pub mod eval;
pub mod model_io;
pub mod render;
pub mod report;
pub mod train;
pub mod transcribe;
