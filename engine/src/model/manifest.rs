//! The JSON manifest of a `.tsm` model file (DESIGN §8): everything a player needs besides the
//! weights — the signal configuration, the magnitude scaling, the architecture, label
//! vocabularies, projections and where the model came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::stft::StftConfig;
use crate::window::WindowKind;

use super::ModelFileError;

/// The `format` field every Timbrespace model carries; anything else is not a model.
pub const FORMAT_NAME: &str = "timbrespace-model";
/// The manifest version this build reads and writes. Bump it when a field changes meaning.
pub const FORMAT_VERSION: u32 = 1;

/// Everything about a model except its tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The manifest version, [`FORMAT_VERSION`] when written by this build.
    pub version: u32,
    /// The STFT the model's frames come from; synthesis must use the same.
    pub signal: SignalConfig,
    /// How magnitudes were compressed before training; the player undoes it.
    pub scaling: Scaling,
    /// Network shapes; the tensor names and shapes follow from it (see [`super::layers`]).
    pub architecture: Architecture,
    /// One entry per label kind (pitch, octave, dynamics, instrument, …), in the column order
    /// of the `points.labels` tensor.
    pub labels: Vec<LabelSet>,
    /// Projections of the latent space fitted after training (`pca`, `ica`).
    pub projections: Vec<ProjectionInfo>,
    /// Where the model came from and how training went.
    pub training: Provenance,
    /// Evaluation scores by name (filled by `timbrespace eval` or at the end of training).
    pub scores: BTreeMap<String, f64>,
    /// The symbol side of a signal–symbol (SCAN) model; absent for audio-only models, which
    /// then cannot be played from MIDI symbols or transcribe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbols: Option<SymbolSpec>,
    /// Where the stored descriptor maps (tensor `maps.descriptors`) lie, when the model has
    /// them; editors draw them instead of decoding a grid at load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptor_maps: Option<DescriptorMapInfo>,
    /// The latent direction along which the model transposes, when it was trained with the
    /// soft pitch factorisation (issue 8); players then transpose any position along it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_direction: Option<PitchDirection>,
}

/// A learned transposition direction: z + n·`per_semitone` sounds n semitones higher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PitchDirection {
    /// The latent move of one semitone up (one value per latent dimension).
    pub per_semitone: Vec<f32>,
    /// Share of the latent moves of transposed training frames that this one direction
    /// explains (1 = transposition is exactly this line everywhere); tells users how far to
    /// trust it.
    pub explained: f32,
}

impl PitchDirection {
    /// Moves `z` by `semitones` along the direction (allocation-free; for the audio thread).
    pub fn transpose(&self, z: &mut [f32], semitones: f32) {
        for (v, step) in z.iter_mut().zip(&self.per_semitone) {
            *v += semitones * step;
        }
    }
}

/// The grid of the stored descriptor maps: `size × size` points over ±`span` σ of axes 1–2 of
/// `basis`, centred on the projection's origin; the tensor is `[descriptors, size, size]` in
/// the engine's descriptor order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescriptorMapInfo {
    /// `raw`, `pca` or `ica`.
    pub basis: String,
    /// Points per side.
    pub size: usize,
    /// Half-width of the square in σ.
    pub span: f32,
}

/// Shapes of the symbol VAE and the note trajectories (DESIGN §5, issue 4). Tensors:
/// `symbols.encoder.dense{i}` (y → μ, log σ² of q(z|y)), `symbols.decoder.dense{i}` (z →
/// logits of p(y|z)), `symbols.attack` and `symbols.release` (latent offsets from a note's
/// sustained centre over time, `[groups, frames, latent]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolSpec {
    /// Names of the label kinds (in `labels`) whose one-hots are concatenated into y, in order.
    pub kinds: Vec<String>,
    /// Hidden widths of the symbol encoder; the decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Weight of KL(q(z|x) ‖ q(z|y)) it was trained with.
    pub alpha: f32,
    /// Weight of −log p(y|z) on audio codes it was trained with: how hard the audio encoder
    /// was pushed to keep the symbols readable (models from before this field: 1).
    #[serde(default = "unit_weight")]
    pub reading: f32,
    /// Label kinds whose class combination selects a trajectory (e.g. instrument, dynamics):
    /// notes of one instrument and loudness share an envelope shape across pitches.
    pub trajectory_kinds: Vec<String>,
    /// Frames of the attack template, from note-on.
    pub attack_frames: usize,
    /// Frames of the release template, from note-off.
    pub release_frames: usize,
    /// The templates carry a level per frame too (`symbols.attack_level`,
    /// `symbols.release_level`, in dB): how much louder or softer the training notes were at
    /// that point of their life than the moved latent point decodes, so a piano note decays
    /// and a release fades although decoded spectra barely change level. Models from before
    /// this field have none and play at the decoded level.
    #[serde(default)]
    pub levels: bool,
}

/// The symbol-reading weight of models written before it was recorded.
fn unit_weight() -> f32 {
    1.0
}

impl SymbolSpec {
    /// Width of y: the summed class counts of `kinds` (0 if a kind is missing from `labels`).
    pub fn width(&self, labels: &[LabelSet]) -> usize {
        self.kinds
            .iter()
            .map(|k| {
                labels
                    .iter()
                    .find(|l| &l.name == k)
                    .map_or(0, |l| l.classes.len())
            })
            .sum()
    }

    /// Number of trajectories: the product of the class counts of `trajectory_kinds`.
    pub fn trajectory_groups(&self, labels: &[LabelSet]) -> usize {
        self.trajectory_kinds
            .iter()
            .map(|k| {
                labels
                    .iter()
                    .find(|l| &l.name == k)
                    .map_or(1, |l| l.classes.len())
            })
            .product()
    }
}

/// Sample rate and STFT of the model's frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalConfig {
    /// The rate the model synthesises at; players resample to the host's rate.
    pub sample_rate: u32,
    /// FFT size; the model sees `n_fft / 2 + 1` bins.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop: usize,
    /// Window name as [`WindowKind::name`] prints it.
    pub window: String,
}

impl SignalConfig {
    /// The engine's STFT configuration, or why this one is unusable.
    pub fn stft(&self) -> Result<StftConfig, ModelFileError> {
        let window = WindowKind::from_name(&self.window)
            .ok_or_else(|| ModelFileError::Manifest(format!("unknown window `{}`", self.window)))?;
        if self.sample_rate < 1000 || self.sample_rate > 384_000 {
            return Err(ModelFileError::Manifest(format!(
                "sample rate {} Hz is outside 1–384 kHz",
                self.sample_rate
            )));
        }
        StftConfig::new(self.n_fft, self.hop, window)
            .map_err(|e| ModelFileError::Manifest(e.to_string()))
    }
}

/// Magnitude compression: the model sees `ln(1 + gain·|X|)`. `gain` already folds in the
/// window's normalisation, so a full-scale sinusoid has `gain·|X| ≈ 1000` at its peak bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Multiplier applied to raw STFT magnitudes before `ln(1 + ·)`.
    pub gain: f32,
}

impl Scaling {
    /// Scaling for `config` where a full-scale sinusoid's peak maps to `ln(1 + 1000)`.
    pub fn for_stft(config: &StftConfig) -> Self {
        let window_sum: f32 = config.analysis_window().iter().sum();
        Scaling {
            gain: 2000.0 / window_sum,
        }
    }

    /// Raw magnitude → model domain.
    #[inline]
    pub fn compress(&self, magnitude: f32) -> f32 {
        (self.gain * magnitude.max(0.0)).ln_1p()
    }

    /// Model domain → raw magnitude; negative values (below the floor) become silence.
    #[inline]
    pub fn expand(&self, value: f32) -> f32 {
        value.max(0.0).exp_m1() / self.gain
    }
}

/// Which family of encoder/decoder the model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchKind {
    /// Fully connected layers.
    Mlp,
    /// 1-D convolutions along frequency.
    Conv,
}

/// Shapes of the encoder and decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// MLP or convolutional.
    pub kind: ArchKind,
    /// Input and output size (`n_fft / 2 + 1`).
    pub bins: usize,
    /// Latent dimensions (2–64).
    pub latent: usize,
    /// MLP: hidden widths from the input side (the decoder mirrors them). Conv: the width of
    /// the dense layer between the convolutions and the latent space (one entry).
    pub hidden: Vec<usize>,
    /// Convolution shape; present exactly when `kind` is `conv`.
    pub conv: Option<ConvShape>,
    /// Standard deviation of the Gaussian decoder in the scaled domain, which sets −log p(x|z).
    pub sigma: f32,
}

/// Shape of the convolutional stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvShape {
    /// Channels of every hidden convolution.
    pub channels: usize,
    /// Kernel length (odd, so "same" padding is symmetric).
    pub kernel: usize,
    /// How many stride-2 convolutions the encoder has and upsamplings the decoder has.
    pub stages: usize,
}

/// One label kind and its classes; `points.labels` stores class indices (−1 when unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSet {
    /// `pitch`, `octave`, `dynamics`, `instrument` or a CSV column name.
    pub name: String,
    /// Class names in index order.
    pub classes: Vec<String>,
}

/// A projection of the latent space stored as tensors `projection.<name>.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectionInfo {
    /// `pca` or `ica`.
    pub name: String,
    /// Number of projected axes.
    pub dims: usize,
}

/// How the model was trained.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The dataset folder or generator the model was trained on.
    pub dataset: String,
    /// Files in the dataset.
    pub files: usize,
    /// Training frames.
    pub train_frames: usize,
    /// Test frames (held-out files).
    pub test_frames: usize,
    /// Fraction of files held out for testing (with `seed`, it reproduces the split).
    pub test_fraction: f64,
    /// Frame selection: `energy` or `stationary`.
    pub selection: String,
    /// Energy threshold below each file's peak, in dB.
    pub threshold_db: f32,
    /// Frames kept per file (0 = all).
    pub max_frames_per_file: usize,
    /// Objective and its settings, e.g. `kl(beta=1, warmup=10)`.
    pub objective: String,
    /// The seed every random choice came from.
    pub seed: u64,
    /// Epochs run.
    pub epochs: usize,
    /// Wall-clock training time in seconds.
    pub seconds: f64,
    /// Per-epoch losses (the training curves of `eval`).
    pub history: Vec<EpochRecord>,
}

/// Losses of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss per frame.
    pub train_loss: f64,
    /// Mean test loss per frame (reconstruction + full-weight regulariser).
    pub test_loss: f64,
    /// Mean test reconstruction term (−log p(x|z) up to a constant).
    pub test_recon: f64,
    /// Mean test regulariser (KL, MMD or Rényi).
    pub test_reg: f64,
    /// Mean symbol loss per test frame (SCAN models; 0 otherwise).
    #[serde(default)]
    pub test_symbols: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Training throughput.
    pub frames_per_second: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_specs_from_before_the_reading_weight_and_levels_read_as_weight_one_without_levels() {
        let old = r#"{"kinds":["pitch"],"hidden":[8],"alpha":10.0,"trajectory_kinds":[],
            "attack_frames":3,"release_frames":2}"#;
        let spec: SymbolSpec = serde_json::from_str(old).expect("an older spec parses");
        assert_eq!(spec.reading, 1.0);
        assert!(!spec.levels, "older templates carry no levels");
        let newer = SymbolSpec {
            reading: 30.0,
            levels: true,
            ..spec
        };
        let text = serde_json::to_string(&newer).expect("serialises");
        let back: SymbolSpec = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, newer);
    }
}
