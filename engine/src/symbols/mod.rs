//! The symbol side of a signal–symbol (SCAN) model on the audio thread: the vocabulary of
//! one-hot symbols, the symbol encoder q(z|y) that turns a MIDI note into a latent point, the
//! symbol decoder p(y|z) that reads symbols back from a sound, and the per-symbol note
//! trajectories that make a held note evolve. Everything is allocated when built.

pub mod encoder;
pub mod reader;
pub mod trajectory;
pub mod vocabulary;

pub use encoder::{SymbolEncoder, SymbolPoint};
pub use reader::SymbolReader;
pub use trajectory::{NotePhase, Trajectories};
pub use vocabulary::{SymbolGroup, SymbolVocabulary};

use crate::model::layers::{symbol_decoder_layers, symbol_encoder_layers};
use crate::model::{ModelFile, ModelFileError, NetworkKernel};

/// Which way a symbol network runs, for building its kernel.
enum SymbolNet {
    /// q(z|y): y in, (μ, log σ²) out.
    Encoder,
    /// p(y|z): z in, logits of y out.
    Decoder,
}

/// The vocabulary and the kernel of one symbol network of `model`, or `None` for an
/// audio-only model.
fn symbol_network(
    model: &ModelFile,
    net: SymbolNet,
) -> Result<Option<(SymbolVocabulary, NetworkKernel)>, ModelFileError> {
    let (Some(spec), Some(vocabulary)) = (
        &model.manifest.symbols,
        SymbolVocabulary::from_manifest(&model.manifest)?,
    ) else {
        return Ok(None);
    };
    let arch = &model.manifest.architecture;
    let width = vocabulary.width();
    let (layers, inputs) = match net {
        SymbolNet::Encoder => (symbol_encoder_layers(arch, spec, width), width),
        SymbolNet::Decoder => (symbol_decoder_layers(arch, spec, width), arch.latent),
    };
    let kernel = NetworkKernel::new(&model.tensors, &layers, inputs, 1)?;
    Ok(Some((vocabulary, kernel)))
}

/// Label kind of the pitch class (C, C#, … B).
pub const PITCH: &str = "pitch";
/// Label kind of the octave in scientific pitch notation (C4 = MIDI 60).
pub const OCTAVE: &str = "octave";
/// Label kind of the dynamics marking.
pub const DYNAMICS: &str = "dynamics";
/// Label kind of the instrument.
pub const INSTRUMENT: &str = "instrument";

/// Pitch-class names, as MIDI tools print them (sharps).
pub const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// Dynamics markings, softest first, with the MIDI velocity each stands for.
pub const DYNAMICS_MARKS: [(&str, u8); 6] = [
    ("pp", 24),
    ("p", 48),
    ("mp", 64),
    ("mf", 80),
    ("f", 100),
    ("ff", 120),
];
