//! Which one-hot groups make up y, and how MIDI keys and velocities map onto their classes.

use crate::model::manifest::Manifest;
use crate::model::ModelFileError;

use super::{DYNAMICS, DYNAMICS_MARKS, INSTRUMENT, OCTAVE, PITCH, PITCH_CLASSES};

/// One one-hot group of y.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolGroup {
    /// Label kind (`pitch`, `octave`, …).
    pub name: String,
    /// Class names in index order.
    pub classes: Vec<String>,
    /// Where the group starts in y.
    pub offset: usize,
}

/// The classes of one MIDI key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySymbols {
    /// Pitch-class index, if the model has a pitch group.
    pub pitch: Option<usize>,
    /// Octave index (the nearest trained octave), if the model has an octave group.
    pub octave: Option<usize>,
    /// False when the key's octave or pitch class was not trained and the nearest one stands
    /// in (the note then sounds at the stand-in's pitch or with its timbre).
    pub in_range: bool,
}

/// The groups of y in order, with fast lookups for the four musical kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolVocabulary {
    /// The groups, in y order.
    pub groups: Vec<SymbolGroup>,
    /// Total width of y.
    width: usize,
    /// Index of each musical kind among `groups`.
    pitch: Option<usize>,
    /// See `pitch`.
    octave: Option<usize>,
    /// See `pitch`.
    dynamics: Option<usize>,
    /// See `pitch`.
    instrument: Option<usize>,
    /// Class index of each of the 12 semitones, when the model knows it.
    pitch_class: [Option<usize>; 12],
    /// The octave number of each octave class (classes are numbers such as `4`).
    octave_numbers: Vec<i32>,
    /// The MIDI velocity each dynamics class stands for, ascending.
    dynamics_velocities: Vec<f32>,
}

impl SymbolVocabulary {
    /// The vocabulary of `manifest`'s symbol VAE; `None` for an audio-only model.
    pub fn from_manifest(manifest: &Manifest) -> Result<Option<Self>, ModelFileError> {
        let Some(spec) = &manifest.symbols else {
            return Ok(None);
        };
        let mut groups = Vec::new();
        let mut offset = 0;
        for kind in &spec.kinds {
            let set = manifest
                .labels
                .iter()
                .find(|l| &l.name == kind)
                .ok_or_else(|| {
                    ModelFileError::Manifest(format!("symbol kind `{kind}` has no label set"))
                })?;
            groups.push(SymbolGroup {
                name: kind.clone(),
                classes: set.classes.clone(),
                offset,
            });
            offset += set.classes.len();
        }
        Self::new(groups).map(Some)
    }

    /// A vocabulary from its groups (offsets are recomputed).
    pub fn new(mut groups: Vec<SymbolGroup>) -> Result<Self, ModelFileError> {
        let mut width = 0;
        for g in &mut groups {
            if g.classes.is_empty() {
                return Err(ModelFileError::Manifest(format!(
                    "symbol group `{}` has no classes",
                    g.name
                )));
            }
            g.offset = width;
            width += g.classes.len();
        }
        let find = |name: &str| groups.iter().position(|g| g.name == name);
        let (pitch, octave, dynamics, instrument) =
            (find(PITCH), find(OCTAVE), find(DYNAMICS), find(INSTRUMENT));
        let mut pitch_class = [None; 12];
        if let Some(p) = pitch {
            for (semitone, slot) in pitch_class.iter_mut().enumerate() {
                *slot = groups[p]
                    .classes
                    .iter()
                    .position(|c| c == PITCH_CLASSES[semitone]);
            }
        }
        let octave_numbers = match octave {
            Some(o) => groups[o]
                .classes
                .iter()
                .map(|c| {
                    c.parse::<i32>().map_err(|_| {
                        ModelFileError::Manifest(format!("octave class `{c}` is not a number"))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let dynamics_velocities = match dynamics {
            Some(d) => groups[d]
                .classes
                .iter()
                .map(|c| {
                    DYNAMICS_MARKS
                        .iter()
                        .find(|(mark, _)| mark == c)
                        .map(|(_, v)| f32::from(*v))
                        .ok_or_else(|| {
                            ModelFileError::Manifest(format!("unknown dynamics marking `{c}`"))
                        })
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(Self {
            groups,
            width,
            pitch,
            octave,
            dynamics,
            instrument,
            pitch_class,
            octave_numbers,
            dynamics_velocities,
        })
    }

    /// Width of y.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Index of the group called `name`.
    pub fn group(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    /// Classes of the instrument group (empty when the model has none).
    pub fn instruments(&self) -> &[String] {
        self.instrument
            .map_or(&[][..], |i| self.groups[i].classes.as_slice())
    }

    /// Number of dynamics classes (0 when the model has none).
    pub fn dynamics_count(&self) -> usize {
        self.dynamics_velocities.len()
    }

    /// Writes y for one class per group (`None` leaves the group all zero) into `out`.
    pub fn one_hot(&self, classes: &[Option<usize>], out: &mut [f32]) {
        out[..self.width].fill(0.0);
        for (g, class) in self.groups.iter().zip(classes) {
            if let Some(c) = class.filter(|&c| c < g.classes.len()) {
                out[g.offset + c] = 1.0;
            }
        }
    }

    /// Pitch class and nearest trained octave of MIDI `key`.
    pub fn key_symbols(&self, key: i32) -> KeySymbols {
        let semitone = key.rem_euclid(12) as usize;
        let octave_number = key.div_euclid(12) - 1;
        let pitch_trained = self.pitch.is_none() || self.pitch_class[semitone].is_some();
        let pitch = self.pitch.and_then(|_| {
            // A pitch class the data never had: take the nearest one it had.
            (0..12).find_map(|d: usize| {
                self.pitch_class[(semitone + d) % 12].or(self.pitch_class[(semitone + 12 - d) % 12])
            })
        });
        let nearest = self
            .octave_numbers
            .iter()
            .enumerate()
            .min_by_key(|(_, &n)| (n - octave_number).abs())
            .map(|(i, &n)| (i, n == octave_number));
        KeySymbols {
            pitch,
            octave: nearest.map(|(i, _)| i),
            in_range: pitch_trained && nearest.is_none_or(|(_, exact)| exact),
        }
    }

    /// Fractional position of `velocity` among the dynamics classes (0 = softest class),
    /// linear between the velocities the marks stand for and clamped at the ends.
    pub fn dynamics_position(&self, velocity: f32) -> f32 {
        let v = &self.dynamics_velocities;
        match v.len() {
            0 | 1 => 0.0,
            n => {
                if velocity <= v[0] {
                    return 0.0;
                }
                for i in 0..n - 1 {
                    if velocity <= v[i + 1] {
                        return i as f32 + (velocity - v[i]) / (v[i + 1] - v[i]).max(1e-6);
                    }
                }
                (n - 1) as f32
            }
        }
    }

    /// Level factor for velocities beyond the trained dynamics: 1 inside their range, the
    /// velocity ratio outside it, so ppp is still softer than pp.
    pub fn velocity_gain(&self, velocity: f32) -> f32 {
        let velocity = velocity.clamp(1.0, 127.0);
        match (
            self.dynamics_velocities.first(),
            self.dynamics_velocities.last(),
        ) {
            (Some(&lo), _) if velocity < lo => velocity / lo,
            (_, Some(&hi)) if velocity > hi => velocity / hi,
            (None, _) => velocity / 100.0,
            _ => 1.0,
        }
    }

    /// Group indices of pitch, octave, dynamics and instrument.
    pub fn musical_groups(&self) -> [Option<usize>; 4] {
        [self.pitch, self.octave, self.dynamics, self.instrument]
    }

    /// The most probable class of group `g` in `probabilities` (y-shaped) and its probability.
    pub fn best(&self, g: usize, probabilities: &[f32]) -> (usize, f32) {
        let group = &self.groups[g];
        probabilities[group.offset..group.offset + group.classes.len()]
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, p)| {
                if p > best.1 {
                    (i, p)
                } else {
                    best
                }
            })
    }
}
