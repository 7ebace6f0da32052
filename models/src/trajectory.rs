//! Note trajectories (issue 4, "notes that live"): for every class combination of the
//! trajectory kinds (instrument × dynamics), the mean path of the training notes' latent
//! means relative to each note's sustained centre — from note-on (attack, settling) and from
//! note-off (release). The player follows them so a held note is not a frozen spectrum.

use std::path::Path;

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

/// Mean latent offsets from each note's centre, per trajectory group: `(attack, release)`
/// tensors `[groups, frames, latent]`. Groups no training note reached get the mean of all.
pub fn fit_trajectories(
    vae: &Vae,
    dataset: &Dataset,
    files: &[usize],
    spec: &SymbolSpec,
    vocabulary: &SymbolVocabulary,
) -> candle_core::Result<(Tensor32, Tensor32)> {
    let latent = vae.arch.latent;
    let groups = spec.trajectory_groups(&dataset.label_sets);
    let (a_len, r_len) = (spec.attack_frames, spec.release_frames);
    let mut attack = vec![0.0f64; (groups + 1) * a_len * latent];
    let mut release = vec![0.0f64; (groups + 1) * r_len * latent];
    let mut counts = vec![0usize; groups + 1];
    let stft = match dataset.signal.stft() {
        Ok(s) => s,
        Err(e) => return Err(candle_core::Error::Msg(e.to_string())),
    };
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
        for slot in [group, groups] {
            counts[slot] += 1;
            for t in 0..a_len {
                // Held longer than the recording: stay where the note was before its release.
                let j = t.min(note.release.saturating_sub(1));
                let row = &mut attack[(slot * a_len + t) * latent..][..latent];
                row.iter_mut()
                    .zip(at(j))
                    .zip(&centre)
                    .for_each(|((r, &m), c)| *r += f64::from(m) - c);
            }
            for t in 0..r_len {
                let row = &mut release[(slot * r_len + t) * latent..][..latent];
                row.iter_mut()
                    .zip(at(note.release + t))
                    .zip(&centre)
                    .for_each(|((r, &m), c)| *r += f64::from(m) - c);
            }
        }
    }
    let finish = |table: &[f64], len: usize| -> Vec<f32> {
        (0..groups)
            .flat_map(|g| {
                let slot = if counts[g] > 0 { g } else { groups };
                let n = counts[slot].max(1) as f64;
                table[slot * len * latent..(slot + 1) * len * latent]
                    .iter()
                    .map(move |v| (v / n) as f32)
            })
            .collect()
    };
    Ok((
        Tensor32::new(vec![groups, a_len, latent], finish(&attack, a_len)),
        Tensor32::new(vec![groups, r_len, latent], finish(&release, r_len)),
    ))
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
