//! The Timbrespace instrument: a nice-plug CLAP/VST3 plugin that plays a model through the
//! engine's voices. This crate currently only fixes the plugin's place in the workspace and its
//! dependency on the engine; the instrument itself is the plugin issue's work.

pub use timbrespace_engine as engine;
