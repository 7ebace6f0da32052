//! The small networks the operational-latent-space tools train around their operators.

use candle_core::{Module, Tensor};
use candle_nn::{linear, Linear, VarBuilder};

/// A small tanh MLP `input → hidden → hidden → output`.
pub struct Mlp(Vec<Linear>);

impl Mlp {
    /// Its layers from `vb` (named 0, 1, 2).
    pub fn new(
        input: usize,
        hidden: usize,
        output: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        Ok(Self(vec![
            linear(input, hidden, vb.pp("0"))?,
            linear(hidden, hidden, vb.pp("1"))?,
            linear(hidden, output, vb.pp("2"))?,
        ]))
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (i, layer) in self.0.iter().enumerate() {
            h = layer.forward(&h)?;
            if i + 1 < self.0.len() {
                h = h.tanh()?;
            }
        }
        Ok(h)
    }
}
