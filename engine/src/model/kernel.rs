//! The allocation-free decoder kernel: runs a model's decoder on preallocated buffers, for one
//! latent vector or a batch (one per voice), on the audio thread.

use std::sync::Arc;

use super::file::ModelFile;
use super::layers::{decoder_layers, Activation, Layer};
use super::manifest::Scaling;
use super::{ModelFileError, TensorMap};

/// One decoder step with its weights laid out for the kernel's loops.
#[derive(Debug, Clone)]
enum Step {
    /// Dense layer; `weight_t` is `[inputs][outputs]` so each input adds one contiguous row,
    /// and inputs a ReLU zeroed cost nothing.
    Dense {
        weight_t: Vec<f32>,
        bias: Vec<f32>,
        inputs: usize,
        outputs: usize,
        activation: Activation,
    },
    /// Convolution; `weight` is `[out][in][kernel]` as stored.
    Conv {
        weight: Vec<f32>,
        bias: Vec<f32>,
        in_ch: usize,
        out_ch: usize,
        kernel: usize,
        stride: usize,
        in_len: usize,
        out_len: usize,
        activation: Activation,
    },
    /// Nearest-neighbour ×2.
    Upsample { channels: usize, in_len: usize },
    /// Keep the first `len` of `in_len` values.
    Crop { in_len: usize, len: usize },
}

impl Step {
    fn input_size(&self) -> usize {
        match self {
            Step::Dense { inputs, .. } => *inputs,
            Step::Conv { in_ch, in_len, .. } => in_ch * in_len,
            Step::Upsample { channels, in_len } => channels * in_len,
            Step::Crop { in_len, .. } => *in_len,
        }
    }

    fn output_size(&self) -> usize {
        match self {
            Step::Dense { outputs, .. } => *outputs,
            Step::Conv {
                out_ch, out_len, ..
            } => out_ch * out_len,
            Step::Upsample { channels, in_len } => channels * in_len * 2,
            Step::Crop { len, .. } => *len,
        }
    }

    /// Run this step on `batch` examples laid out one after another.
    fn run(&self, input: &[f32], output: &mut [f32], batch: usize) {
        let (n_in, n_out) = (self.input_size(), self.output_size());
        let output = &mut output[..batch * n_out];
        match self {
            Step::Dense {
                weight_t,
                bias,
                inputs,
                outputs,
                activation,
            } => {
                for y in output.chunks_exact_mut(*outputs) {
                    y.copy_from_slice(bias);
                }
                // Input-major so each weight row is read once per batch.
                for (i, row) in weight_t.chunks_exact(*outputs).enumerate() {
                    for (b, y) in output.chunks_exact_mut(*outputs).enumerate() {
                        let x = input[b * inputs + i];
                        if x != 0.0 {
                            axpy(y, row, x);
                        }
                    }
                }
                activation.apply(output);
            }
            Step::Conv {
                weight,
                bias,
                in_ch,
                out_ch,
                kernel,
                stride,
                in_len,
                out_len,
                activation,
            } => {
                let pad = kernel / 2;
                for b in 0..batch {
                    let x = &input[b * n_in..(b + 1) * n_in];
                    let y = &mut output[b * n_out..(b + 1) * n_out];
                    for co in 0..*out_ch {
                        let yc = &mut y[co * out_len..(co + 1) * out_len];
                        yc.fill(bias[co]);
                        for ci in 0..*in_ch {
                            let xc = &x[ci * in_len..(ci + 1) * in_len];
                            let w =
                                &weight[(co * in_ch + ci) * kernel..(co * in_ch + ci + 1) * kernel];
                            for (t, yv) in yc.iter_mut().enumerate() {
                                let start = t * stride;
                                let mut acc = 0.0;
                                for (k, &wk) in w.iter().enumerate() {
                                    // Index into the zero-padded input without materialising it.
                                    if let Some(pos) =
                                        (start + k).checked_sub(pad).filter(|&p| p < *in_len)
                                    {
                                        acc += wk * xc[pos];
                                    }
                                }
                                *yv += acc;
                            }
                        }
                        activation.apply(yc);
                    }
                }
            }
            Step::Upsample { .. } => {
                for (x, y) in input[..batch * n_in]
                    .chunks_exact(n_in)
                    .zip(output.chunks_exact_mut(n_out))
                {
                    for (i, &v) in x.iter().enumerate() {
                        y[2 * i] = v;
                        y[2 * i + 1] = v;
                    }
                }
            }
            Step::Crop { .. } => {
                for (x, y) in input[..batch * n_in]
                    .chunks_exact(n_in)
                    .zip(output.chunks_exact_mut(n_out))
                {
                    y.copy_from_slice(&x[..n_out]);
                }
            }
        }
    }
}

/// `y += w·x`, with AVX2/FMA when the CPU has them (detected once and cached by std; the
/// dense layers spend nearly all their time here).
#[inline]
fn axpy(y: &mut [f32], w: &[f32], x: f32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports both features, checked just above.
        unsafe { axpy_fma(y, w, x) };
        return;
    }
    for (yo, &wv) in y.iter_mut().zip(w) {
        *yo += wv * x;
    }
}

/// [`axpy`] compiled for AVX2 and FMA, so the loop vectorises 8 wide with fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy_fma(y: &mut [f32], w: &[f32], x: f32) {
    for (yo, &wv) in y.iter_mut().zip(w) {
        *yo = wv.mul_add(x, *yo);
    }
}

/// A stack of layers from a model file ready to run without allocating: the weights laid out
/// for the loops and two ping-pong activation buffers sized for the largest batch. A clone
/// shares the weights and has buffers of its own, so each player of one network can run it.
#[derive(Debug, Clone)]
pub struct NetworkKernel {
    /// The steps in order (read-only once built, so clones share them).
    steps: Arc<[Step]>,
    /// Values per example going in.
    inputs: usize,
    /// Values per example coming out.
    outputs: usize,
    /// Largest batch the buffers were sized for.
    max_batch: usize,
    /// Ping-pong activation buffers, each `max_batch × widest activation`.
    front: Vec<f32>,
    /// See `front`.
    back: Vec<f32>,
}

impl NetworkKernel {
    /// Prepare `layers` (whose weights `tensors` holds) taking `inputs` values per example, for
    /// batches of up to `max_batch`.
    pub fn new(
        tensors: &TensorMap,
        layers: &[Layer],
        inputs: usize,
        max_batch: usize,
    ) -> Result<Self, ModelFileError> {
        let weights = |name: &str| -> Result<Vec<f32>, ModelFileError> {
            let tensor = tensors
                .get(name)
                .ok_or_else(|| ModelFileError::MissingTensor(name.to_string()))?;
            Ok(tensor.data.clone())
        };
        let mut steps = Vec::new();
        for layer in layers {
            // Check every shape first: the loops below index by the layer's sizes.
            for (name, shape) in layer.tensors() {
                let tensor = tensors
                    .get(&name)
                    .ok_or_else(|| ModelFileError::MissingTensor(name.clone()))?;
                if tensor.shape != shape || tensor.data.len() != shape.iter().product::<usize>() {
                    return Err(ModelFileError::Shape {
                        name,
                        expected: format!("{shape:?}"),
                        found: format!("{:?}", tensor.shape),
                    });
                }
            }
            let step = match layer {
                Layer::Dense {
                    name,
                    inputs,
                    outputs,
                    activation,
                } => {
                    let (inputs, outputs) = (*inputs, *outputs);
                    let w = weights(&format!("{name}.weight"))?;
                    let mut weight_t = vec![0.0; inputs * outputs];
                    for o in 0..outputs {
                        for i in 0..inputs {
                            weight_t[i * outputs + o] = w[o * inputs + i];
                        }
                    }
                    Step::Dense {
                        weight_t,
                        bias: weights(&format!("{name}.bias"))?,
                        inputs,
                        outputs,
                        activation: *activation,
                    }
                }
                conv @ Layer::Conv1d {
                    name,
                    in_channels,
                    out_channels,
                    kernel,
                    stride,
                    in_len,
                    activation,
                } => Step::Conv {
                    weight: weights(&format!("{name}.weight"))?,
                    bias: weights(&format!("{name}.bias"))?,
                    in_ch: *in_channels,
                    out_ch: *out_channels,
                    kernel: *kernel,
                    stride: *stride,
                    in_len: *in_len,
                    out_len: conv.conv_out_len(),
                    activation: *activation,
                },
                Layer::Reshape { .. } => continue,
                Layer::Upsample2 { channels, in_len } => Step::Upsample {
                    channels: *channels,
                    in_len: *in_len,
                },
                Layer::Crop { in_len, len } => Step::Crop {
                    in_len: *in_len,
                    len: *len,
                },
            };
            steps.push(step);
        }
        let outputs = steps.last().map_or(inputs, Step::output_size);
        let widest = steps
            .iter()
            .map(Step::output_size)
            .chain([inputs])
            .max()
            .unwrap_or(inputs);
        let max_batch = max_batch.max(1);
        Ok(NetworkKernel {
            steps: steps.into(),
            inputs,
            outputs,
            max_batch,
            front: vec![0.0; max_batch * widest],
            back: vec![0.0; max_batch * widest],
        })
    }

    /// Values per example going in.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Values per example coming out.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Run `input.len() / inputs` examples (at most `max_batch`, and at most what `out` holds)
    /// into `out`; returns how many ran.
    pub fn run(&mut self, input: &[f32], out: &mut [f32]) -> usize {
        let batch = (input.len() / self.inputs)
            .min(self.max_batch)
            .min(out.len() / self.outputs.max(1));
        self.front[..batch * self.inputs].copy_from_slice(&input[..batch * self.inputs]);
        for step in self.steps.iter() {
            step.run(&self.front, &mut self.back, batch);
            std::mem::swap(&mut self.front, &mut self.back);
        }
        out[..batch * self.outputs].copy_from_slice(&self.front[..batch * self.outputs]);
        batch
    }
}

/// A model's decoder ready to run without allocating.
#[derive(Debug, Clone)]
pub struct DecoderKernel {
    /// The decoder's layers.
    net: NetworkKernel,
    /// Undoes the training-time magnitude compression.
    scaling: Scaling,
}

impl DecoderKernel {
    /// Prepare `model`'s decoder for batches of up to `max_batch` latent vectors.
    pub fn new(model: &ModelFile, max_batch: usize) -> Result<Self, ModelFileError> {
        let arch = &model.manifest.architecture;
        Ok(DecoderKernel {
            net: NetworkKernel::new(
                &model.tensors,
                &decoder_layers(arch),
                arch.latent,
                max_batch,
            )?,
            scaling: model.manifest.scaling,
        })
    }

    /// Latent size this decoder expects.
    pub fn latent(&self) -> usize {
        self.net.inputs()
    }

    /// Bins it produces.
    pub fn bins(&self) -> usize {
        self.net.outputs()
    }

    /// Decode `z.len() / latent` latent vectors (at most `max_batch`) into scaled spectra in
    /// `out` (`bins` each). Extra input beyond `max_batch` examples is ignored.
    pub fn decode_batch(&mut self, z: &[f32], out: &mut [f32]) {
        self.net.run(z, out);
    }

    /// Decode one latent vector into raw STFT magnitudes (scaling undone, never negative).
    pub fn decode_magnitudes(&mut self, z: &[f32], magnitudes: &mut [f32]) {
        let latent = self.latent();
        self.decode_batch_magnitudes(&z[..latent], magnitudes);
    }

    /// Decode `z.len() / latent` latent vectors (at most `max_batch`) into raw STFT
    /// magnitudes, `bins` each: one pass over the weights serves the whole batch, which is
    /// what makes decoding many voices at once cheaper than one by one. Returns how many.
    pub fn decode_batch_magnitudes(&mut self, z: &[f32], magnitudes: &mut [f32]) -> usize {
        let batch = self.net.run(z, magnitudes);
        for m in magnitudes.iter_mut().take(batch * self.bins()) {
            *m = self.scaling.expand(*m);
        }
        batch
    }
}
