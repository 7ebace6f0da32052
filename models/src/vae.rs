//! The spectral VAE on candle: encoder q(z|x) = N(μ(x), σ²(x)) and a Gaussian decoder
//! p(x|z), both built from the layer lists in `timbrespace_engine::model::layers` so training and
//! the real-time kernel agree on every tensor name and shape.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Linear, VarBuilder, VarMap};
use timbrespace_engine::model::layers::{decoder_layers, encoder_layers, Activation, Layer};
use timbrespace_engine::model::manifest::Architecture;
use timbrespace_engine::model::{Tensor32, TensorMap};

/// The decoder's standard deviation in the scaled domain unless a user chooses another
/// (`train --sigma`); the SPS and patch models use it too.
pub const DEFAULT_SIGMA: f32 = 0.1;

/// Log-variances are clamped to this range so one bad batch cannot blow up exp(logσ²).
const LOGVAR_RANGE: (f64, f64) = (-12.0, 6.0);

/// A layer with its weights.
#[derive(Debug, Clone)]
enum Op {
    Dense(Linear, Activation),
    Conv {
        weight: Tensor,
        bias: Tensor,
        stride: usize,
        padding: usize,
        activation: Activation,
    },
    Reshape(usize, usize),
    Upsample(usize),
    Crop(usize),
}

/// `y` through `activation` (the same non-linearities the engine's kernel applies).
fn activate(y: Tensor, activation: Activation) -> Result<Tensor> {
    match activation {
        Activation::Identity => Ok(y),
        Activation::Relu => y.relu(),
        Activation::Tanh => y.tanh(),
    }
}

/// A feed-forward stack of [`Layer`]s on `(batch, features)` or `(batch, channels, length)`.
#[derive(Debug, Clone)]
pub struct Network {
    ops: Vec<Op>,
}

impl Network {
    /// Build `layers`, fetching (or creating) their weights from `vb`.
    pub fn new(layers: &[Layer], vb: &VarBuilder) -> Result<Self> {
        let mut ops = Vec::with_capacity(layers.len());
        for layer in layers {
            let tensors: Vec<Tensor> = layer
                .tensors()
                .into_iter()
                .map(|(name, shape)| vb.get_with_hints(shape, &name, candle_nn::Init::Const(0.0)))
                .collect::<Result<_>>()?;
            ops.push(match layer {
                Layer::Dense { activation, .. } => Op::Dense(
                    Linear::new(tensors[0].clone(), Some(tensors[1].clone())),
                    *activation,
                ),
                Layer::Conv1d {
                    out_channels,
                    kernel,
                    stride,
                    activation,
                    ..
                } => Op::Conv {
                    weight: tensors[0].clone(),
                    bias: tensors[1].reshape((1, *out_channels, 1))?,
                    stride: *stride,
                    padding: kernel / 2,
                    activation: *activation,
                },
                Layer::Reshape { channels, len } => Op::Reshape(*channels, *len),
                Layer::Upsample2 { in_len, .. } => Op::Upsample(2 * in_len),
                Layer::Crop { len, .. } => Op::Crop(*len),
            });
        }
        Ok(Network { ops })
    }
}

impl Module for Network {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        let batch = x.dim(0)?;
        for op in &self.ops {
            x = match op {
                Op::Dense(linear, activation) => {
                    activate(linear.forward(&x.flatten_from(1)?)?, *activation)?
                }
                Op::Conv {
                    weight,
                    bias,
                    stride,
                    padding,
                    activation,
                } => activate(
                    x.conv1d(weight, *padding, *stride, 1, 1)?
                        .broadcast_add(bias)?,
                    *activation,
                )?,
                Op::Reshape(channels, len) => x.reshape((batch, *channels, *len))?,
                Op::Upsample(len) => x.upsample_nearest1d(*len)?,
                Op::Crop(len) => x.narrow(D::Minus1, 0, *len)?.flatten_from(1)?,
            };
        }
        Ok(x)
    }
}

/// The VAE.
#[derive(Debug, Clone)]
pub struct Vae {
    /// Shapes.
    pub arch: Architecture,
    /// x → (μ, log σ²).
    encoder: Network,
    /// z → x̂ (mean of the Gaussian decoder, in the scaled domain).
    decoder: Network,
}

impl Vae {
    /// Build the VAE with weights from `vb` (a fresh [`VarMap`] for training, or loaded tensors).
    pub fn new(arch: &Architecture, vb: &VarBuilder) -> Result<Self> {
        Ok(Vae {
            arch: arch.clone(),
            encoder: Network::new(&encoder_layers(arch), vb)?,
            decoder: Network::new(&decoder_layers(arch), vb)?,
        })
    }

    /// Build the VAE from a model file's tensors (weights only; other tensors are ignored).
    pub fn from_tensors(arch: &Architecture, tensors: &TensorMap) -> Result<Self> {
        let device = Device::Cpu;
        let mut map = std::collections::HashMap::new();
        for (name, t) in tensors
            .iter()
            .filter(|(n, _)| n.starts_with("encoder.") || n.starts_with("decoder."))
        {
            map.insert(
                name.clone(),
                Tensor::from_slice(&t.data, t.shape.as_slice(), &device)?,
            );
        }
        Self::new(arch, &VarBuilder::from_tensors(map, DType::F32, &device))
    }

    /// Posterior parameters (μ, log σ²), each `(batch, latent)`.
    pub fn encode(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = self.encoder.forward(x)?;
        let mu = h.narrow(1, 0, self.arch.latent)?;
        let logvar = h
            .narrow(1, self.arch.latent, self.arch.latent)?
            .clamp(LOGVAR_RANGE.0, LOGVAR_RANGE.1)?;
        Ok((mu, logvar))
    }

    /// Decoder mean `(batch, bins)` in the scaled domain.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.decoder.forward(z)
    }
}

/// Fill every variable of `varmap` deterministically from `seed`: weights uniform in
/// ±1/√fan_in (torch's scale), biases zero. candle's own initialisers cannot be seeded.
pub fn seeded_init(varmap: &VarMap, seed: u64) -> Result<()> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map poisoned".into()))?;
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in names {
        let var = &vars[name];
        let dims = var.dims().to_vec();
        let count: usize = dims.iter().product();
        let values: Vec<f32> = if name.ends_with(".bias") {
            vec![0.0; count]
        } else {
            let fan_in: usize = dims[1..].iter().product::<usize>().max(1);
            let bound = 1.0 / (fan_in as f32).sqrt();
            (0..count)
                .map(|_| (2.0 * rng.f32() - 1.0) * bound)
                .collect()
        };
        var.set(&Tensor::from_vec(values, dims.as_slice(), var.device())?)?;
    }
    Ok(())
}

/// Every variable of `varmap` as plain tensors, by name.
pub fn export_vars(varmap: &VarMap) -> Result<TensorMap> {
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map poisoned".into()))?;
    let mut out = TensorMap::new();
    for (name, var) in vars.iter() {
        out.insert(name.clone(), to_tensor32(var.as_tensor())?);
    }
    Ok(out)
}

/// Overwrite variables of `varmap` from `tensors` (names must match; shapes are checked).
pub fn import_vars(varmap: &VarMap, tensors: &TensorMap, prefix: &str) -> Result<()> {
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map poisoned".into()))?;
    for (name, var) in vars.iter() {
        let t = tensors
            .get(&format!("{prefix}{name}"))
            .ok_or_else(|| candle_core::Error::Msg(format!("checkpoint lacks `{prefix}{name}`")))?;
        var.set(&Tensor::from_slice(
            &t.data,
            t.shape.as_slice(),
            var.device(),
        )?)?;
    }
    Ok(())
}

/// A candle tensor as a plain f32 tensor.
pub fn to_tensor32(t: &Tensor) -> Result<Tensor32> {
    Ok(Tensor32::new(
        t.dims().to_vec(),
        t.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
    ))
}
