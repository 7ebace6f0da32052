//! Offline descriptor-based path synthesis (thesis Algorithm 1): read a target curve, follow it
//! hop by hop with the engine's [`PathFollower`] from a start point, and report how closely the
//! achieved descriptor matched.

use std::path::Path;

use thiserror::Error;
use timbrespace_engine::axes::LatentAxes;
use timbrespace_engine::descriptor_path::{within, PathFollower};
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::model::{ModelFile, ModelFileError};

/// Why a path could not be followed.
#[derive(Debug, Error)]
pub enum PathError {
    /// The target curve file could not be read.
    #[error("cannot read the target curve {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The curve's content is unusable.
    #[error("target curve {path}: {reason}")]
    Curve {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The model is unusable.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// The start point does not fit the model.
    #[error("the start point has {found} values; the model's latent space has {expected}")]
    Start {
        /// Values given.
        found: usize,
        /// Values needed.
        expected: usize,
    },
}

/// How a path is followed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathSettings {
    /// The descriptor to follow.
    pub descriptor: Descriptor,
    /// Axes moved along (the first `dims` of the projection).
    pub dims: usize,
    /// Largest move per hop along one axis, in σ.
    pub max_step: f32,
}

/// A followed path.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowedPath {
    /// The latent point of each hop.
    pub latents: Vec<Vec<f32>>,
    /// The target of each hop.
    pub targets: Vec<f32>,
    /// The descriptor achieved at each hop.
    pub achieved: Vec<f32>,
}

impl FollowedPath {
    /// Share of hops whose achieved value lies within `tolerance` (a fraction) of the target.
    pub fn share_within(&self, tolerance: f32) -> f64 {
        let hits = self
            .achieved
            .iter()
            .zip(&self.targets)
            .filter(|(a, t)| within(**a, **t, tolerance))
            .count();
        hits as f64 / self.targets.len().max(1) as f64
    }
}

/// Read a target curve: either one value per line (one per hop), or `seconds,value` rows,
/// interpolated linearly at every hop (`hop_seconds` apart) up to the last row's time. Lines
/// that start with `#` or hold no numbers (a header) are skipped.
pub fn read_target_curve(path: &Path, hop_seconds: f64) -> Result<Vec<f32>, PathError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PathError::Io {
        path: shown.clone(),
        source,
    })?;
    let fail = |reason: String| PathError::Curve {
        path: shown.clone(),
        reason,
    };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed: Result<Vec<f64>, _> = line.split(',').map(|v| v.trim().parse()).collect();
        match parsed {
            Ok(row) if row.iter().all(|v| v.is_finite()) && (1..=2).contains(&row.len()) => {
                rows.push(row)
            }
            // A header line before any data.
            Err(_) if rows.is_empty() => continue,
            _ => {
                return Err(fail(format!(
                    "line {}: expected 1 or 2 finite numbers",
                    number + 1
                )))
            }
        }
    }
    if rows.is_empty() {
        return Err(fail("no values".into()));
    }
    if rows.iter().any(|r| r.len() != rows[0].len()) {
        return Err(fail("rows have different numbers of columns".into()));
    }
    if rows[0].len() == 1 {
        return Ok(rows.iter().map(|r| r[0] as f32).collect());
    }
    if rows.windows(2).any(|w| w[1][0] <= w[0][0]) || rows[0][0] < 0.0 {
        return Err(fail("times must start at 0 or later and increase".into()));
    }
    let end = rows[rows.len() - 1][0];
    let hops = (end / hop_seconds).floor() as usize + 1;
    Ok((0..hops)
        .map(|h| interpolate(&rows, h as f64 * hop_seconds) as f32)
        .collect())
}

/// The curve `rows` (`[seconds, value]`, increasing times) at time `t`, held beyond its ends.
fn interpolate(rows: &[Vec<f64>], t: f64) -> f64 {
    match rows.iter().position(|r| r[0] > t) {
        Some(0) => rows[0][1],
        Some(i) => {
            let (a, b) = (&rows[i - 1], &rows[i]);
            a[1] + (b[1] - a[1]) * (t - a[0]) / (b[0] - a[0])
        }
        None => rows[rows.len() - 1][1],
    }
}

/// Follow `targets` from `start` along `axes`: one step of Algorithm 1 per hop.
pub fn follow(
    model: &ModelFile,
    axes: &LatentAxes,
    start: &[f32],
    targets: &[f32],
    settings: PathSettings,
) -> Result<FollowedPath, PathError> {
    let latent = model.manifest.architecture.latent;
    if start.len() != latent || start.iter().any(|v| !v.is_finite()) {
        return Err(PathError::Start {
            found: start.len(),
            expected: latent,
        });
    }
    let mut follower = PathFollower::new(
        model,
        axes,
        settings.dims,
        settings.descriptor,
        settings.max_step,
    )?;
    let mut z = start.to_vec();
    let mut path = FollowedPath {
        latents: Vec::with_capacity(targets.len()),
        targets: targets.to_vec(),
        achieved: Vec::with_capacity(targets.len()),
    };
    for &target in targets {
        let step = follower.step(&mut z, target);
        path.latents.push(z.clone());
        path.achieved.push(step.achieved);
    }
    Ok(path)
}
