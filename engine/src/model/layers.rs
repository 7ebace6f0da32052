//! The layer sequences of the encoder and decoder, derived from an [`Architecture`]. The
//! offline trainer and the decoder kernel both build their networks from these lists, so the
//! tensor names and shapes in a `.tsm` file have exactly one definition.

use super::manifest::{ArchKind, Architecture, SymbolSpec};

/// Non-linearity after a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// No non-linearity (output layers).
    Identity,
    /// max(0, x); the kernel skips the zeros it leaves.
    Relu,
    /// tanh(x) (the motif space's MLP).
    Tanh,
}

impl Activation {
    /// Applies it to `values` in place.
    pub fn apply(self, values: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Tanh => values.iter_mut().for_each(|v| *v = v.tanh()),
        }
    }
}

/// One step of a network operating on a `(channels, length)` activation.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `y = W x + b` on the flattened activation; tensors `<name>.weight` `[outputs, inputs]`
    /// and `<name>.bias` `[outputs]`.
    Dense {
        /// Tensor name prefix.
        name: String,
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
        /// Non-linearity applied after.
        activation: Activation,
    },
    /// 1-D convolution with symmetric zero padding `kernel / 2`; tensors `<name>.weight`
    /// `[out_channels, in_channels, kernel]` and `<name>.bias` `[out_channels]`.
    Conv1d {
        /// Tensor name prefix.
        name: String,
        /// Input channels.
        in_channels: usize,
        /// Output channels.
        out_channels: usize,
        /// Kernel length (odd).
        kernel: usize,
        /// 1 or 2.
        stride: usize,
        /// Input length, so every shape is known before running.
        in_len: usize,
        /// Non-linearity applied after.
        activation: Activation,
    },
    /// Reinterpret a flat vector as `(channels, length)` (no data movement).
    Reshape {
        /// Channels after the reshape.
        channels: usize,
        /// Length after the reshape.
        len: usize,
    },
    /// Nearest-neighbour upsampling by 2 along the length.
    Upsample2 {
        /// Channels.
        channels: usize,
        /// Input length.
        in_len: usize,
    },
    /// Keep the first `len` values of a single-channel activation.
    Crop {
        /// Input length.
        in_len: usize,
        /// Output length.
        len: usize,
    },
}

impl Layer {
    /// Output length of a convolution (0 for other layers).
    pub fn conv_out_len(&self) -> usize {
        match self {
            Layer::Conv1d {
                kernel,
                stride,
                in_len,
                ..
            } => conv_out_len(*in_len, *kernel, *stride),
            _ => 0,
        }
    }

    /// Tensor names and shapes this layer reads.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        match self {
            Layer::Dense {
                name,
                inputs,
                outputs,
                ..
            } => vec![
                (format!("{name}.weight"), vec![*outputs, *inputs]),
                (format!("{name}.bias"), vec![*outputs]),
            ],
            Layer::Conv1d {
                name,
                in_channels,
                out_channels,
                kernel,
                ..
            } => vec![
                (
                    format!("{name}.weight"),
                    vec![*out_channels, *in_channels, *kernel],
                ),
                (format!("{name}.bias"), vec![*out_channels]),
            ],
            _ => Vec::new(),
        }
    }
}

/// Output length of a padded convolution.
pub fn conv_out_len(in_len: usize, kernel: usize, stride: usize) -> usize {
    (in_len + 2 * (kernel / 2) - kernel) / stride + 1
}

/// The encoder: spectrum (`bins`) → `2·latent` values (means, then log-variances).
pub fn encoder_layers(arch: &Architecture) -> Vec<Layer> {
    let out = 2 * arch.latent;
    match (arch.kind, arch.conv) {
        (ArchKind::Conv, Some(conv)) => {
            let mut layers = vec![Layer::Reshape {
                channels: 1,
                len: arch.bins,
            }];
            let (mut channels, mut len) = (1, arch.bins);
            for i in 0..conv.stages {
                let layer = Layer::Conv1d {
                    name: format!("encoder.conv{i}"),
                    in_channels: channels,
                    out_channels: conv.channels,
                    kernel: conv.kernel,
                    stride: 2,
                    in_len: len,
                    activation: Activation::Relu,
                };
                len = layer.conv_out_len();
                channels = conv.channels;
                layers.push(layer);
            }
            dense_chain(
                "encoder.dense",
                channels * len,
                &arch.hidden,
                out,
                &mut layers,
            );
            layers
        }
        _ => {
            let mut layers = Vec::new();
            dense_chain("encoder.dense", arch.bins, &arch.hidden, out, &mut layers);
            layers
        }
    }
}

/// The decoder: `latent` values → scaled spectrum (`bins`).
pub fn decoder_layers(arch: &Architecture) -> Vec<Layer> {
    match (arch.kind, arch.conv) {
        (ArchKind::Conv, Some(conv)) => {
            let base_len = arch.bins.div_ceil(1 << conv.stages);
            let seed = conv.channels * base_len;
            let mut layers = Vec::new();
            // The dense part ends with a ReLU because convolutions follow it.
            let mut inputs = arch.latent;
            for (i, &width) in arch
                .hidden
                .iter()
                .rev()
                .chain(std::iter::once(&seed))
                .enumerate()
            {
                layers.push(Layer::Dense {
                    name: format!("decoder.dense{i}"),
                    inputs,
                    outputs: width,
                    activation: Activation::Relu,
                });
                inputs = width;
            }
            layers.push(Layer::Reshape {
                channels: conv.channels,
                len: base_len,
            });
            let mut len = base_len;
            for i in 0..conv.stages {
                layers.push(Layer::Upsample2 {
                    channels: conv.channels,
                    in_len: len,
                });
                len *= 2;
                layers.push(Layer::Conv1d {
                    name: format!("decoder.conv{i}"),
                    in_channels: conv.channels,
                    out_channels: conv.channels,
                    kernel: conv.kernel,
                    stride: 1,
                    in_len: len,
                    activation: Activation::Relu,
                });
            }
            layers.push(Layer::Conv1d {
                name: "decoder.out".into(),
                in_channels: conv.channels,
                out_channels: 1,
                kernel: conv.kernel,
                stride: 1,
                in_len: len,
                activation: Activation::Identity,
            });
            layers.push(Layer::Crop {
                in_len: len,
                len: arch.bins,
            });
            layers
        }
        _ => {
            let hidden: Vec<usize> = arch.hidden.iter().rev().copied().collect();
            let mut layers = Vec::new();
            dense_chain(
                "decoder.dense",
                arch.latent,
                &hidden,
                arch.bins,
                &mut layers,
            );
            layers
        }
    }
}

/// The symbol encoder: y (one-hots, `width` values) → hidden… → (μ, log σ²) of q(z|y).
pub fn symbol_encoder_layers(arch: &Architecture, spec: &SymbolSpec, width: usize) -> Vec<Layer> {
    let mut layers = Vec::new();
    dense_chain(
        "symbols.encoder.dense",
        width,
        &spec.hidden,
        2 * arch.latent,
        &mut layers,
    );
    layers
}

/// The symbol decoder: z → hidden (mirrored) → logits of p(y|z), `width` values.
pub fn symbol_decoder_layers(arch: &Architecture, spec: &SymbolSpec, width: usize) -> Vec<Layer> {
    let hidden: Vec<usize> = spec.hidden.iter().rev().copied().collect();
    let mut layers = Vec::new();
    dense_chain(
        "symbols.decoder.dense",
        arch.latent,
        &hidden,
        width,
        &mut layers,
    );
    layers
}

/// The motif space's decoder: code (`latent`) → two tanh layers of `hidden` → `outputs`
/// logits, tensors `motif.decoder.{0,1,2}`.
pub fn motif_decoder_layers(latent: usize, hidden: usize, outputs: usize) -> Vec<Layer> {
    let mut layers = Vec::new();
    dense_chain_with(
        "motif.decoder.",
        (latent, &[hidden, hidden], outputs),
        Activation::Tanh,
        &mut layers,
    );
    layers
}

/// Dense layers `inputs → hidden… → outputs`, ReLU between, identity at the end.
fn dense_chain(
    prefix: &str,
    inputs: usize,
    hidden: &[usize],
    outputs: usize,
    layers: &mut Vec<Layer>,
) {
    dense_chain_with(prefix, (inputs, hidden, outputs), Activation::Relu, layers);
}

/// Dense layers `inputs → hidden… → outputs` named `prefix` + their index, `between` after
/// each but the last, identity at the end.
fn dense_chain_with(
    prefix: &str,
    (inputs, hidden, outputs): (usize, &[usize], usize),
    between: Activation,
    layers: &mut Vec<Layer>,
) {
    let mut width = inputs;
    for (i, &next) in hidden.iter().chain(std::iter::once(&outputs)).enumerate() {
        let last = i == hidden.len();
        layers.push(Layer::Dense {
            name: format!("{prefix}{i}"),
            inputs: width,
            outputs: next,
            activation: if last { Activation::Identity } else { between },
        });
        width = next;
    }
}
