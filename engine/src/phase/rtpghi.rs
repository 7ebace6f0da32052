//! Real-time phase-gradient heap integration (Průša & Søndergaard, DAFx-16).
//!
//! Each new magnitude frame is integrated against the previous frame only: the loudest
//! coefficients of the previous frame pass their phase forward in time, and the current frame's
//! coefficients pass it on across frequency. With one frame of look-ahead the time derivative of
//! the log-magnitude is a centred difference (better); without, a backward one (no latency).

use std::f32::consts::TAU;

use realfft::num_complex::Complex32;

use super::gradient::{log_magnitude, PhaseGradient};
use super::integrate::{wrap_phase, Cell, Field, HeapIntegrator};
use super::{polar_spectrum, FrameReconstructor, DEFAULT_TOLERANCE};
use crate::stft::StftConfig;

/// How many frames RTPGHI waits for before reconstructing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookahead {
    /// Reconstruct the newest frame at once (backward time difference).
    Zero,
    /// Reconstruct the frame before the newest (centred time difference), one hop of latency.
    One,
}

impl Lookahead {
    /// Frames of latency.
    pub fn frames(self) -> usize {
        match self {
            Lookahead::Zero => 0,
            Lookahead::One => 1,
        }
    }
}

/// Streaming RTPGHI. All buffers are sized in `new`; `process` never allocates.
pub struct Rtpghi {
    lookahead: Lookahead,
    gradient: PhaseGradient,
    /// ln(tolerance): cells more than this below the loudest of the two frames get random phase.
    log_tolerance: f32,
    bins: usize,
    /// Magnitudes of the last three frames pushed: `[n−1, n, n+1]` relative to the newest
    /// n+1. With look-ahead 1 frame n is reconstructed, otherwise frame n+1.
    mags: [Vec<f32>; 3],
    /// Log-magnitudes of the same three frames.
    logs: [Vec<f32>; 3],
    /// Two-frame integration grid: frame 0 is the last reconstructed frame (already phased),
    /// frame 1 the one being reconstructed.
    log_grid: Vec<f32>,
    time_advance: Vec<f32>,
    freq_step: Vec<f32>,
    phase: Vec<f32>,
    state: Vec<Cell>,
    integrator: HeapIntegrator,
    /// Frames pushed in a row without a change, to take the steady-state shortcut.
    unchanged_run: usize,
    /// Per-bin phase increment of the last integration. Once the frames around the current one
    /// stop changing, integration gives the same increments every hop, so they are reapplied
    /// instead (a held note costs almost nothing, and partials stay phase-locked).
    steady_increment: Vec<f32>,
    rng: fastrand::Rng,
    /// The reconstructed spectrum handed out by `process`.
    output: Vec<Complex32>,
}

impl Rtpghi {
    /// RTPGHI for `config` with the default tolerance.
    pub fn new(config: &StftConfig, lookahead: Lookahead) -> Self {
        Self::with_tolerance(config, lookahead, DEFAULT_TOLERANCE)
    }

    /// RTPGHI with a relative tolerance (clamped to 1e-12..0.1).
    pub fn with_tolerance(config: &StftConfig, lookahead: Lookahead, tolerance: f32) -> Self {
        let bins = config.bins();
        let frame = || vec![0.0f32; bins];
        let pair = || vec![0.0f32; 2 * bins];
        Self {
            lookahead,
            gradient: PhaseGradient::new(config),
            log_tolerance: tolerance.clamp(1e-12, 0.1).ln(),
            bins,
            mags: [frame(), frame(), frame()],
            logs: [frame(), frame(), frame()],
            log_grid: pair(),
            time_advance: pair(),
            freq_step: pair(),
            phase: pair(),
            state: vec![Cell::Random; 2 * bins],
            integrator: HeapIntegrator::new(2 * bins),
            unchanged_run: 0,
            steady_increment: frame(),
            rng: fastrand::Rng::with_seed(0x7153_2a0b),
            output: vec![Complex32::default(); bins],
        }
    }

    /// Replaces the phase of the last reconstructed frame (a refinement stage feeds its
    /// improved phase back so that the next frame continues from it).
    pub fn set_last_phase(&mut self, spectrum: &[Complex32]) {
        for (p, c) in self.phase[self.bins..].iter_mut().zip(spectrum) {
            if c.norm_sqr() > 0.0 {
                *p = wrap_phase(c.arg());
            }
        }
    }
}

impl FrameReconstructor for Rtpghi {
    fn latency_frames(&self) -> usize {
        self.lookahead.frames()
    }

    fn reset(&mut self) {
        for v in self.mags.iter_mut().chain(self.logs.iter_mut()) {
            v.fill(0.0);
        }
        self.phase.fill(0.0);
        self.state.fill(Cell::Random);
        self.unchanged_run = 0;
    }

    /// Pushes the next magnitude frame (`bins` finite, non-negative values).
    fn process(&mut self, mag: &[f32]) -> &[Complex32] {
        let unchanged = mag == self.mags[2].as_slice();
        self.unchanged_run = if unchanged { self.unchanged_run + 1 } else { 0 };
        self.mags.rotate_left(1);
        self.logs.rotate_left(1);
        if !unchanged {
            self.mags[2].copy_from_slice(mag);
            log_magnitude(mag, &mut self.logs[2]);
        } else {
            let (old, new) = self.mags.split_at_mut(2);
            new[0].copy_from_slice(&old[1]);
            let (old, new) = self.logs.split_at_mut(2);
            new[0].copy_from_slice(&old[1]);
        }
        self.shift_grid();
        let current = match self.lookahead {
            Lookahead::One => 1,
            Lookahead::Zero => 2,
        };
        // The increments are steady once one integration has seen identical frames on every
        // side of the current one.
        if self.unchanged_run > self.lookahead.frames() + 2 {
            self.advance_steadily();
        } else {
            self.integrate(current);
            let b = self.bins;
            for (m, d) in self.steady_increment.iter_mut().enumerate() {
                *d = self.phase[b + m] - self.phase[m];
            }
        }
        polar_spectrum(
            &self.mags[current],
            &self.phase[self.bins..],
            &mut self.output,
        );
        &self.output
    }
}

impl Rtpghi {
    /// Moves the last reconstructed frame into slot 0 of the grid.
    fn shift_grid(&mut self) {
        let b = self.bins;
        self.log_grid.copy_within(b.., 0);
        self.time_advance.copy_within(b.., 0);
        self.freq_step.copy_within(b.., 0);
        self.phase.copy_within(b.., 0);
        self.state.copy_within(b.., 0);
    }

    fn advance_steadily(&mut self) {
        let b = self.bins;
        let (prev, cur) = self.phase.split_at_mut(b);
        for ((p, &q), &d) in cur.iter_mut().zip(prev.iter()).zip(&self.steady_increment) {
            *p = wrap_phase(q + d);
        }
    }

    /// Integrates the phase of frame `current` of the history (1 or 2) into grid slot 1.
    fn integrate(&mut self, current: usize) {
        let b = self.bins;
        let cur = &self.logs[current];
        self.log_grid[b..].copy_from_slice(cur);
        self.gradient.time_advance(cur, &mut self.time_advance[b..]);
        let (earlier, span) = match self.lookahead {
            Lookahead::One => (&self.logs[0], 2.0),
            Lookahead::Zero => (&self.logs[1], 1.0),
        };
        self.gradient
            .freq_step(earlier, &self.logs[2], span, &mut self.freq_step[b..]);

        let loudest = self.mags[current]
            .iter()
            .chain(&self.mags[current - 1])
            .fold(0.0f32, |m, &x| m.max(x));
        if loudest <= 0.0 {
            self.state[b..].fill(Cell::Random);
            self.phase[b..].fill(0.0);
            return;
        }
        let threshold = loudest.ln() + self.log_tolerance;
        for ((&s, state), phase) in cur
            .iter()
            .zip(&mut self.state[b..])
            .zip(&mut self.phase[b..])
        {
            if s > threshold {
                *state = Cell::Unknown;
            } else {
                *state = Cell::Random;
                *phase = self.rng.f32() * TAU;
            }
        }
        let mut field = Field {
            bins: b,
            log_mag: &self.log_grid,
            time_advance: &self.time_advance,
            freq_step: &self.freq_step,
            phase: &mut self.phase,
            state: &mut self.state,
        };
        let log_grid = &self.log_grid;
        self.integrator
            .run(&mut field, (threshold, loudest.ln()), 0..b, |state| {
                (b..2 * b)
                    .filter(|&c| state[c] == Cell::Unknown)
                    .max_by(|&x, &y| log_grid[x].total_cmp(&log_grid[y]))
            });
    }
}
