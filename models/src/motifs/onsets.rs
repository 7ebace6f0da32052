//! Onset scores (precision, recall, F1 over every cell of a set of rolls) and the note
//! corruption the denoising test uses.

use serde::Serialize;

use super::piano_roll::PianoRoll;

/// How well predicted onsets match the true ones, counted over all cells of all rolls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OnsetScore {
    /// Predicted onsets that are true.
    pub true_positives: usize,
    /// Predicted onsets that are not.
    pub false_positives: usize,
    /// True onsets not predicted.
    pub false_negatives: usize,
}

impl OnsetScore {
    /// Counts `predicted` against `truth`, roll by roll (both lists in the same order and
    /// shapes; cells above 0.5 are onsets).
    pub fn compare(predicted: &[PianoRoll], truth: &[PianoRoll]) -> Self {
        let mut score = Self::default();
        for (p, t) in predicted.iter().zip(truth) {
            score.add(&p.cells, &t.cells);
        }
        score
    }

    /// Adds the counts of `predicted` cells against `truth` cells (same layout; above 0.5 is
    /// an onset).
    pub fn add(&mut self, predicted: &[f32], truth: &[f32]) {
        for (&a, &b) in predicted.iter().zip(truth) {
            match (a > 0.5, b > 0.5) {
                (true, true) => self.true_positives += 1,
                (true, false) => self.false_positives += 1,
                (false, true) => self.false_negatives += 1,
                (false, false) => {}
            }
        }
    }

    /// Share of predicted onsets that are true (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Share of true onsets predicted (1 when there were none).
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

/// `part / whole`, 1 for an empty whole.
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// A copy of `roll` with a share `drop` of its onsets removed and as many onsets as a share
/// `add` of the original count put on random empty cells: wrong notes for the denoiser.
pub fn corrupt(roll: &PianoRoll, drop: f64, add: f64, rng: &mut fastrand::Rng) -> PianoRoll {
    let mut out = roll.clone();
    let onsets: Vec<usize> = (0..out.cells.len())
        .filter(|&i| out.cells[i] > 0.5)
        .collect();
    for &i in &onsets {
        if rng.f64() < drop {
            out.cells[i] = 0.0;
        }
    }
    let empty: Vec<usize> = (0..roll.cells.len())
        .filter(|&i| roll.cells[i] <= 0.5)
        .collect();
    let extra = ((onsets.len() as f64) * add).round() as usize;
    for _ in 0..extra.min(empty.len()) {
        out.cells[empty[rng.usize(0..empty.len())]] = 1.0;
    }
    out
}
