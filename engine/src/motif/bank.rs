//! The motif bank the *Motif* play mode morphs through, in one of two kinds, both read here
//! without any machine-learning framework:
//! - a CONV-WTA dictionary (its atoms and decoder bias) and a row of sparse codes — chosen
//!   motifs, ordered so that neighbours are alike — written as JSON by `timbrespace motifs
//!   --bank`. Loading decodes every motif's contribution once, so playing only blends two.
//! - a factorised motif space ([`super::space`]), written by `timbrespace motif-space --bank`,
//!   whose pitch and time shifts are moves along the space's learned directions.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::space::{SpaceMotifs, SpaceScratch};

/// Version of the bank format this engine reads.
pub const BANK_FORMAT: u32 = 1;
/// Most motifs, rows and steps a bank may hold (far beyond what training makes; bounds what a
/// damaged file can ask the loader to allocate).
const MAX_SIZE: usize = 4096;

/// Why a motif bank cannot be used.
#[derive(Debug, Error)]
pub enum MotifBankError {
    /// The file is not a bank.
    #[error("not a Timbrespace motif bank: {0}")]
    Parse(#[from] serde_json::Error),
    /// The file is a tensor container but not a motif-space bank.
    #[error("not a Timbrespace motif bank: {0}")]
    NotABank(String),
    /// Written by a newer or older version.
    #[error("motif bank format {found}; this version reads format {BANK_FORMAT}")]
    Format {
        /// The file's format number.
        found: u32,
    },
    /// Sizes, indices or values that do not fit together.
    #[error("damaged motif bank: {0}")]
    Damaged(String),
}

/// One nonzero entry of a sparse code: a feature map's activation at a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CodeEntry {
    /// The feature map (the atom pasted).
    pub map: u16,
    /// The step of the window it is pasted at (its centre).
    pub step: u16,
    /// Its activation (the atom's scale).
    pub value: f32,
}

/// The file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotifBankFile {
    /// [`BANK_FORMAT`].
    pub format: u32,
    /// MIDI key of row 0 at the reference root (C4): the row of a note is its key minus this.
    pub lowest_key: u8,
    /// Rows of a motif (semitones).
    pub rows: usize,
    /// Sixteenth-note steps of a motif (it loops).
    pub steps: usize,
    /// Feature maps of the dictionary.
    pub maps: usize,
    /// Steps an atom spans.
    pub atom_steps: usize,
    /// Atom weights, map-major: `atoms[(map · rows + row) · atom_steps + k]`.
    pub atoms: Vec<f32>,
    /// Decoder bias per row (onset logit with no motif).
    pub bias: Vec<f32>,
    /// The motifs, in playing order (Motif position 0 = first).
    pub motifs: Vec<Vec<CodeEntry>>,
    /// Where the motifs come from (shown to the musician).
    #[serde(default)]
    pub source: String,
}

/// A bank ready to play.
#[derive(Debug, Clone)]
pub struct MotifBank {
    /// Rows of a motif.
    rows: usize,
    /// Steps of a motif.
    steps: usize,
    /// MIDI key of row 0 at the reference root.
    lowest_key: u8,
    /// The motifs, decoded as their kind decodes.
    motifs: Motifs,
    /// Where the motifs come from.
    source: String,
}

/// The two kinds of bank.
#[derive(Debug, Clone)]
enum Motifs {
    /// A CONV-WTA dictionary's motifs, decoded once.
    Dictionary {
        /// Decoder bias per row.
        bias: Vec<f32>,
        /// Per motif, row-major `rows × steps` logits without the bias (decoding is linear up
        /// to the sigmoid, so blending these blends the codes).
        contributions: Vec<f32>,
    },
    /// A motif space's codes and decoder.
    Space(Box<SpaceMotifs>),
}

/// The buffers one player decodes its bank's motifs with (a motif space runs its decoder on
/// them; a dictionary needs none).
#[derive(Debug, Clone)]
pub struct MotifScratch(Option<SpaceScratch>);

impl MotifBankFile {
    /// Checks that every size, index and value fits.
    fn validate(&self) -> Result<(), MotifBankError> {
        let damaged = |m: String| Err(MotifBankError::Damaged(m));
        if self.format != BANK_FORMAT {
            return Err(MotifBankError::Format { found: self.format });
        }
        let sizes = [self.rows, self.steps, self.maps, self.atom_steps];
        if sizes.iter().any(|&s| s == 0 || s > MAX_SIZE) {
            return damaged(format!(
                "rows {}, steps {}, maps {} and atom steps {} must be 1–{MAX_SIZE}",
                self.rows, self.steps, self.maps, self.atom_steps
            ));
        }
        if self.motifs.is_empty() || self.motifs.len() > MAX_SIZE {
            return damaged(format!("{} motifs (need 1–{MAX_SIZE})", self.motifs.len()));
        }
        if usize::from(self.lowest_key) + self.rows > 128 {
            return damaged(format!(
                "rows from key {} up {} semitones leave MIDI's range",
                self.lowest_key, self.rows
            ));
        }
        if self.atoms.len() != self.maps * self.rows * self.atom_steps
            || self.bias.len() != self.rows
        {
            return damaged(format!(
                "{} atom weights and {} biases for {} maps × {} rows × {} steps",
                self.atoms.len(),
                self.bias.len(),
                self.maps,
                self.rows,
                self.atom_steps
            ));
        }
        if self.atoms.iter().chain(&self.bias).any(|v| !v.is_finite()) {
            return damaged("non-finite weights".into());
        }
        for (i, motif) in self.motifs.iter().enumerate() {
            let bad = motif.iter().find(|e| {
                usize::from(e.map) >= self.maps
                    || usize::from(e.step) >= self.steps
                    || !e.value.is_finite()
            });
            if let Some(e) = bad {
                return damaged(format!("motif {i} has an entry out of range: {e:?}"));
            }
        }
        Ok(())
    }
}

impl MotifBank {
    /// Reads a bank from the bytes of a `.tsmotif` file of either kind: JSON (a dictionary) or
    /// a tensor container (a motif space).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MotifBankError> {
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Self::from_json(bytes),
            _ => Ok(Self::from_space(SpaceMotifs::from_bytes(bytes)?)),
        }
    }

    /// Reads a dictionary bank from the JSON of a `.tsmotif` file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, MotifBankError> {
        let file: MotifBankFile = serde_json::from_slice(bytes)?;
        Self::new(&file)
    }

    /// A bank of motifs from a motif space.
    fn from_space(space: SpaceMotifs) -> Self {
        let header = space.header();
        Self {
            rows: header.rows,
            steps: header.steps,
            lowest_key: header.lowest_key,
            source: header.source.clone(),
            motifs: Motifs::Space(Box::new(space)),
        }
    }

    /// Checks `file` and decodes its motifs.
    pub fn new(file: &MotifBankFile) -> Result<Self, MotifBankError> {
        file.validate()?;
        let (rows, steps, width) = (file.rows, file.steps, file.atom_steps);
        let half = width / 2;
        let mut contributions = vec![0.0; file.motifs.len() * rows * steps];
        for (motif, out) in file
            .motifs
            .iter()
            .zip(contributions.chunks_exact_mut(rows * steps))
        {
            for e in motif {
                // The transposed convolution: the atom's column k lands at step s − W/2 + k.
                let atom = &file.atoms[usize::from(e.map) * rows * width..][..rows * width];
                for k in 0..width {
                    let Some(t) = (usize::from(e.step) + k).checked_sub(half) else {
                        continue;
                    };
                    if t >= steps {
                        continue;
                    }
                    for r in 0..rows {
                        out[r * steps + t] += e.value * atom[r * width + k];
                    }
                }
            }
        }
        Ok(Self {
            rows,
            steps,
            lowest_key: file.lowest_key,
            motifs: Motifs::Dictionary {
                bias: file.bias.clone(),
                contributions,
            },
            source: file.source.clone(),
        })
    }

    /// Rows (semitones) of a motif.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Steps (sixteenths) of a motif.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Number of motifs.
    pub fn len(&self) -> usize {
        match &self.motifs {
            Motifs::Dictionary { contributions, .. } => {
                contributions.len() / (self.rows * self.steps)
            }
            Motifs::Space(space) => space.len(),
        }
    }

    /// For a motif space, the largest transposition (semitones) and time shift (steps) it
    /// plays as moves along its learned directions; `None` for a dictionary.
    pub fn learned_shifts(&self) -> Option<(usize, usize)> {
        match &self.motifs {
            Motifs::Dictionary { .. } => None,
            Motifs::Space(space) => Some((space.header().max_pitch, space.header().max_time)),
        }
    }

    /// Buffers to decode with (allocates; make them off the audio thread).
    pub fn scratch(&self) -> MotifScratch {
        match &self.motifs {
            Motifs::Dictionary { .. } => MotifScratch(None),
            Motifs::Space(space) => MotifScratch(Some(space.scratch())),
        }
    }

    /// The part of a transposition by `semitones` the player plays as an exact transposition
    /// of the decoded motif's notes (a motif space decodes the rest as a move).
    pub fn exact_pitch(&self, semitones: i32) -> i32 {
        match &self.motifs {
            Motifs::Dictionary { .. } => semitones,
            Motifs::Space(space) => semitones - space.learned_pitch(semitones),
        }
    }

    /// Whether it has no motifs (never true for a bank that loaded).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// MIDI key of row 0 at the reference root.
    pub fn lowest_key(&self) -> u8 {
        self.lowest_key
    }

    /// Where the motifs come from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Onset probabilities (row-major, `rows × steps`) at `position` along the motifs (0 =
    /// first, 1 = last; between two motifs their codes blend), transposed by `pitch` semitones
    /// (the part [`Self::exact_pitch`] leaves out; the player plays the rest) and `time` steps
    /// later (it loops), with `scratch` from [`Self::scratch`]. Allocation-free.
    pub fn decode(
        &self,
        position: f32,
        (pitch, time): (i32, i32),
        scratch: &mut MotifScratch,
        out: &mut [f32],
    ) {
        let last = self.len() - 1;
        let x = if position.is_finite() {
            position.clamp(0.0, 1.0) * last as f32
        } else {
            0.0
        };
        let i = (x.floor() as usize).min(last);
        let j = (i + 1).min(last);
        let f = x - i as f32;
        let (bias, contributions) = match (&self.motifs, &mut scratch.0) {
            (
                Motifs::Dictionary {
                    bias,
                    contributions,
                },
                _,
            ) => (bias, contributions),
            (Motifs::Space(space), Some(scratch)) => {
                return space.decode((i, j, f), (pitch, time), scratch, out);
            }
            // Scratch from another bank: nothing to decode with, so no onsets.
            (Motifs::Space(_), None) => return out.fill(0.0),
        };
        let cells = self.rows * self.steps;
        let shift = time.rem_euclid(self.steps as i32) as usize;
        let a = &contributions[i * cells..][..cells];
        let b = &contributions[j * cells..][..cells];
        for r in 0..self.rows {
            for t in 0..self.steps {
                let logit = bias[r] + (1.0 - f) * a[r * self.steps + t] + f * b[r * self.steps + t];
                out[r * self.steps + (t + shift) % self.steps] = 1.0 / (1.0 + (-logit).exp());
            }
        }
    }
}
