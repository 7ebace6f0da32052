//! The factorised motif space (issue 9, part 3; DESIGN §7): an auto-encoder of one-bar
//! piano-roll patches trained with the soft pitch/time factorisation term of the patch model —
//! transpositions by whole semitones and time shifts by whole steps, both exact, zero-filled
//! and never wrapping — so that transposing a motif and moving it in time become two
//! orthogonal directions of its code. The decoder is categorical per step: at each step, one
//! of the pitch rows starts a note or none does (a softmax over rows + rest, cross-entropy
//! against the step's onsets, shared evenly when there are several). Melodies start at most one
//! note per step, so this says what a melody is; independent per-cell onsets (the CONV-WTA's
//! Bernoulli decoder, tried first) left the probability of a melody's next note spread over
//! neighbouring cells, none above ½ (held-out F1 0.40), and a Gaussian decoder's tiny squared
//! errors let the factorisation term collapse every code onto one point.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::Serialize;

use super::onsets::OnsetScore;
use super::piano_roll::PianoRoll;
use crate::adam::Adam;
use crate::batches::{mean, shuffled_epochs};
use crate::factorisation::log_frequency::EncoderBlur;
use crate::factorisation::{soft_loss, GridGeometry, ShiftGrid, ShiftViews};
use crate::operations::mlp::Mlp;
use crate::vae::export_vars;
use timbrespace_engine::model::TensorMap;

/// Weight of reconstructing each shifted view from its own code: the encoder must read shifted
/// patches as well as anchors, or their moves measure its confusion.
const OWN_VIEW_WEIGHT: f64 = 0.5;

/// Settings of the motif space and its training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MotifSpaceConfig {
    /// Latent size.
    pub latent: usize,
    /// Hidden width of the encoder and decoder (two tanh layers each).
    pub hidden: usize,
    /// Weight of the soft factorisation term (0: the space without it).
    pub weight: f64,
    /// Largest transposition, in semitones.
    pub max_pitch: usize,
    /// Largest time shift, in steps.
    pub max_time: usize,
    /// Standard deviation, in semitones, of the blur along pitch the encoder sees its patches
    /// through: unblurred, a motif a semitone away shares no input cell with the motif, so a
    /// small transposition cannot be a small move.
    pub blur: f64,
    /// The same along time, in steps: a note a step later shares no cell with the note.
    pub time_blur: f64,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Windows per step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed of the weights, batches and shifts.
    pub seed: u64,
}

impl Default for MotifSpaceConfig {
    fn default() -> Self {
        Self {
            latent: 16,
            hidden: 512,
            weight: 10.0,
            max_pitch: 5,
            max_time: 3,
            blur: 1.0,
            time_blur: 1.0,
            epochs: 60,
            batch: 64,
            lr: 1e-3,
            seed: 0,
        }
    }
}

/// Why the motif space could not be trained or scored.
#[derive(Debug, thiserror::Error)]
pub enum MotifSpaceError {
    /// candle failed.
    #[error("motif space failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// Nothing to learn from or to score.
    #[error("no piano-roll windows to learn from or to score")]
    NoWindows,
    /// The windows differ in shape, or a setting does not fit them.
    #[error("{0}")]
    Setting(String),
}

/// The motif auto-encoder over patches `steps × rows` (time-major, a row of pitches per step,
/// the layout the factorisation's shifts and metrics use).
pub struct MotifSpace {
    /// Patch → code.
    encoder: Mlp,
    /// Code → onset logits of the patch.
    decoder: Mlp,
    /// The encoder's blur along pitch.
    blur: EncoderBlur,
    /// The encoder's blur along time.
    time_blur: EncoderBlur,
    /// Its variables.
    varmap: VarMap,
    /// Steps per patch.
    steps: usize,
    /// Pitch rows per step.
    rows: usize,
}

impl MotifSpace {
    fn new(steps: usize, rows: usize, config: &MotifSpaceConfig) -> candle_core::Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let size = steps * rows;
        let encoder = Mlp::new(size, config.hidden, config.latent, vb.pp("encoder"))?;
        let decoder = Mlp::new(
            config.latent,
            config.hidden,
            steps * (rows + 1),
            vb.pp("decoder"),
        )?;
        crate::vae::seeded_init(&varmap, config.seed)?;
        Ok(Self {
            encoder,
            decoder,
            blur: EncoderBlur::new(rows, config.blur)?,
            time_blur: EncoderBlur::new(steps, config.time_blur)?,
            varmap,
            steps,
            rows,
        })
    }

    /// Codes of patches `(n, steps, rows)`.
    pub fn encode(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let along_time = self
            .time_blur
            .apply(&self.blur.apply(x)?.transpose(1, 2)?)?;
        self.encoder
            .forward(&along_time.transpose(1, 2)?.flatten_from(1)?)
    }

    /// Per step, the log-probabilities of each row starting a note and of none, `(n, steps,
    /// rows + 1)`, of codes `(n, latent)`.
    fn log_probabilities(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let logits = self
            .decoder
            .forward(z)?
            .reshape((z.dim(0)?, self.steps, self.rows + 1))?;
        candle_nn::ops::log_softmax(&logits, 2)
    }

    /// The cross-entropy of patches `x` `(n, steps, rows)` under codes `z`: per step, the
    /// target is the step's onsets shared evenly, or the rest when it has none.
    fn step_loss(&self, z: &Tensor, x: &Tensor) -> candle_core::Result<Tensor> {
        let count = x.sum_keepdim(2)?;
        let notes = x.broadcast_div(&count.clamp(1.0, f64::INFINITY)?)?;
        let rest = (1.0 - count.clamp(0.0, 1.0)?)?;
        let target = Tensor::cat(&[notes, rest], 2)?;
        let per_step = (target * self.log_probabilities(z)?)?.sum(2)?;
        per_step.mean_all()?.neg()
    }

    /// Each window encoded and decoded, onsets where their probability is above ½.
    pub fn reconstruct(&self, windows: &[PianoRoll]) -> candle_core::Result<Vec<PianoRoll>> {
        let cells = self.onsets(&self.encode(&self.patches(windows)?)?)?;
        Ok(cells
            .chunks_exact(self.steps * self.rows)
            .map(|patch| {
                let mut roll = PianoRoll::empty(self.rows, self.steps);
                for (i, _) in patch.iter().enumerate().filter(|(_, &v)| v > 0.5) {
                    roll.set(i % self.rows, i / self.rows);
                }
                roll
            })
            .collect())
    }

    /// `windows` as a tensor of time-major patches `(n, steps, rows)`.
    pub fn patches(&self, windows: &[PianoRoll]) -> candle_core::Result<Tensor> {
        let shape = (windows.len(), self.steps, self.rows);
        Tensor::from_vec(time_major(windows), shape, &Device::Cpu)
    }

    /// The onset probabilities of the time-major patches codes `(n, latent)` decode to.
    pub fn probabilities(&self, z: &Tensor) -> candle_core::Result<Vec<f32>> {
        self.log_probabilities(z)?
            .exp()?
            .narrow(2, 0, self.rows)?
            .flatten_all()?
            .to_vec1::<f32>()
    }

    /// The time-major patches codes `(n, latent)` decode to: 1 where a cell's onset
    /// probability is above ½, else 0.
    pub fn onsets(&self, z: &Tensor) -> candle_core::Result<Vec<f32>> {
        let probabilities = self.probabilities(z)?;
        Ok(probabilities
            .into_iter()
            .map(|p| f32::from(u8::from(p > 0.5)))
            .collect())
    }

    /// Steps per patch.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Pitch rows per step.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The decoder's weights named as the engine's motif decoder names them.
    pub fn decoder_tensors(&self) -> candle_core::Result<TensorMap> {
        Ok(export_vars(&self.varmap)?
            .into_iter()
            .filter(|(name, _)| name.starts_with("decoder."))
            .map(|(name, t)| (format!("motif.{name}"), t))
            .collect())
    }
}

/// Rolls (row-major, a row per pitch) as consecutive time-major patches (a row per step).
pub fn time_major(windows: &[PianoRoll]) -> Vec<f32> {
    let mut out = Vec::with_capacity(windows.iter().map(|w| w.cells.len()).sum());
    for w in windows {
        for step in 0..w.steps {
            out.extend((0..w.rows).map(|row| w.cells[row * w.steps + step]));
        }
    }
    out
}

/// Mean terms of one epoch, unweighted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MotifSpaceEpoch {
    /// Per-step cross-entropy of the anchors.
    pub reconstruction: f64,
    /// The soft factorisation term (0 when off).
    pub factorise: f64,
}

/// The loss of one batch of windows and its terms.
fn batch_loss(
    model: &MotifSpace,
    batch: &[PianoRoll],
    config: &MotifSpaceConfig,
    rng: &mut fastrand::Rng,
) -> candle_core::Result<(Tensor, MotifSpaceEpoch)> {
    let anchors = time_major(batch);
    let shape = [batch.len(), model.steps, model.rows];
    let x = Tensor::from_slice(&anchors, shape.as_slice(), &Device::Cpu)?;
    let z = model.encode(&x)?;
    let recon = model.step_loss(&z, &x)?;
    let mut terms = MotifSpaceEpoch {
        reconstruction: f64::from(recon.to_scalar::<f32>()?),
        ..MotifSpaceEpoch::default()
    };
    let mut loss = recon;
    if config.weight > 0.0 {
        let views =
            ShiftViews::of_patches(&anchors, shape, config.max_pitch, config.max_time, rng)?;
        let (z1, z2) = (model.encode(&views.first)?, model.encode(&views.second)?);
        let own = (model.step_loss(&z1, &views.first)? + model.step_loss(&z2, &views.second)?)?;
        let soft = soft_loss(&z, &z1, &z2, &views)?;
        terms.factorise = f64::from(soft.to_scalar::<f32>()?);
        loss = ((loss + (own * OWN_VIEW_WEIGHT)?)? + (soft * config.weight)?)?;
    }
    Ok((loss, terms))
}

/// Trains a motif space on `windows` (all of one shape); returns it with each epoch's terms.
pub fn train_motif_space(
    windows: &[PianoRoll],
    config: &MotifSpaceConfig,
) -> Result<(MotifSpace, Vec<MotifSpaceEpoch>), MotifSpaceError> {
    let first = windows.first().ok_or(MotifSpaceError::NoWindows)?;
    let (rows, steps) = (first.rows, first.steps);
    if windows.iter().any(|w| w.rows != rows || w.steps != steps) {
        return Err(MotifSpaceError::Setting(
            "the windows differ in shape".into(),
        ));
    }
    if config.max_pitch >= rows || config.max_time >= steps || config.latent == 0 {
        return Err(MotifSpaceError::Setting(format!(
            "transpositions must be smaller than the {rows} pitch rows, time shifts shorter \
             than the {steps} steps and the latent size at least 1"
        )));
    }
    let model = MotifSpace::new(steps, rows, config)?;
    let mut adam = Adam::for_varmap(&model.varmap, config.lr)?;
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let epochs = shuffled_epochs(
        windows.len(),
        config.epochs,
        config.batch,
        2,
        &mut rng,
        |chunk, rng| -> Result<MotifSpaceEpoch, MotifSpaceError> {
            let batch: Vec<PianoRoll> = chunk.iter().map(|&i| windows[i].clone()).collect();
            let (loss, terms) = batch_loss(&model, &batch, config, rng)?;
            adam.step(&loss.backward()?)?;
            Ok(terms)
        },
    )?;
    let history = epochs
        .iter()
        .map(|b| MotifSpaceEpoch {
            reconstruction: mean(b.iter().map(|t| t.reconstruction)),
            factorise: mean(b.iter().map(|t| t.factorise)),
        })
        .collect();
    Ok((model, history))
}

/// How a motif space reconstructs held-out windows and lays out pitch and time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MotifSpaceScores {
    /// Onsets of the held-out windows' reconstructions.
    pub onsets: OnsetScore,
    /// The notebook's metrics on the held-out windows.
    pub geometry: GridGeometry,
    /// Held-out windows the geometry was measured on.
    pub windows: usize,
}

/// Scores `model` on `test` windows: onset F1 of their reconstructions, and the geometry of the
/// codes of the first `geometry_windows` of them at every shift; `seed` picks the pairs of
/// windows compared across.
pub fn score_motif_space(
    model: &MotifSpace,
    test: &[PianoRoll],
    config: &MotifSpaceConfig,
    geometry_windows: usize,
    seed: u64,
) -> Result<MotifSpaceScores, MotifSpaceError> {
    if test.is_empty() {
        return Err(MotifSpaceError::NoWindows);
    }
    let onsets = OnsetScore::compare(&model.reconstruct(test)?, test);
    let measured = &test[..geometry_windows.max(2).min(test.len())];
    let grid = ShiftGrid::measure(
        &time_major(measured),
        model.steps,
        model.rows,
        (config.max_pitch, config.max_time),
        &|x| model.encode(x),
    )?;
    Ok(MotifSpaceScores {
        onsets,
        geometry: grid.geometry(seed),
        windows: measured.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_become_time_major_patches() {
        let mut roll = PianoRoll::empty(3, 4);
        roll.set(2, 1);
        roll.set(0, 3);
        let patch = time_major(std::slice::from_ref(&roll));
        // Step 1 holds row 2; step 3 holds row 0.
        let mut expected = vec![0.0; 12];
        expected[3 + 2] = 1.0;
        expected[3 * 3] = 1.0;
        assert_eq!(patch, expected);
    }
}
