//! Phase-gradient estimates from log-magnitudes (Průša, Balazs, Søndergaard, TASLP 2017).
//!
//! For a Gaussian window `exp(−π t²/γ)` and the centred phase convention, the phase φ and the
//! log-magnitude s of the STFT satisfy
//! `∂φ/∂t = 2πω + (1/γ)·∂s/∂ω` and `∂φ/∂ω = −γ·∂s/∂t` (t in samples, ω in cycles/sample).
//! Sampled on the lattice (hop a, n_fft M) these become a per-hop phase advance for each bin
//! and a per-bin phase step within a frame. Other windows use the γ of their equivalent Gaussian.

use std::f64::consts::TAU;

use crate::stft::StftConfig;

/// The lattice constants of the two gradient formulas.
pub(crate) struct PhaseGradient {
    /// a·M/γ: turns the per-bin slope of s into the deviation of the per-hop phase advance.
    time_scale: f32,
    /// γ/(a·M): turns the per-frame slope of s into the per-bin phase step (with a minus sign).
    freq_scale: f32,
    /// 2π·a·m/M reduced modulo 2π, the advance of bin m's own frequency over one hop; reduced
    /// in f64 so large bins keep their precision.
    bin_advance: Vec<f32>,
}

impl PhaseGradient {
    /// Constants for `config`'s lattice and window.
    pub fn new(config: &StftConfig) -> Self {
        let (a, m) = (config.hop() as f64, config.n_fft() as f64);
        let gamma = config.window().gamma(config.n_fft());
        Self {
            time_scale: (a * m / gamma) as f32,
            freq_scale: (gamma / (a * m)) as f32,
            bin_advance: (0..config.bins())
                .map(|k| ((TAU * a * k as f64 / m) % TAU) as f32)
                .collect(),
        }
    }

    /// Per-hop phase advance of each bin of a frame with log-magnitudes `log_mag`: the
    /// instantaneous frequency, from a centred difference across bins (mirrored at DC and
    /// Nyquist, where a real signal's spectrum is symmetric).
    pub fn time_advance(&self, log_mag: &[f32], out: &mut [f32]) {
        let last = log_mag.len() - 1;
        for (m, o) in out.iter_mut().enumerate() {
            let slope = if m == 0 || m == last {
                0.0
            } else {
                0.5 * (log_mag[m + 1] - log_mag[m - 1])
            };
            *o = self.bin_advance[m] + self.time_scale * slope;
        }
    }

    /// Per-bin phase step of each bin, from the change of log-magnitude between an `earlier`
    /// and a `later` frame `span` hops apart (2 for a centred difference, 1 for a backward one).
    pub fn freq_step(&self, earlier: &[f32], later: &[f32], span: f32, out: &mut [f32]) {
        let k = -self.freq_scale / span;
        for ((o, &e), &l) in out.iter_mut().zip(earlier).zip(later) {
            *o = k * (l - e);
        }
    }
}

/// Natural log of a magnitude, floored so that silent bins give finite slopes.
pub(crate) fn log_magnitude(mag: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(mag) {
        *o = x.max(LOG_FLOOR_MAGNITUDE).ln();
    }
}

/// Magnitudes below this count as −207 dB when taking logs.
const LOG_FLOOR_MAGNITUDE: f32 = 1e-9;
