//! The notebook's metrics for multi-frame patches: every sound encoded at every pitch shift ×
//! time shift, giving each half's metrics, the mean |cos| between pitch and time moves and the
//! share of the first singular value of each sound's grid.

use candle_core::{Device, Result, Tensor};

use super::moves::{cosine, first_singular_share, principal_plane, Mean, ShiftGeometry};
use super::shifts::{shift_patch, Shift};
use super::ShiftMoves;

/// Every sound's latent code at every (pitch shift, time shift) of a grid.
pub struct ShiftGrid {
    /// Pitch shifts in bins, −P to P.
    pitch: Vec<i32>,
    /// Time shifts in frames, −T to T.
    time: Vec<i32>,
    /// Per grid cell (pitch index · time count + time index), `sounds × latent` codes.
    codes: Vec<Vec<f32>>,
    /// Sounds measured.
    sounds: usize,
    /// Latent dimensions.
    latent: usize,
}

/// Everything the notebook reports for a pitch/time factorisation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GridGeometry {
    /// The pitch half (moves at no time shift).
    pub pitch: ShiftGeometry,
    /// The time half (moves at no pitch shift).
    pub time: ShiftGeometry,
    /// Mean |cos| between a sound's pitch moves and its time moves (0 = orthogonal).
    pub pitch_vs_time: f64,
    /// Mean over sounds of σ₁² / Σσ² of the sound's grid, centred over pitch and reshaped to
    /// pitch × (time · latent): 1 when every pitch shift moves the code along one direction
    /// by the same amount at every time shift — pitch factored from time.
    pub grid_first_singular_share: f64,
}

impl ShiftGrid {
    /// Codes of `patches` (`sounds × frames × bins`, row-major) shifted by every pitch shift of
    /// up to `max_pitch` bins and time shift of up to `max_time` frames, under `encode`
    /// (patches `(n, frames, bins)` → latent means `(n, latent)`).
    pub fn measure(
        patches: &[f32],
        frames: usize,
        bins: usize,
        (max_pitch, max_time): (usize, usize),
        encode: &dyn Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Self> {
        let size = frames * bins;
        let sounds = patches.len() / size.max(1);
        let pitch: Vec<i32> = (-(max_pitch as i32)..=max_pitch as i32).collect();
        let time: Vec<i32> = (-(max_time as i32)..=max_time as i32).collect();
        let mut codes = Vec::with_capacity(pitch.len() * time.len());
        let (mut pitched, mut moved) = (vec![0.0; sounds * size], vec![0.0; sounds * size]);
        let mut latent = 0;
        for &p in &pitch {
            for (patch, out) in patches
                .chunks_exact(size)
                .zip(pitched.chunks_exact_mut(size))
            {
                shift_patch(patch, bins, Shift::pitch(p), out);
            }
            for &t in &time {
                for (patch, out) in pitched.chunks_exact(size).zip(moved.chunks_exact_mut(size)) {
                    shift_patch(patch, bins, Shift::time(t), out);
                }
                let input = Tensor::from_slice(&moved, (sounds, frames, bins), &Device::Cpu)?;
                let z = encode(&input)?;
                latent = z.dim(1)?;
                codes.push(z.flatten_all()?.to_vec1::<f32>()?);
            }
        }
        Ok(Self {
            pitch,
            time,
            codes,
            sounds,
            latent,
        })
    }

    /// Sound `r`'s code at pitch index `p` and time index `t`.
    fn code(&self, p: usize, t: usize, r: usize) -> &[f32] {
        &self.codes[p * self.time.len() + t][r * self.latent..(r + 1) * self.latent]
    }

    /// The moves of one kind from each sound's unshifted code: pitch moves at no time shift
    /// (`pitch` true) or time moves at no pitch shift.
    fn moves(&self, pitch: bool) -> ShiftMoves {
        let (p0, t0) = (self.pitch.len() / 2, self.time.len() / 2);
        let axis = if pitch { &self.pitch } else { &self.time };
        let mut shifts = Vec::new();
        let mut moves = Vec::new();
        for (i, &shift) in axis.iter().enumerate().filter(|(_, &s)| s != 0) {
            let (p, t) = if pitch { (i, t0) } else { (p0, i) };
            let mut out = Vec::with_capacity(self.sounds * self.latent);
            for r in 0..self.sounds {
                let (a, z) = (self.code(p0, t0, r), self.code(p, t, r));
                out.extend(z.iter().zip(a).map(|(z, a)| z - a));
            }
            shifts.push(shift);
            moves.push(out);
        }
        ShiftMoves::from_moves(shifts, moves, self.sounds, self.latent)
    }

    /// The mean move over sounds of each shift of one kind at no shift of the other
    /// (`pitch` true: transpositions), from the most negative shift up, the zero move
    /// included: `(2 · max + 1) × latent` values.
    pub fn mean_moves(&self, pitch: bool) -> Vec<f32> {
        let (p0, t0) = (self.pitch.len() / 2, self.time.len() / 2);
        let count = if pitch {
            self.pitch.len()
        } else {
            self.time.len()
        };
        let mut out = vec![0.0f32; count * self.latent];
        for (i, mean) in out.chunks_exact_mut(self.latent).enumerate() {
            let (p, t) = if pitch { (i, t0) } else { (p0, i) };
            for r in 0..self.sounds {
                for ((m, z), a) in mean
                    .iter_mut()
                    .zip(self.code(p, t, r))
                    .zip(self.code(p0, t0, r))
                {
                    *m += (z - a) / self.sounds as f32;
                }
            }
        }
        out
    }

    /// The notebook's metrics; `seed` picks the pairs of sounds compared across.
    pub fn geometry(&self, seed: u64) -> GridGeometry {
        let (pitch, time) = (self.moves(true), self.moves(false));
        let mut orthogonality = Mean::default();
        let mut share = Mean::default();
        for r in 0..self.sounds {
            for p in 0..self.pitch.len() - 1 {
                for t in 0..self.time.len() - 1 {
                    orthogonality.add(cosine(pitch.get(p, r), time.get(t, r)).abs());
                }
            }
            share.add(first_singular_share(&self.centred_rows(r)));
        }
        GridGeometry {
            pitch: pitch.geometry(seed),
            time: time.geometry(seed),
            pitch_vs_time: orthogonality.value(),
            grid_first_singular_share: share.value(),
        }
    }

    /// Sound `r`'s grid as pitch × (time · latent) rows, each column centred over pitch.
    fn centred_rows(&self, r: usize) -> Vec<Vec<f64>> {
        let width = self.time.len() * self.latent;
        let mut rows: Vec<Vec<f64>> = (0..self.pitch.len())
            .map(|p| {
                (0..self.time.len())
                    .flat_map(|t| self.code(p, t, r).iter().map(|&v| f64::from(v)))
                    .collect()
            })
            .collect();
        for c in 0..width {
            let mean = rows.iter().map(|row| row[c]).sum::<f64>() / rows.len() as f64;
            rows.iter_mut().for_each(|row| row[c] -= mean);
        }
        rows
    }

    /// The pitch and time moves on the first two principal axes of them all, each with its
    /// shift — the notebook's PCA plot of the difference vectors.
    pub fn principal_plane(&self) -> Vec<(f64, f64, Shift)> {
        let (pitch, time) = (self.moves(true), self.moves(false));
        let mut data = Vec::new();
        let mut shifts = Vec::new();
        for (moves, make) in [
            (&pitch, Shift::pitch as fn(i32) -> Shift),
            (&time, Shift::time),
        ] {
            for (s, &shift) in moves.shifts().iter().enumerate() {
                for r in 0..self.sounds {
                    data.extend_from_slice(moves.get(s, r));
                    shifts.push(make(shift));
                }
            }
        }
        principal_plane(&data, self.latent)
            .into_iter()
            .zip(shifts)
            .map(|((x, y), shift)| (x, y, shift))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A linear "encoder" that reads a patch's centre of mass along time and log-frequency
    /// into two separate coordinates: pitch and time shifts are orthogonal lines.
    fn centre_of_mass(x: &Tensor) -> Result<Tensor> {
        let (n, frames, bins) = x.dims3()?;
        let data = x.flatten_all()?.to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(n * 3);
        for patch in data.chunks_exact(frames * bins) {
            let (mut t, mut k, mut m) = (0.0, 0.0, 0.0);
            for (i, &v) in patch.iter().enumerate() {
                t += v * (i / bins) as f32;
                k += v * (i % bins) as f32;
                m += v;
            }
            out.extend([t / m, k / m, 0.0]);
        }
        Tensor::from_vec(out, (n, 3), &Device::Cpu)
    }

    #[test]
    fn a_factored_encoder_scores_as_factored() -> Result<()> {
        // Three sounds: a small blob in the middle of a 12 × 16 patch, so ±2 shifts keep it in.
        let (frames, bins) = (12, 16);
        let patches: Vec<f32> = (0..3)
            .flat_map(|s| {
                (0..frames * bins).map(move |i| {
                    let (t, k) = ((i / bins) as f32, (i % bins) as f32);
                    (-((t - 5.5).powi(2) + (k - 7.0 - s as f32).powi(2)) / 2.0).exp()
                })
            })
            .collect();
        let grid = ShiftGrid::measure(&patches, frames, bins, (2, 2), &centre_of_mass)?;
        let g = grid.geometry(1);
        for half in [g.pitch, g.time] {
            assert!(half.same_sign > 0.99, "{g:?}");
            assert!(half.opposite_sign < -0.99, "{g:?}");
            assert!(half.across_sounds > 0.99, "{g:?}");
        }
        assert!(g.pitch_vs_time < 0.01, "{g:?}");
        assert!(g.grid_first_singular_share > 0.99, "{g:?}");
        assert_eq!(grid.principal_plane().len(), 3 * (4 + 4));
        Ok(())
    }

    #[test]
    fn an_entangled_encoder_scores_as_entangled() -> Result<()> {
        // Codes that mix time into the pitch coordinate and turn pitch moves with time.
        let entangled = |x: &Tensor| -> Result<Tensor> {
            let z = centre_of_mass(x)?.to_vec2::<f32>()?;
            let rows: Vec<f32> = z
                .iter()
                .flat_map(|r| {
                    let (t, k) = (r[0] - 5.5, r[1] - 7.0);
                    [t + k, (t * k).sin(), t * t - k]
                })
                .collect();
            Tensor::from_vec(rows, (z.len(), 3), &Device::Cpu)
        };
        let (frames, bins) = (12, 16);
        let patches: Vec<f32> = (0..frames * bins)
            .map(|i| {
                let (t, k) = ((i / bins) as f32, (i % bins) as f32);
                (-((t - 5.5).powi(2) + (k - 7.0).powi(2)) / 2.0).exp()
            })
            .collect();
        let g = ShiftGrid::measure(&patches, frames, bins, (2, 2), &entangled)?.geometry(1);
        assert!(g.pitch_vs_time > 0.3, "{g:?}");
        assert!(g.grid_first_singular_share < 0.95, "{g:?}");
        Ok(())
    }
}
