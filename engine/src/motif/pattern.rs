//! The motif being played: the bank decoded at the musician's position and time shift, thresholded
//! by the density into onsets, with how long each step's notes last. Recomputed only when a
//! setting changes; every buffer is sized when it is built.

use super::bank::MotifBank;

/// Longest a motif note lasts, in steps (a quarter note), so sparse motifs do not drone.
pub const MAX_GATE: usize = 4;

/// How the musician shapes the motif.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotifSettings {
    /// Position along the bank's motifs, 0–1 (between two motifs their codes blend).
    pub position: f32,
    /// 0 = only the surest onsets play, 1 = every faint one does (onset threshold 1 − density).
    pub density: f32,
    /// Semitones added to every motif note.
    pub pitch_shift: i32,
    /// Steps the motif starts later (it loops).
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
    /// The settings it was decoded at (`None` before the first decode).
    decoded: Option<(f32, f32, i32)>,
}

impl Pattern {
    /// Buffers for `bank`'s motifs.
    pub fn new(bank: &MotifBank) -> Self {
        let cells = bank.rows() * bank.steps();
        Self {
            probabilities: vec![0.0; cells],
            onsets: vec![false; cells],
            gates: vec![1; bank.steps()],
            decoded: None,
        }
    }

    /// Decodes `bank` at `settings` unless it already holds them. Allocation-free.
    pub fn update(&mut self, bank: &MotifBank, settings: &MotifSettings) {
        let key = (settings.position, settings.density, settings.time_shift);
        if self.decoded == Some(key) {
            return;
        }
        self.decoded = Some(key);
        let steps = bank.steps();
        let shift = settings.time_shift.rem_euclid(steps as i32) as usize;
        bank.decode(settings.position, shift, &mut self.probabilities);
        let density = if settings.density.is_finite() {
            settings.density.clamp(0.0, 1.0)
        } else {
            0.5
        };
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
