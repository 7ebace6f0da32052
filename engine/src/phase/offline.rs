//! Offline phase reconstruction references: PGHI over the whole spectrogram, Fast Griffin-Lim
//! (Perraudin, Balazs, Søndergaard 2013) and Fast Griffin-Lim initialised by PGHI.

use realfft::num_complex::Complex32;

use super::gradient::{log_magnitude, PhaseGradient};
use super::integrate::{Cell, Field, HeapIntegrator};
use super::polar_spectrum;
use crate::grid::TfGrid;
use crate::stft::{istft, stft, StftConfig};

/// Offline PGHI: integrates the phase gradient over the whole spectrogram from its loudest
/// coefficient outwards (time derivatives are centred differences, one-sided at the ends).
/// Coefficients below `tolerance` × the global maximum get zero phase.
pub fn pghi(config: &StftConfig, mags: &TfGrid<f32>, tolerance: f32) -> TfGrid<Complex32> {
    let (frames, bins) = (mags.frames(), mags.bins());
    let gradient = PhaseGradient::new(config);
    let mut log_mag = TfGrid::zeros(frames, bins);
    for j in 0..frames {
        log_magnitude(mags.frame(j), log_mag.frame_mut(j));
    }
    let mut time_advance = TfGrid::zeros(frames, bins);
    let mut freq_step = TfGrid::zeros(frames, bins);
    for j in 0..frames {
        gradient.time_advance(log_mag.frame(j), time_advance.frame_mut(j));
        let (lo, hi) = (j.saturating_sub(1), (j + 1).min(frames - 1));
        let span = (hi - lo).max(1) as f32;
        gradient.freq_step(
            log_mag.frame(lo),
            log_mag.frame(hi),
            span,
            freq_step.frame_mut(j),
        );
    }
    let loudest = mags.as_slice().iter().fold(0.0f32, |m, &x| m.max(x));
    let threshold = (loudest * tolerance.clamp(1e-12, 0.1)).max(f32::MIN_POSITIVE);
    let mut state: Vec<Cell> = mags
        .as_slice()
        .iter()
        .map(|&x| {
            if x > threshold {
                Cell::Unknown
            } else {
                Cell::Random
            }
        })
        .collect();
    // Islands start at the loudest unknown cell: walk the cells from loudest to quietest.
    let mut order: Vec<usize> = (0..state.len())
        .filter(|&c| state[c] == Cell::Unknown)
        .collect();
    order.sort_unstable_by(|&x, &y| log_mag.as_slice()[y].total_cmp(&log_mag.as_slice()[x]));
    let mut next = 0;
    let mut phase = vec![0.0f32; state.len()];
    let mut field = Field {
        bins,
        log_mag: log_mag.as_slice(),
        time_advance: time_advance.as_slice(),
        freq_step: freq_step.as_slice(),
        phase: &mut phase,
        state: &mut state,
    };
    let key_range = (threshold.ln(), loudest.max(threshold).ln());
    HeapIntegrator::new(frames * bins).run(&mut field, key_range, 0..0, |state| {
        while next < order.len() && state[order[next]] != Cell::Unknown {
            next += 1;
        }
        order.get(next).copied()
    });
    let mut out = TfGrid::zeros(frames, bins);
    for j in 0..frames {
        polar_spectrum(
            mags.frame(j),
            &phase[j * bins..(j + 1) * bins],
            out.frame_mut(j),
        );
    }
    out
}

/// Fast Griffin-Lim: alternates the consistency projection (ISTFT then STFT) and the magnitude
/// projection, with momentum `alpha` (0.99 is the paper's choice; 0 gives plain Griffin-Lim).
/// Starts from `initial` (e.g. PGHI) or from zero phase, and returns `len` samples.
pub fn fast_griffin_lim(
    config: &StftConfig,
    mags: &TfGrid<f32>,
    initial: Option<&TfGrid<Complex32>>,
    iterations: usize,
    alpha: f32,
    len: usize,
) -> Vec<f32> {
    let mut current = match initial {
        Some(c) => c.clone(),
        None => mags.map(|m| Complex32::new(m, 0.0)),
    };
    let mut previous = current.clone();
    let mut accelerated = current.clone();
    for _ in 0..iterations {
        let projected = stft(config, &istft(config, &accelerated, len));
        for (((c, p), a), (&m, &y)) in current
            .as_mut_slice()
            .iter_mut()
            .zip(previous.as_mut_slice())
            .zip(accelerated.as_mut_slice())
            .zip(mags.as_slice().iter().zip(projected.as_slice()))
        {
            let norm = y.norm();
            *p = *c;
            *c = if norm > 0.0 {
                y * (m / norm)
            } else {
                Complex32::new(m, 0.0)
            };
            *a = *c + (*c - *p) * alpha;
        }
    }
    istft(config, &current, len)
}

/// Offline PGHI followed by `iterations` of Fast Griffin-Lim: the best offline quality.
pub fn pghi_fast_griffin_lim(
    config: &StftConfig,
    mags: &TfGrid<f32>,
    iterations: usize,
    len: usize,
) -> Vec<f32> {
    let initial = pghi(config, mags, super::DEFAULT_TOLERANCE);
    fast_griffin_lim(config, mags, Some(&initial), iterations, FGLA_MOMENTUM, len)
}

/// The momentum Perraudin et al. recommend for Fast Griffin-Lim.
pub const FGLA_MOMENTUM: f32 = 0.99;
