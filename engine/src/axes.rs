//! Latent axes a musician moves: the raw latent dimensions or one of the model's stored
//! projections (PCA, ICA), each measured in standard deviations of the training points along
//! it, so a slider's ±3 spans the sounds the model has seen. Built off the audio thread;
//! [`LatentAxes::displace`] never allocates.

use crate::model::file::{projection_tensor, DESCRIPTOR_MAPS, POINTS_MU};
use crate::model::manifest::DescriptorMapInfo;
use crate::model::{DecoderKernel, ModelFile, ModelFileError, Tensor32};

/// Training points decoded at most when looking for the audible centre.
const CENTRE_SAMPLE: usize = 2000;
/// The audible centre is the training point at this rank of loudness (0 = loudest).
const LOUDNESS_RANK: f64 = 0.1;

/// Where free navigation starts: a training point among the loudest tenth (at the 90th
/// percentile of decoded energy, so not an outlier). The mean of all points lies among quiet
/// frames (attacks, releases, soft notes) and decodes to near silence, and means of loud
/// points blur different notes together; a real loud frame sounds like a full note. Decodes
/// up to a few thousand frames, so call it off the audio thread.
pub fn audible_centre(model: &ModelFile) -> Result<Vec<f32>, ModelFileError> {
    let latent = model.manifest.architecture.latent;
    let points = &model.tensor(POINTS_MU)?.data;
    let n = points.len() / latent.max(1);
    let mut decoder = DecoderKernel::new(model, 1)?;
    let mut frame = vec![0.0; decoder.bins()];
    let mut energies: Vec<(f64, usize)> = (0..n)
        .step_by(n.div_ceil(CENTRE_SAMPLE).max(1))
        .map(|i| {
            decoder.decode_magnitudes(&points[i * latent..(i + 1) * latent], &mut frame);
            let energy: f64 = frame.iter().map(|&m| f64::from(m) * f64::from(m)).sum();
            (if energy.is_finite() { energy } else { 0.0 }, i)
        })
        .collect();
    energies.sort_by(|a, b| b.0.total_cmp(&a.0));
    let rank =
        ((energies.len() as f64 * LOUDNESS_RANK) as usize).min(energies.len().saturating_sub(1));
    let centre = energies.get(rank).map_or(vec![0.0; latent], |&(_, i)| {
        points[i * latent..(i + 1) * latent].to_vec()
    });
    Ok(centre)
}

/// Which axes to move along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AxisBasis {
    /// The latent dimensions themselves.
    Raw,
    /// Principal components of the training points' latent means.
    Pca,
    /// Independent components (FastICA on the PCA-whitened means).
    Ica,
}

impl AxisBasis {
    /// Every basis, in parameter order.
    pub const ALL: [AxisBasis; 3] = [AxisBasis::Raw, AxisBasis::Pca, AxisBasis::Ica];

    /// The name a model file stores the projection under.
    pub fn name(self) -> &'static str {
        match self {
            AxisBasis::Raw => "raw",
            AxisBasis::Pca => "pca",
            AxisBasis::Ica => "ica",
        }
    }

    /// The basis called `name` (`raw`, `pca`, `ica`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// An affine map from axis coordinates (in σ) to latent points.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentAxes {
    /// The basis these axes come from.
    basis: AxisBasis,
    /// Latent size.
    latent: usize,
    /// Number of axes (the projection's kept dimensions, at most the latent size).
    dims: usize,
    /// Centre of the training points: where every axis reads 0.
    centre: Vec<f32>,
    /// `latent × dims`, row-major: column k is the latent displacement of +1 σ on axis k.
    directions: Vec<f32>,
    /// `dims × latent`, row-major: row k reads axis k (in σ) off a latent displacement.
    readers: Vec<f32>,
}

impl LatentAxes {
    /// The axes of `basis` in `model`. A model without that stored projection gets an error
    /// naming it; the raw axes exist for every model.
    pub fn new(model: &ModelFile, basis: AxisBasis) -> Result<Self, ModelFileError> {
        let latent = model.manifest.architecture.latent;
        match basis {
            AxisBasis::Raw => Ok(Self::raw(model.tensor(POINTS_MU)?.data.as_slice(), latent)),
            AxisBasis::Pca | AxisBasis::Ica => {
                let name = basis.name();
                let dims = model
                    .manifest
                    .projections
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.dims)
                    .ok_or_else(|| {
                        ModelFileError::MissingTensor(projection_tensor(name, "mean"))
                    })?;
                let part = |p| model.tensor(&projection_tensor(name, p)).map(|t| &t.data);
                let (mean, mixing, unmixing, scale) = (
                    part("mean")?,
                    part("mixing")?,
                    part("unmixing")?,
                    part("scale")?,
                );
                // A collapsed axis (σ = 0) would divide by zero when read; give it a unit
                // spread instead, so it moves nothing audible but stays finite.
                let sigma = |k: usize| {
                    let s = scale[k];
                    if s.is_finite() && s > 1e-12 {
                        s
                    } else {
                        1.0
                    }
                };
                let mut directions = vec![0.0; latent * dims];
                for j in 0..latent {
                    for k in 0..dims {
                        directions[j * dims + k] = mixing[j * dims + k] * sigma(k);
                    }
                }
                let mut readers = vec![0.0; dims * latent];
                for k in 0..dims {
                    for j in 0..latent {
                        readers[k * latent + j] = unmixing[k * latent + j] / sigma(k);
                    }
                }
                Ok(Self {
                    basis,
                    latent,
                    dims,
                    centre: mean.clone(),
                    directions,
                    readers,
                })
            }
        }
    }

    /// Axes along the latent dimensions, scaled by the points' spread in each.
    fn raw(points: &[f32], latent: usize) -> Self {
        let n = (points.len() / latent.max(1)).max(1) as f64;
        let mut centre = vec![0.0f64; latent];
        for row in points.chunks_exact(latent) {
            centre
                .iter_mut()
                .zip(row)
                .for_each(|(c, &v)| *c += f64::from(v));
        }
        centre.iter_mut().for_each(|c| *c /= n);
        let mut var = vec![0.0f64; latent];
        for row in points.chunks_exact(latent) {
            for ((v, &x), c) in var.iter_mut().zip(row).zip(&centre) {
                *v += (f64::from(x) - c).powi(2);
            }
        }
        let sigma: Vec<f32> = var
            .iter()
            .map(|v| {
                let s = (v / n).sqrt() as f32;
                if s > 1e-12 {
                    s
                } else {
                    1.0
                }
            })
            .collect();
        let mut directions = vec![0.0; latent * latent];
        let mut readers = vec![0.0; latent * latent];
        for (j, &s) in sigma.iter().enumerate() {
            directions[j * latent + j] = s;
            readers[j * latent + j] = 1.0 / s;
        }
        Self {
            basis: AxisBasis::Raw,
            latent,
            dims: latent,
            centre: centre.iter().map(|&c| c as f32).collect(),
            directions,
            readers,
        }
    }

    /// The basis.
    pub fn basis(&self) -> AxisBasis {
        self.basis
    }

    /// Number of axes.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Adds the displacement of axis coordinates `sigmas` (axis k moved by `sigmas[k]` σ) to
    /// the latent point `z`. Coordinates beyond [`LatentAxes::dims`] are ignored; non-finite
    /// ones count as 0.
    pub fn displace(&self, sigmas: &[f32], z: &mut [f32]) {
        let dims = self.dims.min(sigmas.len());
        for (j, zj) in z.iter_mut().enumerate().take(self.latent) {
            let row = &self.directions[j * self.dims..j * self.dims + dims];
            *zj += row
                .iter()
                .zip(sigmas)
                .filter(|(_, s)| s.is_finite())
                .map(|(d, s)| d * s)
                .sum::<f32>();
        }
    }

    /// Axis coordinates (in σ) of latent point `z`, written into `out` (up to its length).
    pub fn read(&self, z: &[f32], out: &mut [f32]) {
        for (k, o) in out.iter_mut().enumerate().take(self.dims) {
            let row = &self.readers[k * self.latent..(k + 1) * self.latent];
            *o = row
                .iter()
                .zip(z)
                .zip(&self.centre)
                .map(|((r, &x), &c)| r * (x - c))
                .sum();
        }
    }
}

/// Descriptors of the sounds over a square of the plane of axes 1–2 (thesis figures 3.19 and
/// 3.30): what brightness, noisiness or loudness each point of the map decodes to.
#[derive(Debug, Clone, PartialEq)]
pub struct DescriptorMap {
    /// Points per side.
    pub size: usize,
    /// The square spans ±`span` σ on both axes.
    pub span: f32,
    /// Row-major, `size × size`: row 0 is axis 2 = −span, column 0 is axis 1 = −span.
    pub cells: Vec<crate::descriptors::Descriptors>,
}

impl DescriptorMap {
    /// Decodes a `size × size` grid over ±`span` σ of axes 1–2 of `axes` (the other axes at
    /// 0) and describes every spectrum. Decodes `size²` frames: call it off the audio thread.
    pub fn new(
        model: &ModelFile,
        axes: &LatentAxes,
        size: usize,
        span: f32,
    ) -> Result<Self, ModelFileError> {
        Self::around(model, axes, &axes.centre, size, span)
    }

    /// Like [`DescriptorMap::new`], with the grid centred on the latent point `centre`
    /// instead of the axes' origin.
    pub fn around(
        model: &ModelFile,
        axes: &LatentAxes,
        centre: &[f32],
        size: usize,
        span: f32,
    ) -> Result<Self, ModelFileError> {
        use crate::descriptors::{describe, DescriptorSettings};
        let size = size.max(2);
        let config = model.manifest.signal.stft()?;
        let settings = DescriptorSettings::new(&config, model.manifest.signal.sample_rate as f32);
        let mut decoder = DecoderKernel::new(model, 1)?;
        let mut frame = vec![0.0; decoder.bins()];
        let mut z = vec![0.0; axes.latent];
        let step = 2.0 * span / (size - 1) as f32;
        let mut cells = Vec::with_capacity(size * size);
        for row in 0..size {
            for column in 0..size {
                z.fill(0.0);
                z.iter_mut().zip(centre).for_each(|(z, &c)| *z = c);
                let at = [-span + column as f32 * step, -span + row as f32 * step];
                axes.displace(&at, &mut z);
                decoder.decode_magnitudes(&z, &mut frame);
                cells.push(describe(&frame, &settings));
            }
        }
        Ok(Self { size, span, cells })
    }

    /// Stores this map, computed on `basis`, in `model` (tensor and manifest entry).
    pub fn store(&self, model: ModelFile, basis: AxisBasis) -> Result<ModelFile, ModelFileError> {
        let ModelFile {
            mut manifest,
            mut tensors,
        } = model;
        let data: Vec<f32> = crate::descriptors::Descriptor::ALL
            .iter()
            .flat_map(|&d| self.values(d))
            .collect();
        tensors.insert(
            DESCRIPTOR_MAPS.into(),
            Tensor32::new(
                vec![
                    crate::descriptors::Descriptor::ALL.len(),
                    self.size,
                    self.size,
                ],
                data,
            ),
        );
        manifest.descriptor_maps = Some(DescriptorMapInfo {
            basis: basis.name().into(),
            size: self.size,
            span: self.span,
        });
        ModelFile::new(manifest, tensors)
    }

    /// The maps stored in `model` and the basis they were computed on, if it has them.
    pub fn stored(model: &ModelFile) -> Result<Option<(AxisBasis, Self)>, ModelFileError> {
        let Some(info) = &model.manifest.descriptor_maps else {
            return Ok(None);
        };
        let basis = AxisBasis::from_name(&info.basis)
            .ok_or_else(|| ModelFileError::Manifest(format!("unknown basis `{}`", info.basis)))?;
        let data = &model.tensor(DESCRIPTOR_MAPS)?.data;
        let cells = info.size * info.size;
        let cells = (0..cells)
            .map(|c| {
                crate::descriptors::Descriptors::from_values(std::array::from_fn(|d| {
                    data[d * cells + c]
                }))
            })
            .collect();
        Ok(Some((
            basis,
            Self {
                size: info.size,
                span: info.span,
                cells,
            },
        )))
    }

    /// The values of `descriptor`, row-major.
    pub fn values(&self, descriptor: crate::descriptors::Descriptor) -> Vec<f32> {
        self.cells.iter().map(|d| d.get(descriptor)).collect()
    }
}
