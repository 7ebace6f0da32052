//! Latent mixing (OpLaS): a projector h after a trained model's audio encoder, trained so that
//! the projection of a mix of two sounds is the sum of their projections, h(enc(a ⊕ b)) ≈
//! h(enc(a)) + h(enc(b)), with an inverse g back to the encoder's space so that no information
//! is thrown away and sums in h-space decode to the mix. The encoder stays frozen.
//!
//! Data: pairs of notes of a sound folder, mixed sample by sample at the model's rate; the
//! frames where both notes sound (each within 20 dB of its own peak) are encoded.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::Serialize;
use thiserror::Error;
use timbrespace_engine::model::{DecoderKernel, ModelFile, ModelFileError};
use timbrespace_engine::stft::magnitude_stft;

use super::mlp::Mlp;
use crate::adam::Adam;
use crate::audio_import::{load_audio, ImportError};
use crate::export::encode_frames;
use crate::vae::{seeded_init, Vae};

/// A frame counts as sounding when within this many dB of its note's loudest frame.
const SOUNDING_DB: f32 = 20.0;

/// Why a mixing projector cannot be trained or scored.
#[derive(Debug, Error)]
pub enum MixingError {
    /// Fewer than two readable sounds.
    #[error("need at least two sounds to mix; {0} usable")]
    TooFewSounds(usize),
    /// No pair gave a frame where both sound.
    #[error("no mix has frames where both sounds are audible")]
    NoFrames,
    /// A sound could not be read.
    #[error("{path}: {source}")]
    Audio {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ImportError,
    },
    /// The model is unusable.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// candle failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Frames of mixes, encoded: `latent` values per frame in each list, frame after frame.
#[derive(Debug, Clone, Default)]
pub struct MixFrames {
    /// Latent means of the first sound's frames.
    pub a: Vec<f32>,
    /// Of the second sound's.
    pub b: Vec<f32>,
    /// Of the mix's.
    pub mix: Vec<f32>,
    /// The mix's linear magnitudes (what decoded sums are compared with), `bins` per frame.
    pub mix_magnitudes: Vec<f32>,
    /// Latent size.
    pub latent: usize,
}

impl MixFrames {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.a.len() / self.latent.max(1)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `pairs` random pairs of different sounds from `files`, mixed, with up to `frames_per_pair`
/// frames of each where both sound, encoded by `model`.
pub fn mix_frames(
    model: &ModelFile,
    files: &[PathBuf],
    pairs: usize,
    frames_per_pair: usize,
    seed: u64,
) -> Result<MixFrames, MixingError> {
    if files.len() < 2 {
        return Err(MixingError::TooFewSounds(files.len()));
    }
    let rate = model.manifest.signal.sample_rate;
    let stft = model.manifest.signal.stft()?;
    let scaling = model.manifest.scaling;
    let read = |path: &Path| {
        load_audio(path, rate).map_err(|source| MixingError::Audio {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut a, mut b, mut mix, mut magnitudes) = (vec![], vec![], vec![], vec![]);
    for _ in 0..pairs {
        let i = rng.usize(..files.len());
        let j = (i + 1 + rng.usize(..files.len() - 1)) % files.len();
        let (x, y) = (read(&files[i])?.samples, read(&files[j])?.samples);
        let n = x.len().min(y.len());
        let sum = add(&x, &y);
        let grids = [&x[..n], &y[..n], &sum[..]].map(|s| magnitude_stft(&stft, s));
        let energies = grids.each_ref().map(|g| {
            (0..g.frames())
                .map(|f| g.frame(f).iter().map(|m| m * m).sum::<f32>())
                .collect::<Vec<f32>>()
        });
        let floor =
            |e: &[f32]| e.iter().copied().fold(0.0, f32::max) * 10f32.powf(-SOUNDING_DB / 10.0);
        let (fa, fb) = (floor(&energies[0]), floor(&energies[1]));
        let both: Vec<usize> = (0..grids[2].frames())
            .filter(|&f| energies[0][f] > fa && energies[1][f] > fb && fa > 0.0 && fb > 0.0)
            .collect();
        let take = frames_per_pair.min(both.len());
        for k in 0..take {
            let f = both[k * both.len() / take];
            for (out, grid) in [&mut a, &mut b, &mut mix].into_iter().zip(&grids) {
                out.extend(grid.frame(f).iter().map(|&m| scaling.compress(m)));
            }
            magnitudes.extend_from_slice(grids[2].frame(f));
        }
    }
    if magnitudes.is_empty() {
        return Err(MixingError::NoFrames);
    }
    let vae = Vae::from_tensors(&model.manifest.architecture, &model.tensors)?;
    Ok(MixFrames {
        a: encode_frames(&vae, &a)?,
        b: encode_frames(&vae, &b)?,
        mix: encode_frames(&vae, &mix)?,
        mix_magnitudes: magnitudes,
        latent: model.manifest.architecture.latent,
    })
}

/// The projector's shape and training.
#[derive(Debug, Clone, Serialize)]
pub struct MixingConfig {
    /// Dimensions of h-space.
    pub dims: usize,
    /// Width of h's and g's hidden layers.
    pub hidden: usize,
    /// Adam steps.
    pub iterations: usize,
    /// Frames per step.
    pub batch: usize,
    /// Adam learning rate (decayed along a cosine).
    pub lr: f64,
    /// Weight of the inverse's terms (g∘h = identity, g(h(a) + h(b)) = the mix's code).
    pub inverse_weight: f64,
    /// Initialisation and batches.
    pub seed: u64,
}

impl Default for MixingConfig {
    fn default() -> Self {
        Self {
            dims: 32,
            hidden: 128,
            iterations: 10_000,
            batch: 256,
            lr: 2e-3,
            inverse_weight: 0.3,
            seed: 0,
        }
    }
}

/// A trained projector and its inverse.
pub struct MixingProjector {
    /// h: codes → h-space.
    h: Mlp,
    /// g: h-space → codes.
    g: Mlp,
    /// Latent size.
    latent: usize,
    /// Keeps the variables alive.
    _varmap: VarMap,
}

/// How additive mixing is in a space, on held-out mixes.
#[derive(Debug, Clone, Serialize)]
pub struct MixingScores {
    /// Frames scored.
    pub frames: usize,
    /// Σ‖enc(mix) − enc(a) − enc(b)‖ / Σ‖enc(mix)‖: mixing error on the encoder's latents.
    pub latent_error: f64,
    /// Σ‖h(mix) − h(a) − h(b)‖ / Σ‖h(mix)‖: the same in h-space.
    pub projected_error: f64,
    /// ‖g(h(z)) − z‖ / ‖z‖ over every code: what the projection loses.
    pub inverse_error: f64,
}

/// How well sums decode to the mix's spectrum, on held-out mixes.
#[derive(Debug, Clone, Serialize)]
pub struct DecodedMixes {
    /// Spectral convergence (dB) of the mix's magnitudes decoded from g(h(a) + h(b)).
    pub sum_in_h_db: f64,
    /// The same decoded from enc(a) + enc(b).
    pub sum_in_latent_db: f64,
    /// The same decoded from enc(mix): the model's own reconstruction of the mix, the floor.
    pub mix_itself_db: f64,
}

impl MixingScores {
    /// How many times smaller the error is in h-space than on the latents.
    pub fn improvement(&self) -> f64 {
        self.latent_error / self.projected_error.max(1e-12)
    }
}

/// Rows `rows` of `codes` (`latent` per row) as a tensor.
fn rows_of(codes: &[f32], latent: usize, rows: &[usize]) -> candle_core::Result<Tensor> {
    let data: Vec<f32> = rows
        .iter()
        .flat_map(|&r| codes[r * latent..(r + 1) * latent].iter().copied())
        .collect();
    Tensor::from_vec(data, (rows.len(), latent), &Device::Cpu)
}

/// Mean squared row norm of `x` after removing the column means: its spread.
fn spread(x: &Tensor) -> candle_core::Result<Tensor> {
    x.broadcast_sub(&x.mean_keepdim(0)?)?
        .sqr()?
        .sum(1)?
        .mean_all()
}

impl MixingProjector {
    /// Trains h and g on `train`; returns them with the loss every 100 steps.
    pub fn train(
        train: &MixFrames,
        config: &MixingConfig,
    ) -> Result<(Self, Vec<f64>), MixingError> {
        let n = train.len();
        if n == 0 {
            return Err(MixingError::NoFrames);
        }
        let latent = train.latent;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let h = Mlp::new(latent, config.hidden, config.dims, vb.pp("h"))?;
        let g = Mlp::new(config.dims, config.hidden, latent, vb.pp("g"))?;
        seeded_init(&varmap, config.seed)?;
        let mut adam = Adam::for_varmap(&varmap, config.lr)?;
        let all: Vec<usize> = (0..n).collect();
        let code_spread = spread(&rows_of(&train.mix, latent, &all)?)?.detach();
        let mut rng = fastrand::Rng::with_seed(config.seed);
        let mut history = Vec::new();
        for step in 0..config.iterations {
            let progress = step as f64 / config.iterations as f64;
            adam.lr = config.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
            let rows: Vec<usize> = (0..config.batch.min(n)).map(|_| rng.usize(..n)).collect();
            let [za, zb, zm] = [&train.a, &train.b, &train.mix].map(|c| rows_of(c, latent, &rows));
            let (za, zb, zm) = (za?, zb?, zm?);
            let (ha, hb, hm) = (h.forward(&za)?, h.forward(&zb)?, h.forward(&zm)?);
            let sum = (&ha + &hb)?;
            // Divided by h-space's own spread, so shrinking h cannot make mixing look additive.
            let mixing = ((&hm - &sum)?.sqr()?.sum(1)?.mean_all()? / spread(&hm)?)?;
            let mut inverse = (g.forward(&sum)? - &zm)?.sqr()?.sum(1)?.mean_all()?;
            for (code, projected) in [(&za, &ha), (&zb, &hb), (&zm, &hm)] {
                let back = (g.forward(projected)? - code)?.sqr()?.sum(1)?.mean_all()?;
                inverse = (inverse + back)?;
            }
            let inverse = ((inverse / 4.0)?.broadcast_div(&code_spread)? * config.inverse_weight)?;
            let loss = (mixing + inverse)?;
            if step % 100 == 0 {
                history.push(f64::from(loss.to_scalar::<f32>()?));
            }
            adam.step(&loss.backward()?)?;
        }
        Ok((
            Self {
                h,
                g,
                latent,
                _varmap: varmap,
            },
            history,
        ))
    }

    /// h of codes (`latent` per row), as rows.
    pub fn project(&self, codes: &[f32]) -> Result<Vec<Vec<f32>>, MixingError> {
        let rows: Vec<usize> = (0..codes.len() / self.latent).collect();
        Ok(self
            .h
            .forward(&rows_of(codes, self.latent, &rows)?)?
            .to_vec2()?)
    }

    /// g of h-space points: back to codes.
    pub fn unproject(&self, points: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, MixingError> {
        let dims = points.first().map_or(0, Vec::len);
        let flat: Vec<f32> = points.iter().flatten().copied().collect();
        let x = Tensor::from_vec(flat, (points.len(), dims), &Device::Cpu)?;
        Ok(self.g.forward(&x)?.to_vec2()?)
    }

    /// Codes of the sums h(a) + h(b), decoded back by g: the mixes as h-space adds them.
    pub fn mixed_codes(&self, a: &[f32], b: &[f32]) -> Result<Vec<Vec<f32>>, MixingError> {
        let (ha, hb) = (self.project(a)?, self.project(b)?);
        let sums: Vec<Vec<f32>> = ha.iter().zip(&hb).map(|(x, y)| add(x, y)).collect();
        self.unproject(&sums)
    }

    /// Mixing errors on held-out mixes.
    pub fn score(&self, test: &MixFrames) -> Result<MixingScores, MixingError> {
        let latent = self.latent;
        let codes =
            |c: &[f32]| -> Vec<Vec<f32>> { c.chunks(latent).map(<[f32]>::to_vec).collect() };
        let (za, zb, zm) = (codes(&test.a), codes(&test.b), codes(&test.mix));
        let (ha, hb, hm) = (
            self.project(&test.a)?,
            self.project(&test.b)?,
            self.project(&test.mix)?,
        );
        let (mut lost, mut total) = (0.0, 0.0);
        for (codes, projected) in [(&za, &ha), (&zb, &hb), (&zm, &hm)] {
            for (z, back) in codes.iter().zip(self.unproject(projected)?) {
                lost += distance(z, &back);
                total += norm(z);
            }
        }
        Ok(MixingScores {
            frames: test.len(),
            latent_error: mixing_error(&zm, &za, &zb),
            projected_error: mixing_error(&hm, &ha, &hb),
            inverse_error: lost / total.max(1e-12),
        })
    }

    /// The held-out mixes' spectra decoded by `model` from sums in h-space, from sums of
    /// latents and from the mixes' own codes.
    pub fn decode_scores(
        &self,
        model: &ModelFile,
        test: &MixFrames,
    ) -> Result<DecodedMixes, MixingError> {
        let latent = self.latent;
        let latent_sums = row_sums(&test.a, &test.b, latent);
        let own: Vec<Vec<f32>> = test.mix.chunks(latent).map(<[f32]>::to_vec).collect();
        let mut kernel = DecoderKernel::new(model, 1)?;
        let bins = test.mix_magnitudes.len() / test.len().max(1);
        let mut convergence = |points: &[Vec<f32>]| {
            let mut out = vec![0.0; bins];
            let (mut err, mut energy) = (0.0f64, 0.0f64);
            for (z, target) in points.iter().zip(test.mix_magnitudes.chunks(bins)) {
                kernel.decode_magnitudes(z, &mut out);
                for (o, t) in out.iter().zip(target) {
                    err += f64::from(o - t).powi(2);
                    energy += f64::from(*t).powi(2);
                }
            }
            20.0 * (err.sqrt() / energy.sqrt().max(1e-12)).log10()
        };
        Ok(DecodedMixes {
            sum_in_h_db: convergence(&self.mixed_codes(&test.a, &test.b)?),
            sum_in_latent_db: convergence(&latent_sums),
            mix_itself_db: convergence(&own),
        })
    }
}

/// Element by element sum (as long as the shorter): a mix of two signals, a sum of two codes.
pub fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(p, q)| p + q).collect()
}

/// The sums of rows (`width` values each) of `a` and `b`, row by row.
pub fn row_sums(a: &[f32], b: &[f32], width: usize) -> Vec<Vec<f32>> {
    a.chunks(width)
        .zip(b.chunks(width))
        .map(|(x, y)| add(x, y))
        .collect()
}

/// Euclidean norm.
fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt()
}

/// Euclidean distance.
fn distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Σ‖m − a − b‖ / Σ‖m‖ over rows.
fn mixing_error(m: &[Vec<f32>], a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    let residual: f64 = (0..m.len())
        .map(|i| distance(&m[i], &add(&a[i], &b[i])))
        .sum();
    residual / m.iter().map(|v| norm(v)).sum::<f64>().max(1e-12)
}
