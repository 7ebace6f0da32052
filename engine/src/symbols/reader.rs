//! The symbol decoder p(y|z): reads pitch class, octave, dynamics and instrument back from a
//! latent point (audio → symbols, i.e. transcription).

use crate::model::{ModelFile, ModelFileError, NetworkKernel};

use super::vocabulary::SymbolVocabulary;
use super::{symbol_network, SymbolNet};

/// p(y|z) on preallocated buffers: a softmax per group over the decoder's logits.
#[derive(Debug, Clone)]
pub struct SymbolReader {
    /// The vocabulary of y.
    vocabulary: SymbolVocabulary,
    /// z → logits of y.
    net: NetworkKernel,
}

impl SymbolReader {
    /// The symbol decoder of `model`, or `None` for an audio-only model.
    pub fn new(model: &ModelFile) -> Result<Option<Self>, ModelFileError> {
        let Some((vocabulary, net)) = symbol_network(model, SymbolNet::Decoder)? else {
            return Ok(None);
        };
        Ok(Some(Self { vocabulary, net }))
    }

    /// The vocabulary.
    pub fn vocabulary(&self) -> &SymbolVocabulary {
        &self.vocabulary
    }

    /// Class probabilities of every group for latent point `z`, written into `out` (y-shaped;
    /// each group sums to 1).
    pub fn probabilities(&mut self, z: &[f32], out: &mut [f32]) {
        self.net.run(z, out);
        for g in &self.vocabulary.groups {
            let p = &mut out[g.offset..g.offset + g.classes.len()];
            let max = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in p.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            p.iter_mut().for_each(|v| *v /= sum.max(f32::MIN_POSITIVE));
        }
    }
}
