//! How shifts show in a latent space: every example's latent move for every shift of one
//! kind, and the notebook's metrics over them (same-way and opposite-way cosines, the angle
//! between the mean moves up and down, one direction across sounds, the first singular value).

use candle_core::{Device, Result, Tensor};

use super::shifts::{pair_target, transpose, Shift};
use crate::linalg::{mean_and_covariance, symmetric_eigen, top_eigen, Matrix};

/// Every example's latent move for every shift of one kind of 1 to `max_shift` bins or frames
/// either way.
pub struct ShiftMoves {
    /// The shifts, in log-frequency bins or frames, ascending without 0.
    shifts: Vec<i32>,
    /// Per shift, the moves μ(shifted) − μ(frame), `frames × latent` row-major.
    moves: Vec<Vec<f32>>,
    /// Frames measured.
    frames: usize,
    /// Latent dimensions.
    latent: usize,
}

impl ShiftMoves {
    /// Moves of `frames` (`n × bins`) under `encode` (frames `(n, bins)` → latent means).
    pub fn measure(
        frames: &[f32],
        bins: usize,
        max_shift: usize,
        bins_per_octave: usize,
        encode: &dyn Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Self> {
        let rows = frames.len() / bins.max(1);
        let to_tensor = |data: Vec<f32>| Tensor::from_vec(data, (rows, bins), &Device::Cpu);
        let anchor = encode(&to_tensor(frames[..rows * bins].to_vec())?)?;
        let latent = anchor.dim(1)?;
        let max = max_shift.max(1) as i32;
        let shifts: Vec<i32> = (-max..=max).filter(|&s| s != 0).collect();
        let mut moves = Vec::with_capacity(shifts.len());
        let mut out = vec![0.0; rows * bins];
        for &shift in &shifts {
            for (frame, o) in frames.chunks_exact(bins).zip(out.chunks_exact_mut(bins)) {
                transpose(frame, shift, bins_per_octave, o);
            }
            let z = (encode(&to_tensor(out.clone())?)? - &anchor)?;
            moves.push(z.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(Self {
            shifts,
            moves,
            frames: rows,
            latent,
        })
    }

    /// Moves already measured: per shift of `shifts`, `frames × latent` values.
    pub(super) fn from_moves(
        shifts: Vec<i32>,
        moves: Vec<Vec<f32>>,
        frames: usize,
        latent: usize,
    ) -> Self {
        Self {
            shifts,
            moves,
            frames,
            latent,
        }
    }

    /// The shifts measured, ascending.
    pub(super) fn shifts(&self) -> &[i32] {
        &self.shifts
    }

    /// Frame `r`'s move for the shift at index `s`.
    pub(super) fn get(&self, s: usize, r: usize) -> &[f32] {
        &self.moves[s][r * self.latent..(r + 1) * self.latent]
    }

    /// The least-squares direction u of d ≈ shift · u over every frame and shift (a move per
    /// log-frequency bin).
    pub fn direction(&self) -> Vec<f32> {
        let mut u = vec![0.0f64; self.latent];
        let mut norm = 0.0f64;
        for (s, &shift) in self.shifts.iter().enumerate() {
            for r in 0..self.frames {
                for (ui, &d) in u.iter_mut().zip(self.get(s, r)) {
                    *ui += f64::from(shift) * f64::from(d);
                }
                norm += f64::from(shift * shift);
            }
        }
        u.into_iter()
            .map(|v| (v / norm.max(1e-12)) as f32)
            .collect()
    }

    /// The share of the moves' energy that shift · `u` explains (`u` a move per bin; 1 when
    /// every move is exactly that, ≤ 0 when it explains nothing).
    pub fn explained_by(&self, u: &[f32]) -> f64 {
        let (mut residual, mut total) = (0.0f64, 0.0f64);
        for (s, &shift) in self.shifts.iter().enumerate() {
            for r in 0..self.frames {
                for (&ui, &d) in u.iter().zip(self.get(s, r)) {
                    residual += (f64::from(d) - f64::from(shift) * f64::from(ui)).powi(2);
                    total += f64::from(d).powi(2);
                }
            }
        }
        1.0 - residual / total.max(1e-12)
    }

    /// The notebook's metrics for this kind of shift (see [`ShiftGeometry`]); `seed` picks the
    /// pairs of sounds compared across.
    pub fn geometry(&self, seed: u64) -> ShiftGeometry {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (mut same, mut opposite, mut across) =
            (Mean::default(), Mean::default(), Mean::default());
        let mut grid_share = Mean::default();
        let mut up = vec![0.0f64; self.latent];
        let mut down = vec![0.0f64; self.latent];
        for r in 0..self.frames {
            for (i, &a) in self.shifts.iter().enumerate() {
                let total = if a > 0 { &mut up } else { &mut down };
                total
                    .iter_mut()
                    .zip(self.get(i, r))
                    .for_each(|(t, &d)| *t += f64::from(d));
                for (j, &b) in self.shifts.iter().enumerate().skip(i + 1) {
                    let cos = cosine(self.get(i, r), self.get(j, r));
                    if pair_target(Shift::pitch(a), Shift::pitch(b)) > 0.0 {
                        same.add(cos)
                    } else {
                        opposite.add(cos)
                    }
                }
            }
            if self.frames > 1 {
                let other = (r + 1 + rng.usize(0..self.frames - 1)) % self.frames;
                let (i, j) = (
                    rng.usize(0..self.shifts.len()),
                    rng.usize(0..self.shifts.len()),
                );
                let sign = f64::from(pair_target(
                    Shift::pitch(self.shifts[i]),
                    Shift::pitch(self.shifts[j]),
                ));
                across.add(sign * cosine(self.get(i, r), self.get(j, other)));
            }
            grid_share.add(self.first_singular_share(r));
        }
        let angle = cosine_f64(&up, &down).clamp(-1.0, 1.0).acos().to_degrees();
        ShiftGeometry {
            same_sign: same.value(),
            opposite_sign: opposite.value(),
            up_down_angle: angle,
            across_sounds: across.value(),
            first_singular_share: grid_share.value(),
            explained_by_direction: self.explained_by(&self.direction()),
            frames: self.frames,
        }
    }

    /// Every move projected on the first two principal axes of all the moves, with its shift
    /// (bins) — the notebook's PCA plot of the difference vectors.
    pub fn principal_plane(&self) -> Vec<(f64, f64, i32)> {
        let shifts = self
            .shifts
            .iter()
            .flat_map(|&shift| std::iter::repeat_n(shift, self.frames));
        principal_plane(&self.moves.concat(), self.latent)
            .into_iter()
            .zip(shifts)
            .map(|((x, y), shift)| (x, y, shift))
            .collect()
    }

    /// σ₁² / Σσ² of frame `r`'s (shift × latent) grid of moves: 1 when all its moves lie on
    /// one line.
    fn first_singular_share(&self, r: usize) -> f64 {
        let rows: Vec<Vec<f64>> = (0..self.shifts.len())
            .map(|s| self.get(s, r).iter().map(|&v| f64::from(v)).collect())
            .collect();
        first_singular_share(&rows)
    }
}

/// σ₁² / Σσ² of the matrix with these rows (from the eigenvalues of its rows' Gram matrix):
/// 1 when every row is a multiple of one vector.
pub(super) fn first_singular_share(rows: &[Vec<f64>]) -> f64 {
    let n = rows.len();
    let mut gram = Matrix::zeros(n, n);
    for a in 0..n {
        for b in a..n {
            let dot: f64 = rows[a].iter().zip(&rows[b]).map(|(x, y)| x * y).sum();
            *gram.at(a, b) = dot;
            *gram.at(b, a) = dot;
        }
    }
    let trace: f64 = (0..n).map(|k| gram.get(k, k)).sum();
    let (values, _) = symmetric_eigen(&gram);
    let top = values.iter().copied().fold(0.0f64, f64::max);
    top / trace.max(1e-12)
}

/// Every row of `data` (`latent` values each) projected on the first two principal axes of
/// all the rows.
pub(super) fn principal_plane(data: &[f32], latent: usize) -> Vec<(f64, f64)> {
    let (mean, covariance) = mean_and_covariance(data, latent);
    let (_, axes) = top_eigen(&covariance, 2.min(latent), 60, 1);
    let axis = |k: usize, d: &[f32]| -> f64 {
        if k >= axes.rows {
            return 0.0;
        }
        d.iter()
            .zip(&mean)
            .zip(axes.row(k))
            .map(|((&v, m), a)| (f64::from(v) - m) * a)
            .sum()
    };
    data.chunks_exact(latent.max(1))
        .map(|d| (axis(0, d), axis(1, d)))
        .collect()
}

/// Running mean.
#[derive(Default)]
pub(super) struct Mean {
    sum: f64,
    count: usize,
}

impl Mean {
    pub(super) fn add(&mut self, value: f64) {
        self.sum += value;
        self.count += 1;
    }

    pub(super) fn value(&self) -> f64 {
        self.sum / self.count.max(1) as f64
    }
}

/// Cosine of two vectors (0 when either is zero).
pub(super) fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let a: Vec<f64> = a.iter().map(|&v| f64::from(v)).collect();
    let b: Vec<f64> = b.iter().map(|&v| f64::from(v)).collect();
    cosine_f64(&a, &b)
}

fn cosine_f64(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f64>().sqrt() * b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norms > 0.0 {
        dot / norms
    } else {
        0.0
    }
}

/// How one kind of shift shows in a latent space (the notebook's metrics for one half).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ShiftGeometry {
    /// Mean cosine between a sound's moves for two shifts the same way (1 = one direction).
    pub same_sign: f64,
    /// Mean cosine between a sound's moves for two shifts opposite ways (−1 = one line).
    pub opposite_sign: f64,
    /// Angle between the mean move up and the mean move down, degrees (180 = one line).
    pub up_down_angle: f64,
    /// Mean cosine between two different sounds' moves, signed so that 1 means transposing
    /// either one moves the same way (one direction for the whole space, not one per sound).
    pub across_sounds: f64,
    /// Mean share of the first singular value in each sound's (shift × latent) grid of moves.
    pub first_singular_share: f64,
    /// Share of all moves' energy explained by one global direction times the shift.
    pub explained_by_direction: f64,
    /// Frames measured.
    pub frames: usize,
}
