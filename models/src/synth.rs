//! Offline synthesis through the model: latent trajectories and morphs decoded by the engine's
//! decoder kernel and resynthesised by its real-time phase reconstruction, and cross-synthesis
//! (encode any sound frame by frame, decode it through the model).

use std::path::Path;

use timbrespace_engine::grid::TfGrid;
use timbrespace_engine::metrics::spectral_convergence_db;
use timbrespace_engine::model::{DecoderKernel, ModelFile, ModelFileError};
use timbrespace_engine::stft::{magnitude_stft, StftConfig};
use timbrespace_engine::voice::{PhaseMode, SpectrogramSource, Voice};

use crate::audio_file::MonoAudio;
use crate::audio_import::{load_audio, ImportError};
use crate::export::encode_frames;
use crate::vae::Vae;

/// Block size the offline renders use, as a host would.
const BLOCK: usize = 512;

/// Audio rendered from a latent trajectory.
pub struct Rendering {
    /// The audio at the model's rate.
    pub audio: MonoAudio,
    /// The decoded magnitude frames the audio was made from.
    pub magnitudes: TfGrid<f32>,
    /// How closely the audio's STFT matches those magnitudes, in dB (phase-reconstruction
    /// consistency; lower is better).
    pub consistency_db: f64,
}

/// Why an offline render failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The model is unusable.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// The input sound could not be read.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// candle failed while encoding.
    #[error("encoding failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// A latent vector of the wrong size or with NaN.
    #[error("latent vector {index} has {found} values (the model needs {expected} finite values)")]
    Latent {
        /// Which frame.
        index: usize,
        /// Values given.
        found: usize,
        /// Values needed.
        expected: usize,
    },
    /// Nothing to render.
    #[error("nothing to render: the trajectory has no frames")]
    Empty,
}

/// Decode one latent vector per frame and resynthesise them with `mode`.
pub fn render_latents(
    model: &ModelFile,
    latents: &[Vec<f32>],
    mode: PhaseMode,
) -> Result<Rendering, SynthError> {
    if latents.is_empty() {
        return Err(SynthError::Empty);
    }
    let stft = model.manifest.signal.stft()?;
    let mut kernel = DecoderKernel::new(model, 1)?;
    let mut grid = TfGrid::zeros(latents.len(), stft.bins());
    for (j, z) in latents.iter().enumerate() {
        if z.len() != kernel.latent() || z.iter().any(|v| !v.is_finite()) {
            return Err(SynthError::Latent {
                index: j,
                found: z.len(),
                expected: kernel.latent(),
            });
        }
        kernel.decode_magnitudes(z, grid.frame_mut(j));
    }
    let out = render_grid(&stft, &grid, mode);
    let consistency_db = spectral_convergence_db(&stft, &grid, &out);
    Ok(Rendering {
        audio: MonoAudio {
            samples: out,
            rate: model.manifest.signal.sample_rate,
        },
        magnitudes: grid,
        consistency_db,
    })
}

/// Magnitude frames (`grid`, linear magnitudes on `stft`'s bins) resynthesised with `mode`
/// through the engine's voice, latency removed: `frames · hop + n_fft` samples.
pub fn render_grid(stft: &StftConfig, grid: &TfGrid<f32>, mode: PhaseMode) -> Vec<f32> {
    let mut voice = Voice::new(stft, mode);
    let latency = voice.latency_samples();
    let len = grid.frames() * stft.hop() + stft.n_fft();
    let mut out = vec![0.0; len + latency];
    let mut source = SpectrogramSource::new(grid, false);
    for block in out.chunks_mut(BLOCK) {
        voice.render(block, &mut source);
    }
    out.drain(..latency);
    out
}

/// `frames` latent points on the straight line from `a` to `b`.
pub fn morph(a: &[f32], b: &[f32], frames: usize) -> Vec<Vec<f32>> {
    let steps = frames.max(2) - 1;
    (0..frames.max(2))
        .map(|j| {
            a.iter()
                .zip(b)
                .map(|(&x, &y)| x + (y - x) * j as f32 / steps as f32)
                .collect()
        })
        .collect()
}

/// A sound file's STFT magnitudes at the model's rate and STFT.
pub fn analyse(model: &ModelFile, path: &Path) -> Result<TfGrid<f32>, SynthError> {
    let stft = model.manifest.signal.stft()?;
    let audio = load_audio(path, model.manifest.signal.sample_rate)?;
    Ok(magnitude_stft(&stft, &audio.samples))
}

/// Latent means of magnitude frames.
pub fn encode_grid(model: &ModelFile, grid: &TfGrid<f32>) -> Result<Vec<Vec<f32>>, SynthError> {
    let scaling = model.manifest.scaling;
    let scaled: Vec<f32> = grid
        .as_slice()
        .iter()
        .map(|&m| scaling.compress(m))
        .collect();
    let vae = Vae::from_tensors(&model.manifest.architecture, &model.tensors)?;
    let latent = model.manifest.architecture.latent;
    Ok(encode_frames(&vae, &scaled)?
        .chunks_exact(latent)
        .map(<[f32]>::to_vec)
        .collect())
}

/// Latent means of every frame of a sound file (at the model's rate and STFT).
pub fn encode_sound(model: &ModelFile, path: &Path) -> Result<Vec<Vec<f32>>, SynthError> {
    encode_grid(model, &analyse(model, path)?)
}

/// The average latent point of a sound's frames, weighting louder frames more (silence says
/// little about timbre).
pub fn sound_centroid(model: &ModelFile, path: &Path) -> Result<Vec<f32>, SynthError> {
    let grid = analyse(model, path)?;
    let frames = encode_grid(model, &grid)?;
    let weights: Vec<f32> = (0..grid.frames())
        .map(|j| grid.frame(j).iter().map(|m| m * m).sum::<f32>())
        .collect();
    let total: f32 = weights.iter().sum::<f32>().max(f32::MIN_POSITIVE);
    let latent = model.manifest.architecture.latent;
    let mut centroid = vec![0.0; latent];
    for (z, w) in frames.iter().zip(&weights) {
        for (c, v) in centroid.iter_mut().zip(z) {
            *c += v * w / total;
        }
    }
    Ok(centroid)
}
