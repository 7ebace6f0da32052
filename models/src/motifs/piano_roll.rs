//! Onset piano rolls on a beat grid: which row (a pitch, or a drum class) starts a note at
//! which step. The grid follows beats, not seconds, so tempo changes do not move notes.

use crate::midi::Score;

/// Grid steps per beat: sixteenth notes.
pub const STEPS_PER_BEAT: usize = 4;
/// MIDI's drum channel (channel 10, counted from 0).
pub const DRUM_CHANNEL: u8 = 9;

/// Drum classes, one row each, in the order of the roll's rows.
pub const DRUM_CLASSES: [&str; 9] = [
    "kick",
    "snare",
    "closed hat",
    "open hat",
    "low tom",
    "high tom",
    "crash",
    "ride",
    "percussion",
];

/// The drum class row of a General MIDI percussion key.
pub fn drum_class(key: u8) -> usize {
    match key {
        35 | 36 => 0,
        37..=40 => 1,
        42 | 44 => 2,
        46 => 3,
        41 | 43 | 45 => 4,
        47 | 48 | 50 => 5,
        49 | 52 | 55 | 57 => 6,
        51 | 53 | 59 => 7,
        _ => 8,
    }
}

/// What a roll's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollKind {
    /// The drum channel's notes by [`DRUM_CLASSES`].
    Drums,
    /// Pitched notes of every other channel, one row per semitone from `lowest`; notes outside
    /// the rows are moved by octaves into them, so a melody keeps its shape.
    Melody {
        /// MIDI key of row 0.
        lowest: u8,
        /// Number of rows (at least 12, so every pitch class has one).
        rows: usize,
    },
}

impl RollKind {
    /// Rows of a roll of this kind.
    pub fn rows(self) -> usize {
        match self {
            RollKind::Drums => DRUM_CLASSES.len(),
            RollKind::Melody { rows, .. } => rows.max(12),
        }
    }

    /// The row a note goes to, or `None` when this kind leaves the note out.
    fn row(self, channel: u8, key: u8) -> Option<usize> {
        match self {
            RollKind::Drums => (channel == DRUM_CHANNEL).then(|| drum_class(key)),
            RollKind::Melody { lowest, .. } if channel != DRUM_CHANNEL => {
                let rows = self.rows() as i32;
                let mut offset = i32::from(key) - i32::from(lowest);
                while offset < 0 {
                    offset += 12;
                }
                while offset >= rows {
                    offset -= 12;
                }
                Some(offset as usize)
            }
            RollKind::Melody { .. } => None,
        }
    }
}

/// A binary onset roll: `cells[row * steps + step]` is 1 where a note starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PianoRoll {
    /// Rows (pitches or drum classes).
    pub rows: usize,
    /// Grid steps ([`STEPS_PER_BEAT`] per beat).
    pub steps: usize,
    /// Row-major onsets, 0 or 1.
    pub cells: Vec<f32>,
}

impl PianoRoll {
    /// An empty roll.
    pub fn empty(rows: usize, steps: usize) -> Self {
        Self {
            rows,
            steps,
            cells: vec![0.0; rows * steps],
        }
    }

    /// The onsets of `score` that `kind` keeps, each on its nearest grid step; the roll lasts
    /// until the last note ends.
    pub fn from_score(score: &Score, kind: RollKind) -> Self {
        let step_of = |beat: f64| (beat * STEPS_PER_BEAT as f64).round().max(0.0) as usize;
        let kept: Vec<(usize, usize)> = score
            .notes
            .iter()
            .filter_map(|n| kind.row(n.channel, n.key).map(|row| (row, n)))
            .map(|(row, n)| (row, step_of(n.start_beat)))
            .collect();
        let last_end = score
            .notes
            .iter()
            .filter(|n| kind.row(n.channel, n.key).is_some())
            .map(|n| step_of(n.end_beat))
            .max()
            .unwrap_or(0);
        let steps = kept
            .iter()
            .map(|&(_, s)| s + 1)
            .max()
            .unwrap_or(0)
            .max(last_end);
        let mut roll = Self::empty(kind.rows(), steps);
        for (row, step) in kept {
            roll.set(row, step);
        }
        roll
    }

    /// Marks an onset.
    pub fn set(&mut self, row: usize, step: usize) {
        if row < self.rows && step < self.steps {
            self.cells[row * self.steps + step] = 1.0;
        }
    }

    /// Whether a note starts at (row, step).
    pub fn onset(&self, row: usize, step: usize) -> bool {
        self.cells[row * self.steps + step] > 0.5
    }

    /// Onsets in the roll.
    pub fn onset_count(&self) -> usize {
        self.cells.iter().filter(|&&c| c > 0.5).count()
    }

    /// The steps `start .. start + length` (zero past the end).
    pub fn window(&self, start: usize, length: usize) -> PianoRoll {
        let mut out = Self::empty(self.rows, length);
        for row in 0..self.rows {
            for step in 0..length.min(self.steps.saturating_sub(start)) {
                out.cells[row * length + step] = self.cells[row * self.steps + start + step];
            }
        }
        out
    }

    /// Consecutive windows of `length` steps that hold at least `min_onsets` onsets, each
    /// starting on a multiple of `length` (on bar lines when `length` is a whole bar).
    pub fn windows(&self, length: usize, min_onsets: usize) -> Vec<PianoRoll> {
        (0..self.steps / length.max(1))
            .map(|i| self.window(i * length, length))
            .filter(|w| w.onset_count() >= min_onsets.max(1))
            .collect()
    }
}
