//! A constant-Q-like log-frequency view of STFT magnitude frames and the way back: log bin k is
//! centred on f_min · 2^(k/B); where its band (a bin wide on the log axis) holds several STFT
//! bins it is their mean, else the STFT frame interpolated at its centre. On this grid a
//! transposition is a whole-bin shift; [`LogFrequency::to_linear`] interpolates a view back to
//! STFT bins, exact wherever log bins are denser than STFT bins (below a quarter-tone's width of
//! one STFT bin) and smoothed above.

use candle_core::{Device, Tensor};

use super::BINS_PER_OCTAVE;

/// Lowest centre of the standard grid, Hz: below the lowest soundfont note (A0 is 27.5 Hz,
/// but its energy lies in its harmonics) and above one STFT bin at the default 1024-point FFT
/// at 22.05 kHz.
pub const LOWEST_FREQUENCY: f64 = 40.0;

/// Why a log-frequency grid cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LogFrequencyError {
    /// The lowest frequency is not between one STFT bin and the Nyquist frequency.
    #[error("the log-frequency grid must start between {bin:.1} Hz (one STFT bin) and {nyquist:.0} Hz, not at {f_min} Hz")]
    Range {
        /// Requested lowest frequency.
        f_min: f64,
        /// Width of one STFT bin.
        bin: f64,
        /// Nyquist frequency.
        nyquist: f64,
    },
    /// Zero bins per octave.
    #[error("the log-frequency grid needs at least one bin per octave")]
    Resolution,
}

/// One log-frequency bin's footprint on the STFT bins.
#[derive(Debug, Clone, Copy)]
struct Band {
    /// First STFT bin inside the band.
    lo: usize,
    /// One past the last.
    hi: usize,
    /// Centre, in fractional STFT bins.
    centre: f64,
}

/// The log-frequency grid of one STFT configuration.
#[derive(Debug, Clone)]
pub struct LogFrequency {
    /// Per log bin, its STFT footprint.
    bands: Vec<Band>,
    /// Per STFT bin, its position on the log axis in fractional log bins (negative below the
    /// grid, −∞ at DC), for the way back.
    positions: Vec<f64>,
    /// Log bins per octave, to turn positions below the grid back into frequencies.
    bins_per_octave: f64,
}

impl LogFrequency {
    /// The grid for frames of `linear_bins` STFT bins (`n_fft / 2 + 1`) at `sample_rate`,
    /// from `f_min` Hz up to the Nyquist frequency with `bins_per_octave` bins per octave.
    pub fn new(
        linear_bins: usize,
        sample_rate: u32,
        f_min: f64,
        bins_per_octave: usize,
    ) -> Result<Self, LogFrequencyError> {
        let nyquist = f64::from(sample_rate) / 2.0;
        let bin = nyquist / (linear_bins.max(2) - 1) as f64;
        if !(f_min >= bin && f_min < nyquist) {
            return Err(LogFrequencyError::Range {
                f_min,
                bin,
                nyquist,
            });
        }
        if bins_per_octave == 0 {
            return Err(LogFrequencyError::Resolution);
        }
        let b = bins_per_octave as f64;
        let count = (b * (nyquist / f_min).log2()).floor() as usize + 1;
        let half = 2f64.powf(0.5 / b);
        let last = linear_bins - 1;
        let bands = (0..count)
            .map(|k| {
                let centre = f_min * 2f64.powf(k as f64 / b) / bin;
                let lo = ((centre / half).ceil() as usize).min(last);
                let hi = (((centre * half).floor() as usize) + 1).min(linear_bins);
                Band { lo, hi, centre }
            })
            .collect();
        let positions = (0..linear_bins)
            .map(|j| {
                if j == 0 {
                    f64::NEG_INFINITY
                } else {
                    b * (j as f64 * bin / f_min).log2()
                }
            })
            .collect();
        Ok(Self {
            bands,
            positions,
            bins_per_octave: b,
        })
    }

    /// The standard grid: [`BINS_PER_OCTAVE`] bins per octave from [`LOWEST_FREQUENCY`].
    pub fn standard(linear_bins: usize, sample_rate: u32) -> Result<Self, LogFrequencyError> {
        Self::new(linear_bins, sample_rate, LOWEST_FREQUENCY, BINS_PER_OCTAVE)
    }

    /// Log-frequency bins of a view.
    pub fn bins(&self) -> usize {
        self.bands.len()
    }

    /// The log-frequency view of an STFT `frame`, written to `out` ([`Self::bins`] long).
    pub fn view(&self, frame: &[f32], out: &mut [f32]) {
        for (band, o) in self.bands.iter().zip(out.iter_mut()) {
            *o = if band.hi >= band.lo + 2 {
                frame[band.lo..band.hi].iter().sum::<f32>() / (band.hi - band.lo) as f32
            } else {
                interpolate(frame, band.centre)
            };
        }
    }

    /// The views of `frames` (STFT frames), one after another (`frames × bins`, row-major).
    pub fn views<'a>(&self, frames: impl Iterator<Item = &'a [f32]>) -> Vec<f32> {
        let bins = self.bins();
        let mut out = Vec::new();
        for frame in frames {
            let start = out.len();
            out.resize(start + bins, 0.0);
            self.view(frame, &mut out[start..]);
        }
        out
    }

    /// An STFT frame from a log-frequency `view`, written to `out` (STFT bins long): each STFT
    /// bin interpolated at its place on the log axis; below the grid the lowest log bin fades
    /// to 0 at DC, above it the highest log bin holds.
    pub fn to_linear(&self, view: &[f32], out: &mut [f32]) {
        for (&q, o) in self.positions.iter().zip(out.iter_mut()) {
            *o = if view.is_empty() {
                0.0
            } else if q < 0.0 {
                // 2^(q/B) is the bin's frequency over f_min: a linear fade to 0 at DC.
                view[0] * 2f64.powf(q / self.bins_per_octave) as f32
            } else {
                interpolate(view, q)
            };
        }
    }
}

/// `values` (not empty) linearly interpolated at fractional index `position` (≥ 0), holding
/// the last value beyond the end.
fn interpolate(values: &[f32], position: f64) -> f32 {
    let last = values.len() - 1;
    let below = (position.floor() as usize).min(last);
    let above = (below + 1).min(last);
    let t = (position - below as f64).clamp(0.0, 1.0) as f32;
    values[below] * (1.0 - t) + values[above] * t
}

/// A `(bins, bins)` row-major matrix that blurs a row vector (`x · M`) along its length with
/// a Gaussian of `sigma` bins, each output normalised to unit gain (so the edges are not
/// darkened).
pub fn gaussian_blur(bins: usize, sigma: f64) -> Vec<f32> {
    let mut matrix = vec![0.0f32; bins * bins];
    for out in 0..bins {
        let weights: Vec<f64> = (0..bins)
            .map(|i| (-0.5 * ((i as f64 - out as f64) / sigma).powi(2)).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        for (i, w) in weights.iter().enumerate() {
            matrix[i * bins + out] = (w / total) as f32;
        }
    }
    matrix
}

/// The Gaussian blur an encoder reads its log-frequency input through, when on. A partial
/// about one bin wide shifted a bin up or down gives two input moves that share the partial's
/// removal, so a sharp-eyed encoder's moves for ±1 bin are far from opposite, and a note a
/// semitone away shares no input with the note below; blurred, a small transposition is a
/// small, signed change.
#[derive(Debug, Clone)]
pub struct EncoderBlur(
    /// [`gaussian_blur`] as a `(bins, bins)` tensor applied on the right; `None` when off.
    Option<Tensor>,
);

impl EncoderBlur {
    /// A blur of `sigma` log-frequency bins over inputs `bins` long (0: none).
    pub fn new(bins: usize, sigma: f64) -> candle_core::Result<Self> {
        let matrix = (sigma > 0.0)
            .then(|| Tensor::from_vec(gaussian_blur(bins, sigma), (bins, bins), &Device::Cpu))
            .transpose()?;
        Ok(Self(matrix))
    }

    /// `x` (`(…, bins)`) blurred along its last dimension.
    pub fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match &self.0 {
            Some(matrix) => x.broadcast_matmul(matrix),
            None => Ok(x.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factorisation::{shift_patch, transpose, Shift};

    /// A smooth STFT frame: a broad spectral envelope.
    fn smooth_frame(bins: usize) -> Vec<f32> {
        (0..bins)
            .map(|j| 2.0 + (j as f32 / 40.0).sin() + 0.5 * (j as f32 / 97.0).cos())
            .collect()
    }

    #[test]
    fn a_grid_covers_the_octaves_from_f_min_to_nyquist() -> Result<(), LogFrequencyError> {
        let grid = LogFrequency::new(513, 22_050, 40.0, 24)?;
        // log2(11025 / 40) = 8.1 octaves → 195 bins.
        assert_eq!(grid.bins(), 195);
        assert!(matches!(
            LogFrequency::new(513, 22_050, 5.0, 24),
            Err(LogFrequencyError::Range { .. })
        ));
        assert_eq!(
            LogFrequency::new(513, 22_050, 40.0, 0).err(),
            Some(LogFrequencyError::Resolution)
        );
        Ok(())
    }

    #[test]
    fn a_smooth_frame_survives_the_round_trip() -> Result<(), LogFrequencyError> {
        let grid = LogFrequency::new(513, 22_050, 40.0, 24)?;
        let frame = smooth_frame(513);
        let (mut view, mut back) = (vec![0.0; grid.bins()], vec![0.0; 513]);
        grid.view(&frame, &mut view);
        grid.to_linear(&view, &mut back);
        // From the lowest grid centre (STFT bin 2 = 43 Hz) to the highest (10.8 kHz, STFT bin
        // 501; above it the top log bin holds), within 2 % everywhere.
        for j in 2..=501 {
            assert!(
                (back[j] - frame[j]).abs() < 0.02 * frame[j],
                "bin {j}: {} vs {}",
                back[j],
                frame[j]
            );
        }
        Ok(())
    }

    #[test]
    fn a_whole_bin_shift_of_the_view_is_the_transposed_frames_view() -> Result<(), LogFrequencyError>
    {
        let grid = LogFrequency::new(513, 22_050, 40.0, 24)?;
        let frame = smooth_frame(513);
        let mut up = vec![0.0; 513];
        transpose(&frame, 5, 24, &mut up);
        let (mut view, mut shifted, mut view_up) = (
            vec![0.0; grid.bins()],
            vec![0.0; grid.bins()],
            vec![0.0; grid.bins()],
        );
        grid.view(&frame, &mut view);
        grid.view(&up, &mut view_up);
        shift_patch(&view, grid.bins(), Shift::pitch(5), &mut shifted);
        // Above the zero-filled bottom rows, the two agree to within 2 %.
        for k in 5..grid.bins() - 5 {
            assert!(
                (shifted[k] - view_up[k]).abs() < 0.02 * view_up[k],
                "log bin {k}: {} vs {}",
                shifted[k],
                view_up[k]
            );
        }
        Ok(())
    }
}
