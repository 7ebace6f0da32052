//! Note trajectories (issue 4, "notes that live"): for every class combination of the
//! trajectory kinds (instrument × dynamics), the mean path of the training notes' latent
//! means relative to each note's sustained centre — from note-on (attack, settling) and from
//! note-off (release), with the level the notes had at each point over what it decodes to. The
//! player follows them so a held note is not a frozen spectrum at a fixed level.

use std::path::Path;

use candle_core::{Device, Tensor};
use timbrespace_engine::model::manifest::SymbolSpec;
use timbrespace_engine::model::{Scaling, Tensor32};
use timbrespace_engine::stft::{magnitude_stft, StftConfig};
use timbrespace_engine::symbols::SymbolVocabulary;

use crate::audio_import::{load_audio, ImportError};
use crate::dataset::{select_frames, Dataset, FrameSelection};
use crate::export::encode_frames;
use crate::vae::Vae;

/// Seconds covered by the attack template.
pub const ATTACK_SECONDS: f32 = 0.6;
/// Seconds covered by the release template.
pub const RELEASE_SECONDS: f32 = 0.4;
/// Frames this far below a note's peak energy are before its onset.
const ONSET_DB: f32 = 30.0;

/// One note's scaled magnitude frames with its landmarks.
#[derive(Debug, Clone)]
pub struct NoteFrames {
    /// Scaled frames from the onset on, `count × bins`.
    pub frames: Vec<f32>,
    /// Frames in `frames`.
    pub count: usize,
    /// Frame (from the onset) where the release starts: the steepest fall in level after
    /// the sustained part, i.e. the key coming up.
    pub release: usize,
    /// Frames (from the onset) of the sustained part, whose mean latent is the note's centre.
    pub sustain: Vec<usize>,
}

/// Cut one note file into frames and find its onset, sustain and release.
pub fn note_frames(
    path: &Path,
    rate: u32,
    stft: &StftConfig,
    scaling: Scaling,
) -> Result<Option<NoteFrames>, ImportError> {
    let audio = load_audio(path, rate)?;
    let grid = magnitude_stft(stft, &audio.samples);
    let energies: Vec<f32> = (0..grid.frames())
        .map(|j| grid.frame(j).iter().map(|m| m * m).sum())
        .collect();
    let peak = energies.iter().copied().fold(0.0f32, f32::max);
    if peak <= 1e-12 {
        return Ok(None);
    }
    let floor = peak * 10f32.powf(-ONSET_DB / 10.0);
    let Some(onset) = energies.iter().position(|&e| e >= floor) else {
        return Ok(None);
    };
    let sustain: Vec<usize> = select_frames(&energies, FrameSelection::Stationary, 6.0)
        .into_iter()
        .filter(|&j| j >= onset)
        .map(|j| j - onset)
        .collect();
    let last_sustain = sustain.last().map_or(0, |&j| j + onset);
    let db: Vec<f32> = energies
        .iter()
        .map(|e| 10.0 * (e / peak).max(1e-12).log10())
        .collect();
    // The steepest two-frame fall after the loudest frame: where the key came up.
    let loudest = energies
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(j, _)| j);
    let release = (loudest.max(onset)..db.len().saturating_sub(2))
        .min_by(|&a, &b| (db[a + 2] - db[a]).total_cmp(&(db[b + 2] - db[b])))
        .unwrap_or(last_sustain)
        .max(onset + 1)
        - onset;
    let count = grid.frames() - onset;
    let frames = (onset..grid.frames())
        .flat_map(|j| grid.frame(j).iter().map(|&m| scaling.compress(m)))
        .collect();
    let sustain = if sustain.is_empty() { vec![0] } else { sustain };
    Ok(Some(NoteFrames {
        frames,
        count,
        release,
        sustain,
    }))
}

/// Template lengths in frames for a hop at a rate.
pub fn template_frames(rate: u32, hop: usize) -> (usize, usize) {
    let frames = |s: f32| ((s * rate as f32 / hop as f32).ceil() as usize).max(1);
    (frames(ATTACK_SECONDS), frames(RELEASE_SECONDS))
}

/// The fitted templates, per trajectory group.
pub struct TrajectoryTables {
    /// Mean latent offsets from the notes' centres after note-on, `[groups, frames, latent]`.
    pub attack: Tensor32,
    /// The same after note-off.
    pub release: Tensor32,
    /// Mean level in dB of the training notes over what their centre moved by `attack`
    /// decodes to, `[groups, frames]`.
    pub attack_level: Tensor32,
    /// The same for `release`.
    pub release_level: Tensor32,
}

/// One training note, as the level fit needs it.
struct FittedNote {
    /// Trajectory group.
    group: usize,
    /// Mean latent of its sustained frames.
    centre: Vec<f32>,
    /// Level in dB of the frame each attack template frame stands for, then of each release
    /// template frame.
    levels: Vec<f32>,
}

/// Energy below this (−120 dB re a unit magnitude) counts as silence in the level fit.
const SILENT_ENERGY: f32 = 1e-12;

/// Level in dB of a frame of raw magnitudes.
fn level_db(magnitudes: impl Iterator<Item = f32>) -> f32 {
    10.0 * magnitudes
        .map(|m| m * m)
        .sum::<f32>()
        .max(SILENT_ENERGY)
        .log10()
}

/// Mean latent offsets from each note's centre and levels, per trajectory group. Groups no
/// training note reached get the mean of all.
pub fn fit_trajectories(
    vae: &Vae,
    dataset: &Dataset,
    files: &[usize],
    spec: &SymbolSpec,
    vocabulary: &SymbolVocabulary,
) -> candle_core::Result<TrajectoryTables> {
    let latent = vae.arch.latent;
    let groups = spec.trajectory_groups(&dataset.label_sets);
    let (a_len, r_len) = (spec.attack_frames, spec.release_frames);
    let mut attack = GroupMeans::new(groups, a_len * latent);
    let mut release = GroupMeans::new(groups, r_len * latent);
    let stft = match dataset.signal.stft() {
        Ok(s) => s,
        Err(e) => return Err(candle_core::Error::Msg(e.to_string())),
    };
    let bins = stft.bins();
    let mut fitted = Vec::new();
    for &f in files {
        let Some(group) = file_group(dataset, f, spec, vocabulary) else {
            continue;
        };
        let file = &dataset.files[f];
        let Ok(Some(note)) = note_frames(
            &file.path,
            dataset.signal.sample_rate,
            &stft,
            dataset.scaling,
        ) else {
            continue;
        };
        let mu = encode_frames(vae, &note.frames)?;
        let at = |j: usize| &mu[j.min(note.count - 1) * latent..][..latent];
        let mut centre = vec![0.0f64; latent];
        for &j in &note.sustain {
            for (c, &m) in centre.iter_mut().zip(at(j)) {
                *c += f64::from(m) / note.sustain.len() as f64;
            }
        }
        // Held longer than the recording: stay where the note was before its release.
        let attack_frame = |t: usize| t.min(note.release.saturating_sub(1));
        let release_frame = |t: usize| note.release + t;
        let offsets = |frame: &dyn Fn(usize) -> usize, len: usize| -> Vec<f64> {
            (0..len)
                .flat_map(|t| {
                    at(frame(t))
                        .iter()
                        .zip(&centre)
                        .map(|(&m, c)| f64::from(m) - c)
                })
                .collect()
        };
        attack.add(group, &offsets(&attack_frame, a_len));
        release.add(group, &offsets(&release_frame, r_len));
        let level = |j: usize| {
            let frame = &note.frames[j.min(note.count - 1) * bins..][..bins];
            level_db(frame.iter().map(|&v| dataset.scaling.expand(v)))
        };
        fitted.push(FittedNote {
            group,
            centre: centre.iter().map(|&c| c as f32).collect(),
            levels: (0..a_len)
                .map(|t| level(attack_frame(t)))
                .chain((0..r_len).map(|t| level(release_frame(t))))
                .collect(),
        });
    }
    let (attack, release) = (attack.finish(), release.finish());
    let (attack_level, release_level) = fit_levels(
        vae,
        dataset.scaling,
        &fitted,
        groups,
        (&attack, &release),
        (a_len, r_len),
    )?;
    Ok(TrajectoryTables {
        attack: Tensor32::new(vec![groups, a_len, latent], attack),
        release: Tensor32::new(vec![groups, r_len, latent], release),
        attack_level: Tensor32::new(vec![groups, a_len], attack_level),
        release_level: Tensor32::new(vec![groups, r_len], release_level),
    })
}

/// Per group and template frame, the mean over its notes of the note's level minus the level
/// of its centre moved by the group's offset and decoded: how much louder or softer than the
/// decoded point the training notes are at that point of their life.
fn fit_levels(
    vae: &Vae,
    scaling: Scaling,
    notes: &[FittedNote],
    groups: usize,
    (attack, release): (&[f32], &[f32]),
    (a_len, r_len): (usize, usize),
) -> candle_core::Result<(Vec<f32>, Vec<f32>)> {
    let latent = vae.arch.latent;
    let frames = a_len + r_len;
    let mut attack_level = GroupMeans::new(groups, a_len);
    let mut release_level = GroupMeans::new(groups, r_len);
    for chunk in notes.chunks((ENCODE_ROWS / frames.max(1)).max(1)) {
        let mut z = Vec::with_capacity(chunk.len() * frames * latent);
        for note in chunk {
            let rows = attack[note.group * a_len * latent..][..a_len * latent]
                .chunks(latent)
                .chain(release[note.group * r_len * latent..][..r_len * latent].chunks(latent));
            for offset in rows {
                z.extend(note.centre.iter().zip(offset).map(|(c, o)| c + o));
            }
        }
        let n = z.len() / latent;
        let decoded = vae
            .decode(&Tensor::from_vec(z, (n, latent), &Device::Cpu)?)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let bins = decoded.len() / n.max(1);
        for (note, rows) in chunk.iter().zip(decoded.chunks(frames * bins)) {
            let gaps: Vec<f64> = rows
                .chunks(bins)
                .zip(&note.levels)
                .map(|(row, &real)| {
                    let model = level_db(row.iter().map(|&v| scaling.expand(v)));
                    f64::from(real - model)
                })
                .collect();
            attack_level.add(note.group, &gaps[..a_len]);
            release_level.add(note.group, &gaps[a_len..]);
        }
    }
    Ok((attack_level.finish(), release_level.finish()))
}

/// Latent points decoded per batch by the level fit.
const ENCODE_ROWS: usize = 4096;

/// Running sums of fixed-length rows per group, plus one slot for all groups together.
struct GroupMeans {
    /// Groups.
    groups: usize,
    /// Values per row.
    len: usize,
    /// `(groups + 1) × len` sums, the last row over every note.
    sums: Vec<f64>,
    /// Notes added per slot.
    counts: Vec<usize>,
}

impl GroupMeans {
    fn new(groups: usize, len: usize) -> Self {
        Self {
            groups,
            len,
            sums: vec![0.0; (groups + 1) * len],
            counts: vec![0; groups + 1],
        }
    }

    /// Add one note's row to its group and to the all-groups slot.
    fn add(&mut self, group: usize, row: &[f64]) {
        for slot in [group, self.groups] {
            self.counts[slot] += 1;
            self.sums[slot * self.len..(slot + 1) * self.len]
                .iter_mut()
                .zip(row)
                .for_each(|(s, v)| *s += v);
        }
    }

    /// Mean row of each group; a group without notes gets the mean over all of them.
    fn finish(&self) -> Vec<f32> {
        (0..self.groups)
            .flat_map(|g| {
                let slot = if self.counts[g] > 0 { g } else { self.groups };
                let n = self.counts[slot].max(1) as f64;
                self.sums[slot * self.len..(slot + 1) * self.len]
                    .iter()
                    .map(move |v| (v / n) as f32)
            })
            .collect()
    }
}

/// The trajectory group of file `f`, or `None` if one of its trajectory labels is unknown.
pub fn file_group(
    dataset: &Dataset,
    f: usize,
    spec: &SymbolSpec,
    vocabulary: &SymbolVocabulary,
) -> Option<usize> {
    let mut group = 0;
    for kind in &spec.trajectory_kinds {
        let column = dataset.label_sets.iter().position(|l| &l.name == kind)?;
        let classes = vocabulary.groups[vocabulary.group(kind)?].classes.len();
        group = group * classes + dataset.files[f].labels[column]?;
    }
    Some(group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};
    use timbrespace_engine::model::manifest::{ArchKind, Architecture};

    #[test]
    fn levels_are_how_much_louder_the_notes_are_than_their_decoded_points() {
        let arch = Architecture {
            kind: ArchKind::Mlp,
            bins: 33,
            latent: 4,
            hidden: vec![8],
            conv: None,
            sigma: 0.1,
        };
        let varmap = VarMap::new();
        let vae = Vae::new(
            &arch,
            &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )
        .expect("a random VAE");
        let scaling = Scaling { gain: 10.0 };
        let (groups, a_len, r_len) = (2, 3, 2);
        // No offsets: each note decodes to one level at every frame while it decays 6 dB a
        // frame; only group 0 has notes.
        let attack = vec![0.0; groups * a_len * arch.latent];
        let release = vec![0.0; groups * r_len * arch.latent];
        let note = |c: f32, start: f32| FittedNote {
            group: 0,
            centre: vec![c; arch.latent],
            levels: (0..a_len + r_len).map(|t| start - 6.0 * t as f32).collect(),
        };
        let notes = [note(0.5, -20.0), note(-1.0, -35.0)];
        let (attack_level, release_level) = fit_levels(
            &vae,
            scaling,
            &notes,
            groups,
            (&attack, &release),
            (a_len, r_len),
        )
        .expect("fits");
        let decoded_db = |c: f32| {
            let z = Tensor::from_vec(vec![c; arch.latent], (1, arch.latent), &Device::Cpu)?;
            let row = vae.decode(&z)?.flatten_all()?.to_vec1::<f32>()?;
            candle_core::Result::Ok(level_db(row.iter().map(|&v| scaling.expand(v))))
        };
        let first = ((-20.0 - decoded_db(0.5).expect("decodes"))
            + (-35.0 - decoded_db(-1.0).expect("decodes")))
            / 2.0;
        for (t, level) in attack_level[..a_len]
            .iter()
            .chain(&release_level[..r_len])
            .enumerate()
        {
            let expected = first - 6.0 * t as f32;
            assert!(
                (level - expected).abs() < 1e-3,
                "frame {t}: {level} vs {expected}"
            );
        }
        // A group no note reached takes the mean over all notes.
        assert_eq!(attack_level[a_len..], attack_level[..a_len]);
        assert_eq!(release_level[r_len..], release_level[..r_len]);
    }
}
