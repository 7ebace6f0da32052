//! Projections of the latent space fitted on the training points' latent means (thesis 5.1):
//! PCA, and FastICA on the PCA-whitened means. The plugin moves along their axes.

use timbrespace_engine::model::file::projection_tensor;
use timbrespace_engine::model::manifest::ProjectionInfo;
use timbrespace_engine::model::{ModelFile, ModelFileError, Tensor32, TensorMap};

use crate::linalg::{mean_and_covariance, symmetric_eigen, Matrix};

/// An affine map between latent space and `dims` projected axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// `pca` or `ica`.
    pub name: String,
    /// Latent size.
    pub latent: usize,
    /// Projected axes.
    pub dims: usize,
    /// Centre of the training points.
    pub mean: Vec<f64>,
    /// `dims × latent`: s = U (z − mean).
    pub unmixing: Matrix,
    /// `latent × dims`: z = mean + M s.
    pub mixing: Matrix,
    /// Standard deviation of each axis over the training points (slider range).
    pub scale: Vec<f64>,
}

/// Eigenvalues below this fraction of the largest are treated as collapsed latent directions,
/// which ICA must not whiten (it would amplify numerical noise).
const COLLAPSED: f64 = 1e-6;

impl Projection {
    /// Axis coordinates of a latent point.
    pub fn project(&self, z: &[f32]) -> Vec<f64> {
        (0..self.dims)
            .map(|k| {
                (0..self.latent)
                    .map(|j| self.unmixing.get(k, j) * (f64::from(z[j]) - self.mean[j]))
                    .sum()
            })
            .collect()
    }

    /// The latent point at axis coordinates `s`.
    pub fn unproject(&self, s: &[f64]) -> Vec<f32> {
        (0..self.latent)
            .map(|j| {
                (self.mean[j]
                    + (0..self.dims)
                        .map(|k| self.mixing.get(j, k) * s[k])
                        .sum::<f64>()) as f32
            })
            .collect()
    }

    /// Manifest entry.
    pub fn info(&self) -> ProjectionInfo {
        ProjectionInfo {
            name: self.name.clone(),
            dims: self.dims,
        }
    }

    /// Tensors `projection.<name>.{mean,unmixing,mixing,scale}`.
    pub fn tensors(&self, out: &mut TensorMap) {
        let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let name = |part| projection_tensor(&self.name, part);
        out.insert(
            name("mean"),
            Tensor32::new(vec![self.latent], f(&self.mean)),
        );
        out.insert(
            name("unmixing"),
            Tensor32::new(vec![self.dims, self.latent], f(&self.unmixing.data)),
        );
        out.insert(
            name("mixing"),
            Tensor32::new(vec![self.latent, self.dims], f(&self.mixing.data)),
        );
        out.insert(
            name("scale"),
            Tensor32::new(vec![self.dims], f(&self.scale)),
        );
    }

    /// The projection called `name` stored in `model` (shapes were checked when it loaded).
    pub fn from_model(model: &ModelFile, name: &str) -> Result<Self, ModelFileError> {
        let info = model
            .manifest
            .projections
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ModelFileError::MissingTensor(projection_tensor(name, "mean")))?;
        let latent = model.manifest.architecture.latent;
        let load = |part| -> Result<Vec<f64>, ModelFileError> {
            Ok(model
                .tensor(&projection_tensor(name, part))?
                .data
                .iter()
                .map(|&v| f64::from(v))
                .collect())
        };
        Ok(Projection {
            name: name.to_string(),
            latent,
            dims: info.dims,
            mean: load("mean")?,
            unmixing: Matrix {
                rows: info.dims,
                cols: latent,
                data: load("unmixing")?,
            },
            mixing: Matrix {
                rows: latent,
                cols: info.dims,
                data: load("mixing")?,
            },
            scale: load("scale")?,
        })
    }
}

/// PCA of `points` (`n × latent`), every axis kept, by decreasing variance.
pub fn fit_pca(points: &[f32], latent: usize) -> Projection {
    let (mean, cov) = mean_and_covariance(points, latent);
    let (values, vectors) = symmetric_eigen(&cov);
    let mut unmixing = vectors;
    fix_signs(&mut unmixing);
    Projection {
        name: "pca".into(),
        latent,
        dims: latent,
        mean,
        mixing: unmixing.t(),
        unmixing,
        scale: values.iter().map(|v| v.max(0.0).sqrt()).collect(),
    }
}

/// Symmetric FastICA (log-cosh contrast) on the PCA-whitened points, one axis per
/// non-collapsed principal direction, ordered by how far each moves the latent point.
pub fn fit_ica(points: &[f32], latent: usize, seed: u64) -> Projection {
    let n = points.len() / latent;
    let (mean, cov) = mean_and_covariance(points, latent);
    let (values, vectors) = symmetric_eigen(&cov);
    let top = values
        .first()
        .copied()
        .unwrap_or(0.0)
        .max(f64::MIN_POSITIVE);
    let k = values
        .iter()
        .filter(|&&v| v > COLLAPSED * top)
        .count()
        .max(1);
    // Whitening (k × latent) and its inverse (latent × k).
    let mut whiten = Matrix::zeros(k, latent);
    let mut dewhiten = Matrix::zeros(latent, k);
    for (i, value) in values.iter().enumerate().take(k) {
        let s = value.max(f64::MIN_POSITIVE).sqrt();
        for j in 0..latent {
            *whiten.at(i, j) = vectors.get(i, j) / s;
            *dewhiten.at(j, i) = vectors.get(i, j) * s;
        }
    }
    let mut white = Matrix::zeros(n, k);
    for (r, z) in points.chunks_exact(latent).enumerate() {
        for i in 0..k {
            *white.at(r, i) = (0..latent)
                .map(|j| whiten.get(i, j) * (f64::from(z[j]) - mean[j]))
                .sum();
        }
    }
    let w = fast_ica(&white, k, seed);
    let mut unmixing = w.matmul(&whiten);
    let mut mixing = dewhiten.matmul(&w.t());
    // Order axes by the length of their latent direction, largest first.
    let norms: Vec<f64> = (0..k)
        .map(|c| {
            (0..latent)
                .map(|j| mixing.get(j, c).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| norms[b].total_cmp(&norms[a]));
    let (u, m) = (unmixing.clone(), mixing.clone());
    for (new, &old) in order.iter().enumerate() {
        for j in 0..latent {
            *unmixing.at(new, j) = u.get(old, j);
            *mixing.at(j, new) = m.get(j, old);
        }
    }
    // Make each axis point the way its largest latent component does.
    for c in 0..k {
        let big = (0..latent).map(|j| mixing.get(j, c)).fold(0.0f64, |a, v| {
            if v.abs() > a.abs() {
                v
            } else {
                a
            }
        });
        if big < 0.0 {
            for j in 0..latent {
                *mixing.at(j, c) = -mixing.get(j, c);
                *unmixing.at(c, j) = -unmixing.get(c, j);
            }
        }
    }
    Projection {
        name: "ica".into(),
        latent,
        dims: k,
        mean,
        unmixing,
        mixing,
        scale: vec![1.0; k],
    }
}

/// Flip each row so its largest-magnitude entry is positive (a deterministic sign).
fn fix_signs(rows: &mut Matrix) {
    for r in 0..rows.rows {
        let big = rows
            .row(r)
            .iter()
            .fold(0.0f64, |a, &v| if v.abs() > a.abs() { v } else { a });
        if big < 0.0 {
            for c in 0..rows.cols {
                *rows.at(r, c) = -rows.get(r, c);
            }
        }
    }
}

/// Orthogonal unmixing `W` (k × k) of whitened data by symmetric FastICA with g = tanh.
fn fast_ica(white: &Matrix, k: usize, seed: u64) -> Matrix {
    let n = white.rows.max(1) as f64;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut w = Matrix {
        rows: k,
        cols: k,
        data: (0..k * k).map(|_| rng.f64() - 0.5).collect(),
    };
    w = decorrelate(&w);
    for _ in 0..300 {
        let mut next = Matrix::zeros(k, k);
        let mut g_prime = vec![0.0; k];
        for r in 0..white.rows {
            let x = white.row(r);
            for (i, gp) in g_prime.iter_mut().enumerate() {
                let u: f64 = w.row(i).iter().zip(x).map(|(a, b)| a * b).sum();
                let g = u.tanh();
                *gp += 1.0 - g * g;
                for (acc, xj) in next.data[i * k..(i + 1) * k].iter_mut().zip(x) {
                    *acc += g * xj;
                }
            }
        }
        for (i, gp) in g_prime.iter().enumerate() {
            for j in 0..k {
                *next.at(i, j) = next.get(i, j) / n - gp / n * w.get(i, j);
            }
        }
        let next = decorrelate(&next);
        let change = (0..k)
            .map(|i| {
                (0..k)
                    .map(|j| next.get(i, j) * w.get(i, j))
                    .sum::<f64>()
                    .abs()
            })
            .fold(0.0f64, |m, d| m.max((d - 1.0).abs()));
        w = next;
        if change < 1e-7 {
            break;
        }
    }
    w
}

/// Symmetric decorrelation: (W Wᵀ)^{-1/2} W.
fn decorrelate(w: &Matrix) -> Matrix {
    let (values, vectors) = symmetric_eigen(&w.matmul(&w.t()));
    let k = w.rows;
    let mut inv_sqrt = Matrix::zeros(k, k);
    for (i, &v) in values.iter().enumerate() {
        let s = 1.0 / v.max(1e-12).sqrt();
        for a in 0..k {
            for b in 0..k {
                *inv_sqrt.at(a, b) += vectors.get(i, a) * s * vectors.get(i, b);
            }
        }
    }
    inv_sqrt.matmul(w)
}
