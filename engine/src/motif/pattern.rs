//! The motif being played: the bank decoded at the musician's position and time shift, thresholded
//! by the density into onsets, with how long each step's notes last. Recomputed only when a
//! setting changes; every buffer is sized when it is built.

use super::bank::{MotifBank, MotifScratch};

/// Longest a motif note lasts, in steps (a quarter note), so sparse motifs do not drone.
pub const MAX_GATE: usize = 4;

/// How the musician shapes the motif.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotifSettings {
    /// Position along the bank's motifs, 0–1 (between two motifs their codes blend).
    pub position: f32,
    /// 0 = only the surest onsets play, 1 = every faint one does (onset threshold 1 − density).
    pub density: f32,
    /// Semitones the motif is transposed by (along a motif space's learned direction as far as
    /// it learned one).
    pub pitch_shift: i32,
    /// Steps the motif starts later (it loops; along a motif space's learned direction as far
    /// as it learned one).
    pub time_shift: i32,
}

impl Default for MotifSettings {
    fn default() -> Self {
        Self {
            position: 0.0,
            density: 0.5,
            pitch_shift: 0,
            time_shift: 0,
        }
    }
}

/// A decoded, thresholded motif.
pub struct Pattern {
    /// Onset probabilities, row-major `rows × steps`.
    probabilities: Vec<f32>,
    /// Whether each cell plays, same layout.
    onsets: Vec<bool>,
    /// Per step, how many steps its notes last (until the next step that plays, at most
    /// [`MAX_GATE`]).
    gates: Vec<usize>,
    /// The position, pitch and time shift it was decoded at (`None` before the first decode).
    decoded: Option<(f32, i32, i32)>,
    /// The density its onsets were picked at (`None` when they need picking).
    picked: Option<f32>,
    /// The buffers the bank decodes with.
    scratch: MotifScratch,
}

impl Pattern {
    /// Buffers for `bank`'s motifs (allocates; build it off the audio thread).
    pub fn new(bank: &MotifBank) -> Self {
        let cells = bank.rows() * bank.steps();
        Self {
            probabilities: vec![0.0; cells],
            onsets: vec![false; cells],
            gates: vec![1; bank.steps()],
            decoded: None,
            picked: None,
            scratch: bank.scratch(),
        }
    }

    /// Decodes `bank` at `settings` unless it already holds them (a density change only picks
    /// the onsets again). Allocation-free.
    pub fn update(&mut self, bank: &MotifBank, settings: &MotifSettings) {
        let finite = |v: f32, fallback: f32| if v.is_finite() { v } else { fallback };
        let at = (
            finite(settings.position, 0.0),
            settings.pitch_shift,
            settings.time_shift,
        );
        if self.decoded != Some(at) {
            self.decoded = Some(at);
            self.picked = None;
            bank.decode(
                at.0,
                (at.1, at.2),
                &mut self.scratch,
                &mut self.probabilities,
            );
        }
        let density = finite(settings.density, 0.5).clamp(0.0, 1.0);
        if self.picked == Some(density) {
            return;
        }
        self.picked = Some(density);
        let steps = bank.steps();
        // Never 0 or 1: an empty or a full roll is no motif.
        let threshold = (1.0 - density).clamp(0.02, 0.98);
        for (on, p) in self.onsets.iter_mut().zip(&self.probabilities) {
            *on = *p >= threshold;
        }
        let plays = |t: usize| (0..bank.rows()).any(|r| self.onsets[r * steps + t]);
        for t in 0..steps {
            self.gates[t] = (1..=MAX_GATE.min(steps))
                .find(|d| plays((t + d) % steps))
                .unwrap_or(MAX_GATE.min(steps));
        }
    }

    /// Steps in the loop.
    pub fn steps(&self) -> usize {
        self.gates.len()
    }

    /// Rows (semitones) of the motif.
    pub fn rows(&self) -> usize {
        self.onsets.len() / self.steps()
    }

    /// Whether `row` starts a note at `step` (taken modulo the loop).
    pub fn plays(&self, row: usize, step: usize) -> bool {
        self.onsets[row * self.steps() + step % self.steps()]
    }

    /// How many steps notes started at `step` last.
    pub fn gate(&self, step: usize) -> usize {
        self.gates[step % self.steps()]
    }

    /// Onset probabilities, row-major `rows × steps` (for the editor and tests).
    pub fn probabilities(&self) -> &[f32] {
        &self.probabilities
    }
}
