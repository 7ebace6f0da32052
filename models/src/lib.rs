//! Timbrespace's offline half: datasets of real notes, the demo, and (in later releases)
//! training, evaluation and model files. The `timbrespace` command line lives in `main.rs`.

pub mod audio_file;
pub mod demo;
pub mod notes;
pub mod soundfont;
