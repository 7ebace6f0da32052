//! Timbrespace's offline half: datasets, the spectral VAE and its training, projections,
//! evaluation, model export and offline rendering. The `timbrespace` command line lives in
//! `main.rs`.

pub mod adam;
pub mod audio_file;
pub mod audio_import;
pub mod batches;
pub mod dataset;
pub mod demo;
pub mod evaluate;
pub mod export;
pub mod factorisation;
pub mod file_walk;
pub mod labels;
pub mod linalg;
pub mod midi;
pub mod midi_render;
pub mod motifs;
pub mod notes;
pub mod objective;
pub mod operations;
pub mod path_synthesis;
pub mod perceptual;
pub mod plots;
pub mod projection;
pub mod random;
pub mod resynthesis;
pub mod scan;
pub mod soundfont;
pub mod sps;
pub mod symbol_eval;
pub mod synth;
pub mod timbre_inference;
pub mod timbre_ratings;
pub mod toy;
pub mod train;
pub mod trajectory;
pub mod transcribe;
pub mod transposition;
pub mod vae;
