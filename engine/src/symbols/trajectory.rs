//! Note trajectories: how a note's latent point moves over time relative to its sustained
//! centre, from note-on (attack, settling) and from note-off (release). One template per class
//! combination of the trajectory kinds (e.g. instrument × dynamics), averaged over the training
//! notes, with a level per frame in newer models; following it keeps a held note from being a
//! frozen spectrum.

use crate::model::{ModelFile, ModelFileError};

use super::encoder::SymbolPoint;
use super::vocabulary::SymbolVocabulary;

/// Tensor of the attack templates, `[groups, attack_frames, latent]`.
pub const ATTACK_TENSOR: &str = "symbols.attack";
/// Tensor of the release templates, `[groups, release_frames, latent]`.
pub const RELEASE_TENSOR: &str = "symbols.release";
/// Tensor of the attack templates' levels in dB, `[groups, attack_frames]` (models whose
/// symbol spec has `levels`).
pub const ATTACK_LEVEL_TENSOR: &str = "symbols.attack_level";
/// Tensor of the release templates' levels in dB, `[groups, release_frames]`.
pub const RELEASE_LEVEL_TENSOR: &str = "symbols.release_level";
/// Template levels are clamped to this range (dB) when loaded, so a damaged file cannot make
/// a voice blow up.
const LEVEL_RANGE_DB: (f32, f32) = (-120.0, 40.0);

/// Where a note is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotePhase {
    /// `n` hops after note-on.
    Held(usize),
    /// `n` hops after note-off.
    Released(usize),
}

/// The templates of a model.
#[derive(Debug, Clone)]
pub struct Trajectories {
    /// Attack offsets, `groups × attack_frames × latent`.
    attack: Vec<f32>,
    /// Release offsets, `groups × release_frames × latent`.
    release: Vec<f32>,
    /// Attack levels as amplitude factors, `groups × attack_frames`; empty for models without
    /// levels (every factor 1).
    attack_level: Vec<f32>,
    /// Release levels likewise, `groups × release_frames`.
    release_level: Vec<f32>,
    /// Hops in an attack template.
    attack_frames: usize,
    /// Hops in a release template.
    release_frames: usize,
    /// Latent size.
    latent: usize,
    /// For each trajectory kind: its vocabulary group and its stride in the group index.
    kinds: Vec<(usize, usize)>,
}

impl Trajectories {
    /// The templates of `model` (`None` for an audio-only model or one without templates).
    pub fn new(
        model: &ModelFile,
        vocabulary: &SymbolVocabulary,
    ) -> Result<Option<Self>, ModelFileError> {
        let Some(spec) = &model.manifest.symbols else {
            return Ok(None);
        };
        if spec.attack_frames == 0 || spec.release_frames == 0 {
            return Ok(None);
        }
        let mut kinds = Vec::new();
        let mut stride = 1;
        for name in spec.trajectory_kinds.iter().rev() {
            let g = vocabulary.group(name).ok_or_else(|| {
                ModelFileError::Manifest(format!("trajectory kind `{name}` is not a symbol kind"))
            })?;
            kinds.push((g, stride));
            stride *= vocabulary.groups[g].classes.len();
        }
        let factors = |name: &str| -> Result<Vec<f32>, ModelFileError> {
            if !spec.levels {
                return Ok(Vec::new());
            }
            Ok(model
                .tensor(name)?
                .data
                .iter()
                .map(|db| 10f32.powf(db.clamp(LEVEL_RANGE_DB.0, LEVEL_RANGE_DB.1) / 20.0))
                .collect())
        };
        Ok(Some(Self {
            attack: model.tensor(ATTACK_TENSOR)?.data.clone(),
            release: model.tensor(RELEASE_TENSOR)?.data.clone(),
            attack_level: factors(ATTACK_LEVEL_TENSOR)?,
            release_level: factors(RELEASE_LEVEL_TENSOR)?,
            attack_frames: spec.attack_frames,
            release_frames: spec.release_frames,
            latent: model.manifest.architecture.latent,
            kinds,
        }))
    }

    /// Hops in a release template: how long a released note keeps sounding.
    pub fn release_frames(&self) -> usize {
        self.release_frames
    }

    /// The template group of `point`: the nearest class of each trajectory kind.
    pub fn group_of(&self, point: &SymbolPoint, vocabulary: &SymbolVocabulary) -> usize {
        let [_, _, dynamics, instrument] = vocabulary.musical_groups();
        self.kinds
            .iter()
            .map(|&(g, stride)| {
                let position = if Some(g) == dynamics {
                    point.dynamics
                } else if Some(g) == instrument {
                    point.instrument
                } else {
                    0.0
                };
                let last = vocabulary.groups[g].classes.len() - 1;
                let class = if position.is_finite() {
                    (position.round().max(0.0) as usize).min(last)
                } else {
                    0
                };
                class * stride
            })
            .sum()
    }

    /// The offset from the sustained centre at `phase` for template `group`. A held note
    /// stays on the attack template's last frame once it has played through.
    pub fn offset(&self, group: usize, phase: NotePhase) -> &[f32] {
        let table = match phase {
            NotePhase::Held(_) => &self.attack,
            NotePhase::Released(_) => &self.release,
        };
        let frame = self.frame(group, phase);
        &table[frame * self.latent..(frame + 1) * self.latent]
    }

    /// The amplitude factor at `phase` for template `group`: 1 for models without levels.
    pub fn level(&self, group: usize, phase: NotePhase) -> f32 {
        let table = match phase {
            NotePhase::Held(_) => &self.attack_level,
            NotePhase::Released(_) => &self.release_level,
        };
        table.get(self.frame(group, phase)).copied().unwrap_or(1.0)
    }

    /// Row of `phase` in `group`'s template (the last one once the template has played
    /// through).
    fn frame(&self, group: usize, phase: NotePhase) -> usize {
        let (frames, t) = match phase {
            NotePhase::Held(t) => (self.attack_frames, t),
            NotePhase::Released(t) => (self.release_frames, t),
        };
        group * frames + t.min(frames - 1)
    }
}
