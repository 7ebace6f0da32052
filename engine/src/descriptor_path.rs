//! Descriptor-based path synthesis (thesis Algorithm 1): from a latent point, probe a small
//! neighbourhood along the axes, decode every probe, and move to the one whose descriptor is
//! closest to the target's next value; repeat. Offline renders follow whole curves with it.
//! Built off the audio thread; [`PathFollower::step`] never allocates.

use crate::axes::LatentAxes;
use crate::descriptors::{describe, Descriptor, DescriptorSettings};
use crate::model::{DecoderKernel, ModelFile, ModelFileError};

/// Step lengths probed along each axis, as fractions of the largest step: a coarse step to
/// travel and finer ones to settle on the target.
const STEP_SCALES: [f32; 3] = [1.0, 0.3, 0.08];

/// Greedy descriptor-following on a model's latent axes.
pub struct PathFollower {
    /// Decodes all probes of a step in one batch.
    decoder: DecoderKernel,
    /// Bin spacing and window energy for the descriptors.
    settings: DescriptorSettings,
    /// The descriptor followed.
    descriptor: Descriptor,
    /// Latent displacement of each probe (`probes × latent`); probe 0 is "stay".
    moves: Vec<f32>,
    /// Probed latent points of the current step (`probes × latent`).
    batch: Vec<f32>,
    /// Their decoded magnitudes (`probes × bins`).
    spectra: Vec<f32>,
    /// Latent size.
    latent: usize,
}

/// One step's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathStep {
    /// The descriptor of the point moved to.
    pub achieved: f32,
    /// Which probe won (0 = stayed).
    pub probe: usize,
}

impl PathFollower {
    /// A follower of `descriptor` moving along the first `dims` axes of `axes`, at most
    /// `max_step` σ per step.
    pub fn new(
        model: &ModelFile,
        axes: &LatentAxes,
        dims: usize,
        descriptor: Descriptor,
        max_step: f32,
    ) -> Result<Self, ModelFileError> {
        let latent = model.manifest.architecture.latent;
        let dims = dims.clamp(1, axes.dims());
        let probes = 1 + 2 * dims * STEP_SCALES.len();
        let mut moves = vec![0.0; probes * latent];
        let mut sigmas = vec![0.0; dims];
        let mut probe = 1;
        for axis in 0..dims {
            for scale in STEP_SCALES {
                for sign in [1.0, -1.0] {
                    sigmas.iter_mut().for_each(|s| *s = 0.0);
                    sigmas[axis] = sign * scale * max_step.abs();
                    axes.displace(&sigmas, &mut moves[probe * latent..(probe + 1) * latent]);
                    probe += 1;
                }
            }
        }
        let decoder = DecoderKernel::new(model, probes)?;
        let bins = decoder.bins();
        let config = model.manifest.signal.stft()?;
        Ok(Self {
            decoder,
            settings: DescriptorSettings::new(&config, model.manifest.signal.sample_rate as f32),
            descriptor,
            batch: vec![0.0; probes * latent],
            spectra: vec![0.0; probes * bins],
            moves,
            latent,
        })
    }

    /// Probes per step (including staying).
    pub fn probes(&self) -> usize {
        self.moves.len() / self.latent
    }

    /// The descriptor of the sound at `z` (one decode).
    pub fn measure(&mut self, z: &[f32]) -> f32 {
        let bins = self.decoder.bins();
        self.batch[..self.latent].copy_from_slice(&z[..self.latent]);
        self.decoder
            .decode_batch_magnitudes(&self.batch[..self.latent], &mut self.spectra[..bins]);
        describe(&self.spectra[..bins], &self.settings).get(self.descriptor)
    }

    /// Move `z` to the probe whose descriptor is closest to `target` (staying when nothing
    /// is closer). Non-finite targets keep `z` where it is.
    pub fn step(&mut self, z: &mut [f32], target: f32) -> PathStep {
        let (latent, bins) = (self.latent, self.decoder.bins());
        let probes = self.probes();
        for p in 0..probes {
            let row = &mut self.batch[p * latent..(p + 1) * latent];
            for ((b, &zj), &m) in row
                .iter_mut()
                .zip(z.iter())
                .zip(&self.moves[p * latent..(p + 1) * latent])
            {
                *b = zj + m;
            }
        }
        self.decoder
            .decode_batch_magnitudes(&self.batch, &mut self.spectra);
        let mut best = PathStep {
            achieved: describe(&self.spectra[..bins], &self.settings).get(self.descriptor),
            probe: 0,
        };
        if !target.is_finite() {
            return best;
        }
        for p in 1..probes {
            let value = describe(&self.spectra[p * bins..(p + 1) * bins], &self.settings)
                .get(self.descriptor);
            if value.is_finite() && (value - target).abs() < (best.achieved - target).abs() {
                best = PathStep {
                    achieved: value,
                    probe: p,
                };
            }
        }
        if best.probe > 0 {
            z[..latent]
                .copy_from_slice(&self.batch[best.probe * latent..(best.probe + 1) * latent]);
        }
        best
    }
}

/// Whether `achieved` lies within `tolerance` (a fraction) of `target`.
pub fn within(achieved: f32, target: f32, tolerance: f32) -> bool {
    (achieved - target).abs() <= tolerance * target.abs()
}
