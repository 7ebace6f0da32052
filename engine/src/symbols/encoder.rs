//! The symbol encoder q(z|y) and continuous symbol points: a MIDI key with pitch bend, a
//! dynamics position between markings and an instrument position between instruments become
//! one latent point by interpolating the posterior means of the neighbouring symbols.

use crate::model::{ModelFile, ModelFileError, NetworkKernel};

use super::vocabulary::SymbolVocabulary;
use super::{symbol_network, SymbolNet};

/// A point between symbols.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SymbolPoint {
    /// MIDI key, fractional with pitch bend or glide.
    pub key: f32,
    /// Position among the dynamics classes (0 = softest); see
    /// [`SymbolVocabulary::dynamics_position`].
    pub dynamics: f32,
    /// Position among the instruments (0 = first); fractions morph between neighbours.
    pub instrument: f32,
}

/// q(z|y) on preallocated buffers.
#[derive(Debug, Clone)]
pub struct SymbolEncoder {
    /// The vocabulary y is built from.
    vocabulary: SymbolVocabulary,
    /// y → (μ, log σ²).
    net: NetworkKernel,
    /// Scratch y.
    y: Vec<f32>,
    /// Scratch (μ, log σ²).
    posterior: Vec<f32>,
    /// Class per group for one corner.
    classes: Vec<Option<usize>>,
}

impl SymbolEncoder {
    /// The symbol encoder of `model`, or `None` for an audio-only model.
    pub fn new(model: &ModelFile) -> Result<Option<Self>, ModelFileError> {
        let Some((vocabulary, net)) = symbol_network(model, SymbolNet::Encoder)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            classes: vec![None; vocabulary.groups.len()],
            y: vec![0.0; vocabulary.width()],
            posterior: vec![0.0; 2 * model.manifest.architecture.latent],
            vocabulary,
            net,
        }))
    }

    /// The vocabulary.
    pub fn vocabulary(&self) -> &SymbolVocabulary {
        &self.vocabulary
    }

    /// Latent size.
    pub fn latent(&self) -> usize {
        self.posterior.len() / 2
    }

    /// μ and σ of q(z|y) for one class per group (`None` = group unknown, all zeros).
    pub fn posterior(&mut self, classes: &[Option<usize>], mu: &mut [f32], sigma: &mut [f32]) {
        let latent = self.latent();
        self.vocabulary.one_hot(classes, &mut self.y);
        self.net.run(&self.y, &mut self.posterior);
        mu[..latent].copy_from_slice(&self.posterior[..latent]);
        for (s, &lv) in sigma.iter_mut().zip(&self.posterior[latent..]) {
            *s = (0.5 * lv).exp();
        }
    }

    /// The latent point of `point`: posterior means of the (up to 8) neighbouring symbols,
    /// weighted multilinearly. Returns false when the key lies outside the trained octaves or
    /// pitch classes (the nearest trained ones were used).
    pub fn centre(&mut self, point: SymbolPoint, z: &mut [f32]) -> bool {
        let latent = self.latent();
        let [pitch_g, octave_g, dyn_g, instr_g] = self.vocabulary.musical_groups();
        let key = if point.key.is_finite() {
            point.key.clamp(-12.0, 140.0)
        } else {
            60.0
        };
        let last = |n: usize| n.saturating_sub(1) as f32;
        let dynamics =
            finite_or_zero(point.dynamics).clamp(0.0, last(self.vocabulary.dynamics_count()));
        let instrument =
            finite_or_zero(point.instrument).clamp(0.0, last(self.vocabulary.instruments().len()));
        let corners = |x: f32| {
            let lo = x.floor();
            [(lo as i32, 1.0 - (x - lo)), (lo as i32 + 1, x - lo)]
        };
        z[..latent].fill(0.0);
        let mut in_range = true;
        for (k, wk) in corners(key) {
            for (d, wd) in corners(dynamics) {
                for (i, wi) in corners(instrument) {
                    let w = wk * wd * wi;
                    if w <= 0.0 {
                        continue;
                    }
                    let symbols = self.vocabulary.key_symbols(k);
                    in_range &= symbols.in_range;
                    self.classes.fill(None);
                    let mut set = |g: Option<usize>, c: Option<usize>| {
                        if let Some(g) = g {
                            self.classes[g] = c;
                        }
                    };
                    set(pitch_g, symbols.pitch);
                    set(octave_g, symbols.octave);
                    set(dyn_g, Some(d.max(0) as usize));
                    set(instr_g, Some(i.max(0) as usize));
                    self.vocabulary.one_hot(&self.classes, &mut self.y);
                    self.net.run(&self.y, &mut self.posterior);
                    for (zv, &m) in z[..latent].iter_mut().zip(&self.posterior[..latent]) {
                        *zv += w * m;
                    }
                }
            }
        }
        in_range
    }
}

/// `x`, or 0 for NaN and infinities.
fn finite_or_zero(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}
