//! The temporal CONV-WTA auto-encoder: two convolutions along time (rows are input channels)
//! give one activation per feature map and step; winner-take-all keeps only each map's
//! strongest step(s) in a window; the decoder is a transposed convolution that pastes each
//! map's atom — a short piano-roll motif — at its winner's step, scaled by its activation.
//! So every feature map is one motif that can occur anywhere in time.
//!
//! Convolutions are written as shifted copies stacked along the channels and one matrix
//! product, which keeps candle's memory flat (its CPU `conv1d` did not).

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{linear, Linear, VarBuilder, VarMap};
use serde::Serialize;
use thiserror::Error;

use super::onsets::corrupt;
use super::piano_roll::PianoRoll;
use crate::adam::Adam;
use crate::batches::{mean, shuffled_epochs};
use crate::vae::seeded_init;

/// Why a motif model cannot be trained.
#[derive(Debug, Error)]
pub enum WtaError {
    /// No training windows.
    #[error("no training windows: the corpus has no bar with enough notes")]
    NoWindows,
    /// Windows of different shapes, or a setting that cannot work.
    #[error("{0}")]
    Setting(String),
    /// candle failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// How a CONV-WTA model is shaped and trained.
#[derive(Debug, Clone, Serialize)]
pub struct WtaConfig {
    /// Feature maps, i.e. motif atoms in the dictionary.
    pub maps: usize,
    /// Steps an atom spans (8 = half a 4/4 bar of sixteenths).
    pub atom_steps: usize,
    /// Channels between the two encoder convolutions.
    pub hidden: usize,
    /// Width of each encoder convolution, in steps.
    pub kernel: usize,
    /// Winners kept per map and window.
    pub winners: usize,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Windows per step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Weight of onset cells in the cross-entropy (onsets are rare; 1 = unweighted).
    pub onset_weight: f64,
    /// Share of a training window's notes dropped, and of wrong notes added, before encoding
    /// (a denoising auto-encoder; 0 = off).
    pub corruption: f64,
    /// Initialisation, batch order and corruption.
    pub seed: u64,
}

impl Default for WtaConfig {
    fn default() -> Self {
        Self {
            maps: 48,
            atom_steps: 8,
            hidden: 96,
            kernel: 5,
            winners: 4,
            epochs: 150,
            batch: 32,
            lr: 2e-3,
            onset_weight: 2.0,
            corruption: 0.1,
            seed: 0,
        }
    }
}

/// A trained dictionary of motifs and the encoder that finds them.
pub struct ConvWta {
    /// First convolution: rows × kernel → hidden.
    conv1: Linear,
    /// Second convolution: hidden × kernel → maps.
    conv2: Linear,
    /// The transposed convolution whose weights are the atoms: maps × atom steps → rows.
    atoms: Linear,
    /// Its variables.
    varmap: VarMap,
    /// Rows of the rolls it reads.
    rows: usize,
    /// Its shape.
    config: WtaConfig,
}

/// `x` (batch, steps, channels) with every channel copied at each offset (`y[t] = x[t + o]`,
/// zero outside) and the copies stacked along the channels, offset-major.
fn shift_stack(x: &Tensor, offsets: &[isize]) -> candle_core::Result<Tensor> {
    let steps = x.dim(1)?;
    let copies = offsets
        .iter()
        .map(|&o| {
            let shift = o.unsigned_abs();
            if shift >= steps {
                return x.zeros_like();
            }
            if o >= 0 {
                x.narrow(1, shift, steps - shift)?
                    .pad_with_zeros(1, 0, shift)
            } else {
                x.narrow(1, 0, steps - shift)?.pad_with_zeros(1, shift, 0)
            }
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    Tensor::cat(&copies, 2)
}

/// The offsets of a centred convolution of `width` steps.
fn centred(width: usize) -> Vec<isize> {
    let half = (width / 2) as isize;
    (0..width as isize).map(|k| k - half).collect()
}

/// Keeps, for each batch item and feature map (the last axis), only the `winners` largest
/// activations over time (axis 1); the rest become 0. Ties at the threshold are all kept.
pub fn winner_take_all(codes: &Tensor, winners: usize) -> candle_core::Result<Tensor> {
    let mut remaining = codes.detach();
    let mut keep = codes.zeros_like()?;
    for _ in 0..winners.max(1) {
        let top = remaining.max_keepdim(1)?.broadcast_as(remaining.shape())?;
        let is_top = remaining.ge(&top)?.to_dtype(codes.dtype())?;
        keep = keep.maximum(&is_top)?;
        // Push the winners below every activation so the next round finds the runner-up.
        remaining = (remaining - (is_top * 1e9)?)?;
    }
    codes * keep
}

impl ConvWta {
    /// A fresh model for rolls of `rows` rows.
    pub fn new(rows: usize, config: &WtaConfig) -> Result<Self, WtaError> {
        if rows == 0 || config.maps == 0 || config.atom_steps == 0 || config.kernel == 0 {
            return Err(WtaError::Setting(
                "rows, maps, atom steps and kernel width must all be at least 1".into(),
            ));
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let conv1 = linear(rows * config.kernel, config.hidden, vb.pp("conv1"))?;
        let conv2 = linear(config.hidden * config.kernel, config.maps, vb.pp("conv2"))?;
        let atoms = linear(config.maps * config.atom_steps, rows, vb.pp("atoms"))?;
        seeded_init(&varmap, config.seed)?;
        Ok(Self {
            conv1,
            conv2,
            atoms,
            varmap,
            rows,
            config: config.clone(),
        })
    }

    /// Rolls as a tensor (batch, steps, rows).
    fn input(&self, rolls: &[PianoRoll]) -> Result<Tensor, WtaError> {
        let steps = rolls.first().map_or(0, |r| r.steps);
        if rolls
            .iter()
            .any(|r| r.rows != self.rows || r.steps != steps)
        {
            return Err(WtaError::Setting(format!(
                "every window must have {} rows and the same length",
                self.rows
            )));
        }
        let cells: Vec<f32> = rolls.iter().flat_map(|r| r.cells.iter().copied()).collect();
        Ok(
            Tensor::from_vec(cells, (rolls.len(), self.rows, steps), &Device::Cpu)?
                .transpose(1, 2)?
                .contiguous()?,
        )
    }

    /// Activations (batch, steps, maps) before winner-take-all.
    fn activations(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let offsets = centred(self.config.kernel);
        let h = self.conv1.forward(&shift_stack(x, &offsets)?)?.relu()?;
        self.conv2.forward(&shift_stack(&h, &offsets)?)?.relu()
    }

    /// Sparse codes (batch, steps, maps): each map's winners only.
    fn codes_of(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        winner_take_all(&self.activations(x)?, self.config.winners)
    }

    /// Onset logits (batch, steps, rows) of codes.
    fn logits(&self, codes: &Tensor) -> candle_core::Result<Tensor> {
        // out[t] = Σ_k codes[t − k + W/2] · atom[k]: offsets W/2 − k.
        let half = (self.config.atom_steps / 2) as isize;
        let offsets: Vec<isize> = (0..self.config.atom_steps as isize)
            .map(|k| half - k)
            .collect();
        self.atoms.forward(&shift_stack(codes, &offsets)?)
    }

    /// The sparse codes of `rolls`, (batch, steps, maps).
    pub fn codes(&self, rolls: &[PianoRoll]) -> Result<Tensor, WtaError> {
        Ok(self.codes_of(&self.input(rolls)?)?)
    }

    /// Onset probabilities decoded from codes (batch, steps, maps).
    pub fn decode(&self, codes: &Tensor) -> Result<Vec<PianoRoll>, WtaError> {
        let p = candle_nn::ops::sigmoid(&self.logits(codes)?)?.transpose(1, 2)?;
        let (batch, rows, steps) = p.dims3()?;
        let cells = p.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        Ok(cells
            .chunks(rows * steps)
            .take(batch)
            .map(|c| PianoRoll {
                rows,
                steps,
                cells: c.to_vec(),
            })
            .collect())
    }

    /// Onset probabilities of `rolls` passed through the auto-encoder.
    pub fn reconstruct(&self, rolls: &[PianoRoll]) -> Result<Vec<PianoRoll>, WtaError> {
        let mut out = Vec::with_capacity(rolls.len());
        for chunk in rolls.chunks(256) {
            out.extend(self.decode(&self.codes(chunk)?)?);
        }
        Ok(out)
    }

    /// Each window's summary code: the strongest activation of every map (batch × maps).
    pub fn summaries(&self, rolls: &[PianoRoll]) -> Result<Vec<Vec<f32>>, WtaError> {
        let mut out = Vec::with_capacity(rolls.len());
        for chunk in rolls.chunks(256) {
            out.extend(self.codes(chunk)?.max(1)?.to_vec2::<f32>()?);
        }
        Ok(out)
    }

    /// The decoder's bias per row: the onset logit where no atom is pasted.
    pub fn bias(&self) -> Result<Vec<f32>, WtaError> {
        match self.atoms.bias() {
            Some(b) => Ok(b.to_vec1::<f32>()?),
            None => Ok(vec![0.0; self.rows]),
        }
    }

    /// The dictionary: each map's atom as a roll of weights (rows × atom steps), positive
    /// where the motif plays a note.
    pub fn atoms(&self) -> Result<Vec<PianoRoll>, WtaError> {
        let (maps, width) = (self.config.maps, self.config.atom_steps);
        // Weight (rows, width · maps), offset-major: column k · maps + f.
        let w = self.atoms.weight().to_vec2::<f32>()?;
        Ok((0..maps)
            .map(|f| {
                let mut atom = PianoRoll::empty(self.rows, width);
                for (r, row) in w.iter().enumerate() {
                    for k in 0..width {
                        atom.cells[r * width + k] = row[k * maps + f];
                    }
                }
                atom
            })
            .collect())
    }
}

/// Weighted binary cross-entropy of onset logits against 0/1 targets (same shape).
pub(crate) fn onset_loss(
    logits: &Tensor,
    target: &Tensor,
    onset_weight: f64,
) -> candle_core::Result<Tensor> {
    // softplus(l) = relu(l) + ln(1 + e^{−|l|}); −ln σ(l) = softplus(l) − l.
    let softplus = (logits.relu()? + (logits.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    let miss = (&softplus - logits)?;
    let off = ((1.0 - target)? * &softplus)?;
    let on = ((target * miss)? * onset_weight)?;
    (off + on)?.mean_all()
}

/// Trains a CONV-WTA model on `windows` (all of one shape); returns it with each epoch's mean
/// loss.
pub fn train_wta(
    windows: &[PianoRoll],
    config: &WtaConfig,
) -> Result<(ConvWta, Vec<f64>), WtaError> {
    let first = windows.first().ok_or(WtaError::NoWindows)?;
    let model = ConvWta::new(first.rows, config)?;
    let mut adam = Adam::for_varmap(&model.varmap, config.lr)?;
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let epochs = shuffled_epochs(
        windows.len(),
        config.epochs,
        config.batch,
        1,
        &mut rng,
        |chunk, rng| -> Result<f64, WtaError> {
            let clean: Vec<PianoRoll> = chunk.iter().map(|&i| windows[i].clone()).collect();
            let noisy: Vec<PianoRoll> = clean
                .iter()
                .map(|w| corrupt(w, config.corruption, config.corruption, rng))
                .collect();
            let logits = model.logits(&model.codes_of(&model.input(&noisy)?)?)?;
            let loss = onset_loss(&logits, &model.input(&clean)?, config.onset_weight)?;
            adam.step(&loss.backward()?)?;
            Ok(f64::from(loss.to_scalar::<f32>()?))
        },
    )?;
    let history = epochs.into_iter().map(|b| mean(b.into_iter())).collect();
    Ok((model, history))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winner_take_all_keeps_exactly_each_maps_winners() {
        // batch 1, 4 steps, 2 maps.
        let codes = Tensor::new(
            &[[[0.1f32, 2.0], [0.7, 0.5], [0.3, 1.0], [0.6, 0.0]]],
            &Device::Cpu,
        )
        .expect("tensor");
        let expected = [
            [[0.0, 2.0], [0.7, 0.0], [0.0, 0.0], [0.0, 0.0]],
            [[0.0, 2.0], [0.7, 0.0], [0.0, 1.0], [0.6, 0.0]],
        ];
        for (winners, want) in [1, 2].into_iter().zip(expected) {
            let kept = winner_take_all(&codes, winners)
                .expect("wta")
                .to_vec3::<f32>()
                .expect("vec");
            let want: Vec<Vec<f32>> = want.iter().map(|r| r.to_vec()).collect();
            assert_eq!(kept[0], want, "{winners} winners");
        }
    }

    #[test]
    fn shift_stack_moves_each_copy_and_fills_with_zeros() {
        let x = Tensor::new(&[[[1f32], [2.], [3.]]], &Device::Cpu).expect("tensor");
        let y = shift_stack(&x, &[-1, 0, 2, 5])
            .expect("stack")
            .to_vec3::<f32>()
            .expect("vec");
        assert_eq!(
            y[0],
            vec![
                vec![0., 1., 3., 0.],
                vec![1., 2., 0., 0.],
                vec![2., 3., 0., 0.]
            ]
        );
    }

    #[test]
    fn an_atom_is_pasted_at_its_winners_step() {
        let config = WtaConfig {
            maps: 2,
            atom_steps: 4,
            ..WtaConfig::default()
        };
        let model = ConvWta::new(3, &config).expect("model");
        // Map 1 wins at step 5 with activation 1, nothing else.
        let mut codes = vec![0f32; 10 * 2];
        codes[5 * 2 + 1] = 1.0;
        let codes = Tensor::from_vec(codes, (1, 10, 2), &Device::Cpu).expect("tensor");
        let logits = model
            .logits(&codes)
            .expect("logits")
            .to_vec3::<f32>()
            .expect("vec");
        let bias = model
            .atoms
            .bias()
            .expect("bias")
            .to_vec1::<f32>()
            .expect("vec");
        let atom = &model.atoms().expect("atoms")[1];
        for (t, row) in logits[0].iter().enumerate() {
            for (r, &l) in row.iter().enumerate() {
                // The atom's step k lands on step 5 − 2 + k.
                let expected = match (t + 2).checked_sub(5) {
                    Some(k) if k < 4 => bias[r] + atom.cells[r * 4 + k],
                    _ => bias[r],
                };
                assert!((l - expected).abs() < 1e-6, "step {t} row {r}");
            }
        }
    }
}
