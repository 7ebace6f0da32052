//! Physical symmetry for a pitch factor (SPS: Liu, Chin, Huang, Xia, NeurIPS 2023; DESIGN §7).
//! An encoder maps each note of a scale to z; a prior model R predicts the next note's z from
//! the last [`CONTEXT`] codes; and R is made to commute with random translations S of the first
//! latent coordinate: S⁻¹ R S must predict as well as R. A melody moved up keeps its steps,
//! which favours a coordinate linear in pitch; it does not force one (steps of any size along
//! a bent curve also keep one pattern), and measured factors bend at the ends of a range.
//! The step tie ([`SpsConfig::step_weight`]) adds what the symmetry lacks: a note's view moved
//! by a few log-frequency bins must move the factor by one slope per bin, the same slope for
//! every note of the batch, so steps are equal in every register and at every marking. It
//! uses no labels: the move is made on the input, as the soft factorisation's shifts are.
//!
//! The data is the paper's setting rebuilt from the soundfont notes: 15-note major scales up
//! and back down from every start pitch an instrument and dynamics level have all the notes
//! of, each note one sustained frame; optionally each note takes a random marking of the
//! instrument's that have its key ([`Markings`]). As the paper reads
//! constant-Q spectra, the model reads and writes each frame's log-frequency view
//! ([`LogFrequency::standard`]), where a transposition is a translation, and its encoder sees
//! the view through a Gaussian blur.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{linear, Linear, VarBuilder, VarMap};
use serde::Serialize;
use timbrespace_engine::grid::TfGrid;
use timbrespace_engine::model::manifest::{ArchKind, Architecture};
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::pitch::{pitch_track, YinSettings};
use timbrespace_engine::symbols::{DYNAMICS, INSTRUMENT};
use timbrespace_engine::voice::PhaseMode;

use crate::adam::Adam;
use crate::dataset::{file_key, Dataset};
use crate::factorisation::log_frequency::{EncoderBlur, LogFrequency, LogFrequencyError};
use crate::factorisation::{shift_patch, transpose, Shift};
use crate::objective::{kl_to_prior, reconstruction};
use crate::random::gaussian_vec;
use crate::synth::render_grid;
use crate::vae::{seeded_init, Vae, DEFAULT_SIGMA};

/// Semitones of a 15-note major scale up and back down, from its first note.
pub const SCALE: [i32; 15] = [0, 2, 4, 5, 7, 9, 11, 12, 11, 9, 7, 5, 4, 2, 0];
/// Codes the prior sees: three steps are enough to know where in a major scale a note is.
pub const CONTEXT: usize = 4;
/// Frames of each rendering the synthesis score measures.
const RENDER_FRAMES: usize = 48;
/// Pitch-factor values the synthesis score sweeps per test note.
const SWEEP: usize = 9;
/// Added to a view's RMS before the encoder divides by it, so a silent frame stays finite.
const LEVEL_FLOOR: f64 = 1e-3;

/// SPS settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpsConfig {
    /// Latent size (at least 2): coordinate 0 is the pitch factor, the rest timbre.
    pub latent: usize,
    /// Hidden width of the encoder, decoder and prior.
    pub hidden: usize,
    /// Random translations K per step (0: no symmetry, the paper's ablation).
    pub translations: usize,
    /// Translations are uniform in ± this, in latent units: about half the factor's range, so
    /// that translated contexts reach across the register.
    pub shift_range: f32,
    /// Passes over the scales.
    pub epochs: usize,
    /// Scales per step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Weight of the latent-space prediction and symmetry terms (ℓ2 in latent units, small
    /// beside the reconstruction terms unless weighted up).
    pub prior_weight: f64,
    /// Weight of the KL term (it fixes the latent scale the ℓ2 terms are measured in).
    pub beta: f64,
    /// Standard deviation, in log-frequency bins, of the encoder's blur ([`EncoderBlur`]; 0:
    /// none).
    pub blur: f64,
    /// Weight of the step tie (ℓ2 in latent units, like the prior terms; 0: off): each batch's
    /// views moved up and down by a few log-frequency bins must move the pitch factor by one
    /// slope per bin, the same for every note. It has to outweigh the reconstruction terms
    /// (thousands) by far: at 100 and 1000 it barely changed the trumpet's R², at 10⁵ it
    /// straightened it (0.88 → 0.99), and 10⁶ did no better on the violin.
    pub step_weight: f64,
    /// Seed of the weights, batches and translations.
    pub seed: u64,
}

impl Default for SpsConfig {
    fn default() -> Self {
        Self {
            latent: 4,
            hidden: 256,
            translations: 4,
            shift_range: 4.0,
            epochs: 200,
            batch: 32,
            lr: 1e-3,
            beta: 1.0,
            prior_weight: 100.0,
            blur: 4.0,
            step_weight: 1e5,
            seed: 0,
        }
    }
}

/// Why SPS could not run.
#[derive(Debug, thiserror::Error)]
pub enum SpsError {
    /// candle failed.
    #[error("SPS training failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The notes carry no pitch, octave or instrument labels.
    #[error("SPS needs notes labelled with pitch, octave and instrument (the soundfont notes dataset has them)")]
    Unlabelled,
    /// No instrument has a full major scale.
    #[error("no instrument and dynamics level has all eight notes of any major scale")]
    NoScales,
    /// The STFT has no room for the log-frequency grid.
    #[error(transparent)]
    Grid(#[from] LogFrequencyError),
}

/// Which dynamics marking the notes of a scale take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markings {
    /// Every note of a scale at the scale's marking (the paper's setting: one timbre per
    /// melody). Nothing then ties the pitch factor's steps in scales of different markings
    /// together, and they drift apart: the trumpet's step per semitone came out nearly twice
    /// as long at ff as at pp.
    Same,
    /// Each note at a marking drawn at random (with this seed) among the instrument's markings
    /// that have its key, so that one scale mixes markings and the prior can only predict it if
    /// a key's pitch factor is the same at every marking.
    Mixed(u64),
}

/// Scales over a dataset's frames.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSet {
    /// Per scale, the frame of each of its [`SCALE`] notes.
    pub scales: Vec<[usize; SCALE.len()]>,
    /// Per scale, its first key.
    pub starts: Vec<i32>,
    /// Per scale, the instrument-and-dynamics group of each note (all one group with
    /// [`Markings::Same`]).
    pub groups: Vec<[usize; SCALE.len()]>,
    /// Per group, the frames of all its notes: a note's timbre is read from a random one of
    /// its group's, so that it cannot tell the note's register and pitch must pass the pitch
    /// factor.
    pub members: Vec<Vec<usize>>,
}

/// Per (instrument, dynamics) group, each key's frame.
type GroupKeys = BTreeMap<(usize, Option<usize>), BTreeMap<i32, usize>>;

impl ScaleSet {
    /// Every full major scale of `dataset`, each note one frame chosen by `frame_of` (from the
    /// file index; `None` leaves the note out), at the `markings` asked for.
    pub fn build(
        dataset: &Dataset,
        frame_of: &dyn Fn(usize) -> Option<usize>,
        markings: Markings,
    ) -> Result<Self, SpsError> {
        let kind = |name: &str| dataset.label_sets.iter().position(|l| l.name == name);
        let instrument = kind(INSTRUMENT).ok_or(SpsError::Unlabelled)?;
        let dynamics = kind(DYNAMICS);
        let mut groups = GroupKeys::new();
        for (f, file) in dataset.files.iter().enumerate() {
            let (Some(key), Some(inst)) = (file_key(dataset, f), file.labels[instrument]) else {
                continue;
            };
            let dyn_class = dynamics.and_then(|d| file.labels[d]);
            if let Some(frame) = frame_of(f) {
                groups
                    .entry((inst, dyn_class))
                    .or_default()
                    .insert(key, frame);
            }
        }
        if groups.is_empty() {
            return Err(SpsError::Unlabelled);
        }
        Self::from_groups(&groups, markings)
    }

    /// Every full major scale of every group (a scale needs all its keys in one group, which
    /// sets its register), its notes' markings drawn as `markings` says.
    fn from_groups(groups: &GroupKeys, markings: Markings) -> Result<Self, SpsError> {
        let names: Vec<&(usize, Option<usize>)> = groups.keys().collect();
        let keyed: Vec<&BTreeMap<i32, usize>> = groups.values().collect();
        let mut rng = match markings {
            Markings::Same => None,
            Markings::Mixed(seed) => Some(fastrand::Rng::with_seed(seed)),
        };
        let mut set = Self {
            scales: Vec::new(),
            starts: Vec::new(),
            groups: Vec::new(),
            members: groups
                .values()
                .map(|n| n.values().copied().collect())
                .collect(),
        };
        for (group, notes) in keyed.iter().enumerate() {
            let siblings: Vec<usize> = (0..names.len())
                .filter(|&g| names[g].0 == names[group].0)
                .collect();
            for &start in notes.keys() {
                if !SCALE.iter().all(|s| notes.contains_key(&(start + s))) {
                    continue;
                }
                let mut frames = [0; SCALE.len()];
                let mut note_groups = [group; SCALE.len()];
                for ((frame, note_group), s) in frames.iter_mut().zip(&mut note_groups).zip(SCALE) {
                    let key = start + s;
                    if let Some(rng) = rng.as_mut() {
                        let having: Vec<usize> = siblings
                            .iter()
                            .copied()
                            .filter(|&g| keyed[g].contains_key(&key))
                            .collect();
                        *note_group = having[rng.usize(0..having.len())];
                    }
                    *frame = keyed[*note_group][&key];
                }
                set.scales.push(frames);
                set.starts.push(start);
                set.groups.push(note_groups);
            }
        }
        if set.scales.is_empty() {
            return Err(SpsError::NoScales);
        }
        Ok(set)
    }
}

/// A two-layer perceptron (ReLU between).
struct Perceptron {
    hidden: Linear,
    out: Linear,
}

impl Perceptron {
    fn new(
        inputs: usize,
        hidden: usize,
        outputs: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        Ok(Self {
            hidden: linear(inputs, hidden, vb.pp("dense0"))?,
            out: linear(hidden, outputs, vb.pp("dense1"))?,
        })
    }
}

impl Module for Perceptron {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.out.forward(&self.hidden.forward(x)?.relu()?)
    }
}

/// The SPS model: a VAE over log-frequency frames and the prior R.
pub struct SpsModel {
    /// Encoder and decoder of log-frequency views.
    pub vae: Vae,
    /// The log-frequency grid the model reads and writes.
    pub grid: LogFrequency,
    /// The encoder's blur along log-frequency.
    blur: EncoderBlur,
    /// The pitch factors of the last [`CONTEXT`] notes → the next note's.
    prior: Perceptron,
    /// Its variables.
    varmap: VarMap,
}

impl SpsModel {
    /// A fresh model for STFT frames of `linear_bins` bins at `sample_rate`.
    fn new(linear_bins: usize, sample_rate: u32, config: &SpsConfig) -> Result<Self, SpsError> {
        let grid = LogFrequency::standard(linear_bins, sample_rate)?;
        let bins = grid.bins();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let arch = Architecture {
            kind: ArchKind::Mlp,
            bins,
            latent: config.latent,
            hidden: vec![config.hidden],
            conv: None,
            sigma: DEFAULT_SIGMA,
        };
        let vae = Vae::new(&arch, &vb)?;
        let prior = Perceptron::new(CONTEXT, config.hidden, 1, vb.pp("sps.prior"))?;
        seeded_init(&varmap, config.seed)?;
        Ok(Self {
            vae,
            grid,
            blur: EncoderBlur::new(bins, config.blur)?,
            prior,
            varmap,
        })
    }

    /// Posterior parameters (μ, log σ²) of log-frequency views `(n, bins)`. The encoder reads
    /// each view blurred and divided by its RMS: a ReLU encoder's outputs grow with its
    /// input's level, so without the division the pitch factor's steps grew with the dynamics
    /// (a ff scale's four times a pp scale's), and nothing in the symmetry ties the step sizes
    /// of different scales together.
    fn posterior(&self, views: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let x = self.blur.apply(views)?;
        let rms = x.sqr()?.mean_keepdim(1)?.sqrt()?.affine(1.0, LEVEL_FLOOR)?;
        self.vae.encode(&x.broadcast_div(&rms)?)
    }

    /// Latent means of log-frequency views `(n, bins)`.
    pub fn encode(&self, views: &Tensor) -> candle_core::Result<Tensor> {
        Ok(self.posterior(views)?.0)
    }

    /// The log-frequency views of scaled STFT `frames` (each the dataset's bins long).
    pub fn views<'a>(
        &self,
        frames: impl ExactSizeIterator<Item = &'a [f32]>,
    ) -> candle_core::Result<Tensor> {
        let (n, bins) = (frames.len(), self.grid.bins());
        Tensor::from_vec(self.grid.views(frames), (n, bins), &Device::Cpu)
    }
}

/// The rows `indices` of `views`.
fn gather(views: &Tensor, indices: &[usize]) -> candle_core::Result<Tensor> {
    let ids: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
    views.index_select(&Tensor::new(ids.as_slice(), &Device::Cpu)?, 0)
}

/// The symmetry S: pitch factors `(n, width)` (every column a pitch factor) moved by `delta`
/// `(n, 1)`, row by row; with −delta it is S⁻¹.
pub fn translate(pitch: &Tensor, delta: &Tensor) -> candle_core::Result<Tensor> {
    pitch.broadcast_add(delta)
}

/// Mean over rows of the squared distance.
fn distance(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    (a - b)?.sqr()?.sum(D::Minus1)?.mean_all()
}

/// The loss of one batch of scales.
fn batch_loss(
    model: &SpsModel,
    views: &Tensor,
    set: &ScaleSet,
    batch: &[usize],
    config: &SpsConfig,
    rng: &mut fastrand::Rng,
) -> candle_core::Result<Tensor> {
    let scales: Vec<[usize; SCALE.len()]> = batch.iter().map(|&i| set.scales[i]).collect();
    let (n, steps, latent) = (scales.len(), SCALE.len(), config.latent);
    let frames: Vec<usize> = scales.iter().flatten().copied().collect();
    let x = gather(views, &frames)?;
    let (mu, logvar) = model.posterior(&x)?;
    let eps = Tensor::from_vec(
        gaussian_vec(rng, n * steps * latent),
        (n * steps, latent),
        &Device::Cpu,
    )?;
    let z = (&mu + (logvar.affine(0.5, 0.0)?.exp()? * eps)?)?;
    let sigma = f64::from(DEFAULT_SIGMA);
    // Every note is decoded from its own pitch factor and the timbre coordinates of another
    // note of its instrument and dynamics, at a random pitch, so that pitch — absolute, not
    // relative to the scale — has to pass through the pitch factor. A scale keeps one such
    // partner per marking it plays.
    let codes = z.reshape((n, steps, latent))?;
    let pitch = codes.narrow(2, 0, 1)?.reshape((n, steps))?;
    let (mut partners, mut partner_of_note) = (Vec::new(), Vec::with_capacity(n * steps));
    for &i in batch {
        let mut drawn: Vec<(usize, u32)> = Vec::new();
        for &group in &set.groups[i] {
            let index = match drawn.iter().find(|(g, _)| *g == group) {
                Some(&(_, index)) => index,
                None => {
                    let members = &set.members[group];
                    partners.push(members[rng.usize(0..members.len())]);
                    let index = (partners.len() - 1) as u32;
                    drawn.push((group, index));
                    index
                }
            };
            partner_of_note.push(index);
        }
    }
    let timbre = model
        .encode(&gather(views, &partners)?)?
        .narrow(1, 1, latent - 1)?
        .contiguous()?
        .index_select(&Tensor::new(partner_of_note.as_slice(), &Device::Cpu)?, 0)?;
    let own = Tensor::cat(&[pitch.reshape((n * steps, 1))?, timbre.clone()], 1)?;
    let timbre = timbre.reshape((n, steps, latent - 1))?;
    let mut loss = (reconstruction(&x, &model.vae.decode(&own)?, sigma)?
        + (kl_to_prior(&mu, &logvar)? * config.beta)?)?;
    if config.step_weight > 0.0 {
        let tie = step_tie(model, &x, &mu.narrow(1, 0, 1)?, rng)?;
        loss = (loss + (tie * config.step_weight)?)?;
    }
    // Every position of every scale: the pitch factors of the last CONTEXT notes, the next
    // note's, its frame and its timbre coordinates.
    let (mut contexts, mut targets, mut next, mut timbres) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in CONTEXT - 1..steps - 1 {
        contexts.push(pitch.narrow(1, t + 1 - CONTEXT, CONTEXT)?);
        targets.push(pitch.narrow(1, t + 1, 1)?);
        next.extend(scales.iter().map(|s| s[t + 1]));
        timbres.push(timbre.narrow(1, t + 1, 1)?.squeeze(1)?);
    }
    let contexts = Tensor::cat(&contexts, 0)?;
    let targets = Tensor::cat(&targets, 0)?;
    let timbres = Tensor::cat(&timbres, 0)?;
    let next = gather(views, &next)?;
    let decode_next = |p: &Tensor| -> candle_core::Result<Tensor> {
        let z = Tensor::cat(&[p, &timbres], 1)?;
        reconstruction(&next, &model.vae.decode(&z)?, sigma)
    };
    let predicted = model.prior.forward(&contexts)?;
    let w = config.prior_weight;
    loss = ((loss + (distance(&predicted, &targets)? * w)?)? + decode_next(&predicted)?)?;
    let rows = contexts.dim(0)?;
    for _ in 0..config.translations {
        let delta: Vec<f32> = (0..rows)
            .map(|_| (2.0 * rng.f32() - 1.0) * config.shift_range)
            .collect();
        let delta = Tensor::from_vec(delta, (rows, 1), &Device::Cpu)?;
        let moved = model.prior.forward(&translate(&contexts, &delta)?)?;
        let back = translate(&moved, &delta.neg()?)?;
        let terms = (((distance(&back, &predicted)? + distance(&back, &targets)?)? * w)?
            + decode_next(&back)?)?;
        loss = (loss + (terms / config.translations as f64)?)?;
    }
    Ok(loss)
}

/// Largest move of the step tie, in log-frequency bins (a whole tone at 24 per octave).
const TIE_SHIFT: usize = 4;

/// The step tie: `views` moved up by one random amount and down by another (1 to
/// [`TIE_SHIFT`] bins), and each note's pitch-factor move (from its own `factor`, `(n, 1)`)
/// compared with the moves one slope per bin, shared by the whole batch, would give. The
/// symmetry lets a factor take steps of any size along a bent curve; this asks for the same
/// step per semitone in every register and at every marking.
fn step_tie(
    model: &SpsModel,
    views: &Tensor,
    factor: &Tensor,
    rng: &mut fastrand::Rng,
) -> candle_core::Result<Tensor> {
    let (rows, bins) = views.dims2()?;
    let flat = views.flatten_all()?.to_vec1::<f32>()?;
    let shifts = [
        rng.usize(1..=TIE_SHIFT) as i32,
        -(rng.usize(1..=TIE_SHIFT) as i32),
    ];
    let mut moves = Vec::with_capacity(shifts.len());
    let mut amounts = Vec::with_capacity(shifts.len() * rows);
    let mut shifted = vec![0.0; flat.len()];
    for &k in &shifts {
        // The rows as one patch of `rows` frames: a pitch shift moves each along its bins.
        shift_patch(&flat, bins, Shift::pitch(k), &mut shifted);
        let shifted = Tensor::from_slice(&shifted, (rows, bins), &Device::Cpu)?;
        let moved = model.encode(&shifted)?.narrow(1, 0, 1)?;
        moves.push((moved - factor)?);
        amounts.extend(std::iter::repeat_n(k as f32, rows));
    }
    let amounts = Tensor::from_vec(amounts, (2 * rows, 1), &Device::Cpu)?;
    off_one_slope(&Tensor::cat(&moves, 0)?, &amounts)
}

/// Mean squared distance of `moves` `(n, 1)` from the least-squares line through the origin
/// in `amounts` `(n, 1)`: how far the moves are from one shared slope.
fn off_one_slope(moves: &Tensor, amounts: &Tensor) -> candle_core::Result<Tensor> {
    let slope = ((moves * amounts)?.sum_all()? / amounts.sqr()?.sum_all()?)?;
    distance(moves, &amounts.broadcast_mul(&slope)?)
}

/// Trains an SPS model on `scales`; returns it with the mean loss per epoch.
pub fn train_sps(
    dataset: &Dataset,
    scales: &ScaleSet,
    config: &SpsConfig,
) -> Result<(SpsModel, Vec<f64>), SpsError> {
    let model = SpsModel::new(dataset.bins, dataset.signal.sample_rate, config)?;
    let views = model.views((0..dataset.frame_count()).map(|i| dataset.frame(i)))?;
    let mut adam = Adam::for_varmap(&model.varmap, config.lr)?;
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let mut order: Vec<usize> = (0..scales.scales.len()).collect();
    let mut history = Vec::with_capacity(config.epochs);
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        let (mut sum, mut batches) = (0.0, 0usize);
        for chunk in order.chunks(config.batch.max(1)) {
            let loss = batch_loss(&model, &views, scales, chunk, config, &mut rng)?;
            sum += f64::from(loss.to_scalar::<f32>()?);
            batches += 1;
            adam.step(&loss.backward()?)?;
        }
        history.push(sum / batches.max(1) as f64);
    }
    Ok((model, history))
}

/// How linear the learned pitch factor is in pitch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpsScores {
    /// R² of a line fitted from true pitch (key + detune) to the pitch factor of test notes.
    pub embedding_r2: f64,
    /// The same with each instrument's own offset removed (pitch and factor centred per
    /// instrument): how linear the factor is within an instrument's range.
    pub within_instrument_r2: f64,
    /// R² of a line fitted from the pitch factor to the YIN pitch (in semitones) of test
    /// notes decoded with the factor swept over the training range.
    pub synthesis_r2: f64,
    /// Test notes measured.
    pub notes: usize,
    /// Renderings of the sweep.
    pub rendered: usize,
    /// Of them, those voiced (the synthesis R² is over them).
    pub voiced: usize,
    /// Learned factor units per semitone (the slope of the embedding fit).
    pub units_per_semitone: f64,
}

/// A held-out note: its frame, key and instrument (any group index).
pub type TestNote = (usize, i32, usize);

/// Scores `model` on `test` notes: each frame detuned by a random fraction of a
/// semitone (`seed`), encoded, and decoded with its pitch factor swept.
pub fn score_sps(
    model: &SpsModel,
    dataset: &Dataset,
    test: &[TestNote],
    seed: u64,
) -> Result<SpsScores, SpsError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let bins = dataset.bins;
    let mut detuned = vec![0.0; test.len() * bins];
    let mut pitch = Vec::with_capacity(test.len());
    for ((frame, key, _), out) in test.iter().zip(detuned.chunks_exact_mut(bins)) {
        let cents = rng.i32(-49..=49);
        transpose(dataset.frame(*frame), cents, 1200, out);
        pitch.push(f64::from(*key) + f64::from(cents) / 100.0);
    }
    let x = model.views(detuned.chunks_exact(bins))?;
    let codes = model.encode(&x)?.to_vec2::<f32>()?;
    let factor: Vec<f64> = codes.iter().map(|z| f64::from(z[0])).collect();
    let (embedding_r2, slope) = line_fit(&pitch, &factor);
    let groups: Vec<usize> = test.iter().map(|t| t.2).collect();
    let (within_instrument_r2, _) = line_fit(&centred(&pitch, &groups), &centred(&factor, &groups));
    let (lo, hi) = factor
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let stft = dataset
        .signal
        .stft()
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let rate = dataset.signal.sample_rate as f32;
    let (mut swept, mut heard, mut rendered) = (Vec::new(), Vec::new(), 0);
    let mut linear = vec![0.0; bins];
    for z in codes.iter().step_by((codes.len() / 40).max(1)) {
        for s in 0..SWEEP {
            let mut z = z.clone();
            z[0] = (lo + (hi - lo) * s as f64 / (SWEEP - 1) as f64) as f32;
            let decoded = model
                .vae
                .decode(&Tensor::from_vec(z.clone(), (1, z.len()), &Device::Cpu)?)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            model.grid.to_linear(&decoded, &mut linear);
            let mut grid = TfGrid::zeros(RENDER_FRAMES, bins);
            for j in 0..RENDER_FRAMES {
                for (o, &v) in grid.frame_mut(j).iter_mut().zip(&linear) {
                    *o = dataset.scaling.expand(v.max(0.0));
                }
            }
            let audio = render_grid(&stft, &grid, PhaseMode::Rtpghi(Lookahead::One));
            let middle = &audio[audio.len() / 4..3 * audio.len() / 4];
            let track = pitch_track(middle, rate, 2048, 512, &YinSettings::default());
            rendered += 1;
            let mut voiced: Vec<f32> = track.iter().flatten().copied().collect();
            if voiced.len() * 2 > track.len() {
                voiced.sort_by(f32::total_cmp);
                let f = voiced[voiced.len() / 2];
                swept.push(f64::from(z[0]));
                heard.push(69.0 + 12.0 * f64::from(f / 440.0).log2());
            }
        }
    }
    Ok(SpsScores {
        embedding_r2,
        within_instrument_r2,
        synthesis_r2: line_fit(&swept, &heard).0,
        notes: test.len(),
        rendered,
        voiced: swept.len(),
        units_per_semitone: slope,
    })
}

/// `values` minus the mean of their group.
fn centred(values: &[f64], groups: &[usize]) -> Vec<f64> {
    let mut sums: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    for (&v, &g) in values.iter().zip(groups) {
        let e = sums.entry(g).or_default();
        e.0 += v;
        e.1 += 1;
    }
    values
        .iter()
        .zip(groups)
        .map(|(&v, g)| v - sums[g].0 / sums[g].1 as f64)
        .collect()
}

/// R² and slope of the least-squares line y ≈ a + b·x (NaN for fewer than 3 points).
pub fn line_fit(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len().min(y.len());
    if n < 3 {
        return (f64::NAN, f64::NAN);
    }
    let mean = |v: &[f64]| v[..n].iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx).powi(2);
        syy += (y[i] - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return (0.0, 0.0);
    }
    (sxy * sxy / (sxx * syy), sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_translation_and_its_inverse_are_the_identity() -> candle_core::Result<()> {
        let pitch = Tensor::from_vec(
            (0..2 * CONTEXT)
                .map(|i| i as f32 * 0.37 - 2.0)
                .collect::<Vec<f32>>(),
            (2, CONTEXT),
            &Device::Cpu,
        )?;
        let delta = Tensor::from_vec(vec![0.8f32, -1.3], (2, 1), &Device::Cpu)?;
        let moved = translate(&pitch, &delta)?;
        // S moves every pitch factor of a row by that row's delta …
        let diff = (&moved - &pitch)?.to_vec2::<f32>()?;
        for (row, d) in diff.iter().zip([0.8f32, -1.3]) {
            assert!(row.iter().all(|v| (v - d).abs() < 1e-6), "{row:?}");
        }
        // … and S⁻¹ ∘ S is the identity.
        let back = translate(&moved, &delta.neg()?)?;
        let error = (back - &pitch)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(error < 1e-6, "{error}");
        Ok(())
    }

    #[test]
    fn moves_off_one_shared_slope_are_penalised() -> candle_core::Result<()> {
        let column = |v: &[f32]| Tensor::from_vec(v.to_vec(), (v.len(), 1), &Device::Cpu);
        let amounts = column(&[1.0, 3.0, -2.0, -4.0])?;
        // Every note moves 0.3 units per bin, up or down: nothing to pay.
        let shared = column(&[0.3, 0.9, -0.6, -1.2])?;
        let paid = off_one_slope(&shared, &amounts)?.to_scalar::<f32>()?;
        assert!(paid < 1e-10, "{paid}");
        // Steps of 0.3 up and 0.6 down: the shared slope is their least-squares compromise,
        // 0.3·(1 + 9)/30 + 0.6·(4 + 16)/30 = 0.5, and each note pays its distance from it.
        let bent = column(&[0.3, 0.9, -1.2, -2.4])?;
        let paid = off_one_slope(&bent, &amounts)?.to_scalar::<f32>()?;
        let expected = [(0.3f32, 1.0f32), (0.9, 3.0), (-1.2, -2.0), (-2.4, -4.0)]
            .iter()
            .map(|(m, a)| (m - 0.5 * a).powi(2))
            .sum::<f32>()
            / 4.0;
        assert!((paid - expected).abs() < 1e-6, "{paid} vs {expected}");
        Ok(())
    }

    #[test]
    fn the_encoder_ignores_the_level_of_a_view() -> Result<(), SpsError> {
        let config = SpsConfig {
            hidden: 16,
            ..SpsConfig::default()
        };
        let model = SpsModel::new(513, 22_050, &config)?;
        // A harmonic tone's STFT frame, and the same tone four times louder.
        let frame: Vec<f32> = (0..513)
            .map(|k| if k % 20 == 0 && k > 0 { 10.0 } else { 0.1 })
            .collect();
        let louder: Vec<f32> = frame.iter().map(|v| 4.0 * v).collect();
        let views = model.views([frame.as_slice(), louder.as_slice()].into_iter())?;
        let codes = model.encode(&views)?.to_vec2::<f32>()?;
        for (a, b) in codes[0].iter().zip(&codes[1]) {
            assert!((a - b).abs() < 5e-3 * (1.0 + a.abs()), "{codes:?}");
        }
        // The encoder does read the spectrum: another tone has another code.
        let other: Vec<f32> = (0..513)
            .map(|k| if k % 33 == 0 && k > 0 { 10.0 } else { 0.1 })
            .collect();
        let other = model.encode(&model.views(std::iter::once(other.as_slice()))?)?;
        let gap = (other.get(0)? - model.encode(&views)?.get(0)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert!(gap > 1e-3, "{gap}");
        Ok(())
    }

    #[test]
    fn mixed_markings_keep_each_note_on_its_key_and_draw_markings_of_its_instrument() {
        // One instrument at two markings (frames 100 + key and 200 + key), keys 60–72, the
        // loud marking missing key 62; another instrument at one marking (frame 300 + key).
        let mut groups = GroupKeys::new();
        groups.insert(
            (0, Some(0)),
            (60..=72).map(|k| (k, 100 + k as usize)).collect(),
        );
        let loud = (60..=72)
            .filter(|&k| k != 62)
            .map(|k| (k, 200 + k as usize));
        groups.insert((0, Some(1)), loud.collect());
        groups.insert(
            (1, Some(0)),
            (60..=72).map(|k| (k, 300 + k as usize)).collect(),
        );
        let same = ScaleSet::from_groups(&groups, Markings::Same).expect("scales");
        // Only the scales from key 60 of the soft marking and of the other instrument.
        assert_eq!(same.starts, vec![60, 60]);
        assert_eq!(same.groups, vec![[0; 15], [2; 15]]);
        let mixed = ScaleSet::from_groups(&groups, Markings::Mixed(3)).expect("scales");
        assert_eq!(mixed.starts, same.starts);
        let (mut soft, mut loud) = (0, 0);
        for (frames, note_groups) in mixed.scales[0].iter().zip(&mixed.groups[0]) {
            let key = frames % 100;
            match note_groups {
                0 => soft += usize::from(frames / 100 == 1),
                1 => loud += usize::from(frames / 100 == 2 && key != 62),
                other => panic!("a note of the first instrument drawn from group {other}"),
            }
        }
        assert_eq!(soft + loud, 15, "{:?}", mixed.scales[0]);
        assert!(soft > 0 && loud > 0, "{:?}", mixed.groups[0]);
        // Keys are those of the scale, whatever the marking.
        let keys: Vec<i32> = mixed.scales[0].iter().map(|f| (f % 100) as i32).collect();
        let wanted: Vec<i32> = SCALE.iter().map(|s| 60 + s).collect();
        assert_eq!(keys, wanted);
        // The other instrument has one marking: nothing to mix.
        assert_eq!(mixed.scales[1], same.scales[1]);
        assert_eq!(mixed.groups[1], [2; 15]);
    }

    #[test]
    fn line_fit_gives_r2_and_slope() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let (r2, slope) = line_fit(&x, &[1.0, 3.0, 5.0, 7.0]);
        assert!((r2 - 1.0).abs() < 1e-12 && (slope - 2.0).abs() < 1e-12);
        let (r2, _) = line_fit(&x, &[1.0, -1.0, 1.0, -1.0]);
        assert!(r2 < 0.3, "{r2}");
    }
}
