//! Perceptual inference (thesis 3.4.3): place sounds of instruments a model never saw in its
//! timbre space, name the nearest instruments it knows, and predict how different listeners
//! would find them, from a line fitted between latent centroid distances and the ratings.

use thiserror::Error;
use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::{ModelFile, ModelFileError};

use crate::labels::INSTRUMENT;
use crate::perceptual::{
    class_centroids, euclidean, perceptual_score, rated_classes, PerceptualScore,
};
use crate::projection::Projection;
use crate::timbre_ratings::TimbreRatings;

/// Why a model has no timbre space to place sounds in.
#[derive(Debug, Error)]
pub enum TimbreSpaceError {
    /// The model's training points carry no instrument labels.
    #[error("the model was trained without instrument labels, so it knows no instruments to compare with")]
    NoInstruments,
    /// The model file lacks something.
    #[error(transparent)]
    Model(#[from] ModelFileError),
}

/// An instrument the model was trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownInstrument {
    /// Its name in the model.
    pub name: String,
    /// Mean latent point of its training frames.
    pub centroid: Vec<f64>,
}

/// A known instrument near a placed sound.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    /// The instrument.
    pub name: String,
    /// Latent distance from the sound's centre to its centroid.
    pub distance: f64,
    /// The dissimilarity (0–1, as in the ratings) listeners would report, from the calibration
    /// line; `None` when the model has fewer than three rated instruments.
    pub predicted_dissimilarity: Option<f64>,
}

/// Where a sound sits.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Mean latent point of its frames.
    pub centre: Vec<f64>,
    /// Its coordinates on the model's first three PCA axes (in training standard deviations).
    pub pca: Vec<f64>,
    /// Known instruments, nearest first.
    pub neighbours: Vec<Neighbour>,
}

/// A model's timbre space: its instruments' centroids and the calibration against ratings.
pub struct TimbreSpace {
    /// Latent size.
    latent: usize,
    /// The instruments with training points.
    known: Vec<KnownInstrument>,
    /// The model's PCA, to report coordinates a musician can relate to the editor's map.
    pca: Projection,
    /// Rated dissimilarity ≈ slope · latent distance + intercept, fitted on the rated pairs.
    calibration: Option<(f64, f64)>,
    /// How the known centroids' distances follow the ratings.
    agreement: Option<PerceptualScore>,
}

impl TimbreSpace {
    /// The timbre space of `model` (trained with instrument labels).
    pub fn from_model(
        model: &ModelFile,
        ratings: &TimbreRatings,
    ) -> Result<Self, TimbreSpaceError> {
        let manifest = &model.manifest;
        let latent = manifest.architecture.latent;
        let kinds = manifest.labels.len();
        let column = manifest
            .labels
            .iter()
            .position(|l| l.name == INSTRUMENT)
            .ok_or(TimbreSpaceError::NoInstruments)?;
        let names = &manifest.labels[column].classes;
        let mu = &model.tensor(POINTS_MU)?.data;
        let class: Vec<Option<usize>> = model
            .tensor(POINTS_LABELS)?
            .data
            .chunks_exact(kinds)
            .map(|row| (row[column] >= 0.0).then_some(row[column] as usize))
            .collect();
        let known: Vec<KnownInstrument> = class_centroids(mu, latent, &class, names.len())
            .into_iter()
            .zip(names)
            .filter_map(|(c, name)| {
                c.map(|centroid| KnownInstrument {
                    name: name.clone(),
                    centroid,
                })
            })
            .collect();
        if known.is_empty() {
            return Err(TimbreSpaceError::NoInstruments);
        }
        let calibration = calibrate(&known, ratings);
        let names: Vec<String> = known.iter().map(|k| k.name.clone()).collect();
        let centroids: Vec<f32> = known
            .iter()
            .flat_map(|k| k.centroid.iter().map(|&v| v as f32))
            .collect();
        let agreement =
            perceptual_score(&centroids, latent, &rated_classes(&names, ratings), ratings);
        Ok(Self {
            latent,
            known,
            pca: Projection::from_model(model, "pca")?,
            calibration,
            agreement,
        })
    }

    /// Spearman and Pearson correlation between the training centroids' distances and the
    /// ratings, when at least three known instruments are rated.
    pub fn agreement(&self) -> Option<PerceptualScore> {
        self.agreement
    }

    /// The instruments the model knows.
    pub fn known(&self) -> &[KnownInstrument] {
        &self.known
    }

    /// Place a sound given its frames' latent means (`frames × latent`).
    pub fn place(&self, mu: &[f32]) -> Placement {
        let rows = (mu.len() / self.latent).max(1) as f64;
        let mut centre = vec![0.0; self.latent];
        for z in mu.chunks_exact(self.latent) {
            centre
                .iter_mut()
                .zip(z)
                .for_each(|(c, &v)| *c += f64::from(v) / rows);
        }
        let centre_f32: Vec<f32> = centre.iter().map(|&v| v as f32).collect();
        let pca = self
            .pca
            .project(&centre_f32)
            .iter()
            .zip(&self.pca.scale)
            .take(3)
            .map(|(s, scale)| s / scale.max(1e-12))
            .collect();
        let mut neighbours: Vec<Neighbour> = self
            .known
            .iter()
            .map(|k| {
                let distance = euclidean(&centre, &k.centroid);
                Neighbour {
                    name: k.name.clone(),
                    distance,
                    predicted_dissimilarity: self
                        .calibration
                        .map(|(slope, intercept)| (slope * distance + intercept).clamp(0.0, 1.0)),
                }
            })
            .collect();
        neighbours.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        Placement {
            centre,
            pca,
            neighbours,
        }
    }
}

/// Least-squares line from centroid distance to rated dissimilarity over the rated pairs;
/// `None` with fewer than three rated instruments or no spread in distance.
fn calibrate(known: &[KnownInstrument], ratings: &TimbreRatings) -> Option<(f64, f64)> {
    let names: Vec<String> = known.iter().map(|k| k.name.clone()).collect();
    let rated = rated_classes(&names, ratings);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for a in 0..known.len() {
        for b in a + 1..known.len() {
            if let (Some(i), Some(j)) = (rated[a], rated[b]) {
                xs.push(euclidean(&known[a].centroid, &known[b].centroid));
                ys.push(ratings.dissimilarity(i, j));
            }
        }
    }
    if xs.len() < 3 {
        return None;
    }
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx <= 1e-12 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}
