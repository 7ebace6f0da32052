//! Scores of a SCAN model on held-out notes (issue 4): audio → symbol accuracy against a PCA +
//! linear-classifier baseline; symbol → sound pitch (YIN), level and brightness per dynamics;
//! and how well note trajectories follow real notes' spectral envelopes over time compared
//! with a frozen spectrum.

use std::collections::BTreeMap;

use serde::Serialize;
use timbrespace_engine::descriptors::{DescriptorSettings, Moments};
use timbrespace_engine::model::{DecoderKernel, ModelFile, ModelFileError};
use timbrespace_engine::pitch::{cents, peak_normalised, pitch_track, YinSettings};
use timbrespace_engine::player::{NoteEvent, NotePlayer, PlayerError};
use timbrespace_engine::stft::magnitude_stft;
use timbrespace_engine::symbols::{
    NotePhase, SymbolEncoder, SymbolPoint, SymbolReader, SymbolVocabulary, Trajectories,
    DYNAMICS_MARKS, PITCH_CLASSES,
};
use timbrespace_engine::voice::PhaseMode;

use crate::audio_import::load_audio;
use crate::dataset::{Dataset, Split};
use crate::evaluate::{linear_probe, PcaBasis};
use crate::export::encode_means;
use crate::notes::key_frequency;
use crate::trajectory::note_frames;
use crate::vae::Vae;

/// Seconds each rendered test note is held.
const HOLD_SECONDS: f64 = 0.8;
/// Seconds skipped after note-on before measuring pitch and level (the attack).
const SETTLE_SECONDS: f64 = 0.15;
/// Rendered notes whose pitch is within this many cents count as in tune.
const IN_TUNE_CENTS: f32 = 30.0;
/// A louder marking counts as brighter when its spectral centroid is this many times the
/// softer one's.
pub const BRIGHTER_RATIO: f32 = 1.05;
/// Velocity layers differ in timbre when the louder one is brighter in this share of pairs.
pub const TIMBRE_SHARE: f64 = 0.75;
/// Floor of the log-spectral distance, dB below a note's loudest bin.
const LSD_FLOOR_DB: f32 = 60.0;

/// Accuracy of one symbol group on held-out notes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupAccuracy {
    /// Per frame, reading p(y|z) at the frame's posterior mean.
    pub frames: f64,
    /// Per note, from the mean probabilities over the note's frames.
    pub notes: f64,
    /// Baseline: softmax regression on PCA codes of the same size, per frame.
    pub pca_frames: Option<f64>,
    /// Classes of the group.
    pub classes: usize,
}

/// Pitch of rendered notes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PitchScore {
    /// Notes rendered (one per held-out note's symbols).
    pub notes: usize,
    /// Fraction within ±30 cents of the MIDI pitch.
    pub in_tune: f64,
    /// Median absolute error in cents.
    pub median_abs_cents: f64,
    /// Fraction of the real held-out notes the same estimator reads within ±30 cents over the
    /// same span: how far the measure itself can be trusted on this data.
    pub data_in_tune: f64,
    /// Fraction of rendered notes within ±30 cents among those whose real note is.
    pub in_tune_where_data_is: f64,
    /// The same per instrument (models with an instrument symbol), with the notes that missed:
    /// where a model's failures sit (one instrument's range ends, its quietest layer).
    pub by_instrument: Vec<InstrumentPitch>,
}

/// Rendered pitch of one instrument's held-out notes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstrumentPitch {
    /// The instrument.
    pub instrument: String,
    /// Its rendered held-out notes.
    pub notes: usize,
    /// Share within ±30 cents.
    pub in_tune: f64,
    /// Share of its real notes the estimator reads within ±30 cents.
    pub data_in_tune: f64,
    /// The held-out files whose rendering missed (file stems, e.g. `Piano_E1_pp`), with the
    /// rendering's error in cents (`None`: unvoiced).
    pub missed: Vec<(String, Option<f32>)>,
}

/// Louder dynamics against softer ones, same instrument and key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DynamicsScore {
    /// Pairs compared.
    pub pairs: usize,
    /// Fraction of pairs where the rendered louder marking has the higher RMS level.
    pub louder: f64,
    /// Fraction where the rendered louder marking has the higher spectral centroid.
    pub brighter: f64,
    /// The same for the real held-out notes: how often the data itself is brighter.
    pub data_brighter: f64,
}

/// Dynamics read from one instrument's held-out notes, and whether its soundfont velocity
/// layers differ in timbre at all (if they differ only in level, a level-blind reading cannot
/// tell them apart).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstrumentDynamics {
    /// The instrument.
    pub instrument: String,
    /// Its held-out notes.
    pub notes: usize,
    /// Share whose dynamics the audio codes read right (per note).
    pub accuracy: f64,
    /// Share of same-key pairs in the whole dataset where the louder marking is at least
    /// [`BRIGHTER_RATIO`] brighter (spectral centroid).
    pub louder_brighter: f64,
    /// Whether its velocity layers differ in timbre: `louder_brighter` ≥ [`TIMBRE_SHARE`].
    pub timbre_differs: bool,
}

/// Log-spectral distance (dB per frame) between model and real held-out notes over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrajectoryScore {
    /// Notes compared.
    pub notes: usize,
    /// Following the trajectory, attack frames.
    pub attack_db: f64,
    /// Following the trajectory, sustain frames.
    pub sustain_db: f64,
    /// Frozen centre spectrum, attack frames.
    pub frozen_attack_db: f64,
    /// Frozen centre spectrum, sustain frames.
    pub frozen_sustain_db: f64,
}

/// Everything the symbol evaluation measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SymbolReport {
    /// Held-out notes with every symbol label.
    pub test_notes: usize,
    /// Accuracy per group (pitch, octave, dynamics, instrument).
    pub accuracy: BTreeMap<String, GroupAccuracy>,
    /// Rendered pitch.
    pub pitch: PitchScore,
    /// Level and brightness per dynamics.
    pub dynamics: DynamicsScore,
    /// Trajectory fidelity, when the model has trajectories.
    pub trajectories: Option<TrajectoryScore>,
    /// Dynamics per instrument (models with dynamics and instrument symbols).
    pub dynamics_by_instrument: Vec<InstrumentDynamics>,
}

/// Why the symbol evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum SymbolEvalError {
    /// candle failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// The model is unusable.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// The model cannot play notes.
    #[error(transparent)]
    Player(#[from] PlayerError),
}

/// A held-out note: its file and symbols.
struct TestNote {
    /// Dataset file index.
    file: usize,
    /// Class per vocabulary group.
    classes: Vec<usize>,
    /// MIDI key from pitch class and octave, if both are symbols.
    key: Option<i32>,
}

/// Score `model` (trained with symbols) on `dataset`'s held-out notes; `None` without symbols.
pub fn evaluate_symbols(
    model: &ModelFile,
    dataset: &Dataset,
    split: &Split,
    seed: u64,
) -> Result<Option<SymbolReport>, SymbolEvalError> {
    let Some(mut reader) = SymbolReader::new(model)? else {
        return Ok(None);
    };
    let vocabulary = reader.vocabulary().clone();
    let notes = test_notes(dataset, split, &vocabulary);
    let vae = Vae::from_tensors(&model.manifest.architecture, &model.tensors)?;
    let (accuracy, dynamics_right) = accuracy(&vae, &mut reader, dataset, split, &notes, seed)?;
    let rendered = render_notes(model, dataset, &vocabulary, &notes)?;
    Ok(Some(SymbolReport {
        test_notes: notes.len(),
        accuracy,
        pitch: pitch_score(dataset, &vocabulary, &notes, &rendered),
        dynamics: dynamics_score(dataset, &vocabulary, &notes, &rendered),
        trajectories: trajectory_score(model, dataset, &vocabulary, &notes)?,
        dynamics_by_instrument: dynamics_by_instrument(
            dataset,
            &vocabulary,
            &notes,
            &dynamics_right,
        ),
    }))
}

/// Held-out files with every symbol label.
fn test_notes(dataset: &Dataset, split: &Split, vocabulary: &SymbolVocabulary) -> Vec<TestNote> {
    let columns: Vec<Option<usize>> = vocabulary
        .groups
        .iter()
        .map(|g| dataset.label_sets.iter().position(|l| l.name == g.name))
        .collect();
    let [pitch, octave, _, _] = vocabulary.musical_groups();
    split
        .test_files
        .iter()
        .filter_map(|&file| {
            let classes: Option<Vec<usize>> = columns
                .iter()
                .map(|c| c.and_then(|c| dataset.files[file].labels[c]))
                .collect();
            let classes = classes?;
            let key = match (pitch, octave) {
                (Some(p), Some(o)) => {
                    let name = &vocabulary.groups[p].classes[classes[p]];
                    let semitone = PITCH_CLASSES.iter().position(|c| c == name)? as i32;
                    let number: i32 = vocabulary.groups[o].classes[classes[o]].parse().ok()?;
                    Some((number + 1) * 12 + semitone)
                }
                _ => None,
            };
            Some(TestNote { file, classes, key })
        })
        .collect()
}

/// Frame and note accuracy per group, with the PCA baseline.
fn accuracy(
    vae: &Vae,
    reader: &mut SymbolReader,
    dataset: &Dataset,
    split: &Split,
    notes: &[TestNote],
    seed: u64,
) -> Result<(BTreeMap<String, GroupAccuracy>, Vec<bool>), SymbolEvalError> {
    let vocabulary = reader.vocabulary().clone();
    let [_, _, dynamics_group, _] = vocabulary.musical_groups();
    let mut dynamics_right = Vec::with_capacity(notes.len());
    let groups = vocabulary.groups.len();
    let mut frame_hits = vec![0usize; groups];
    let mut note_hits = vec![0usize; groups];
    let mut frames = 0usize;
    let mut p = vec![0.0; vocabulary.width()];
    let mut test_frames = Vec::new();
    let mut test_labels = Vec::new();
    for note in notes {
        let range: Vec<usize> = dataset.files[note.file].frames.clone().collect();
        let latents = encode_means(vae, dataset, &range)?;
        let mut mean = vec![0.0f32; vocabulary.width()];
        for z in latents.chunks_exact(vae.arch.latent) {
            reader.probabilities(z, &mut p);
            mean.iter_mut().zip(&p).for_each(|(m, v)| *m += v);
            for (g, hits) in frame_hits.iter_mut().enumerate() {
                *hits += usize::from(vocabulary.best(g, &p).0 == note.classes[g]);
            }
        }
        for (g, hits) in note_hits.iter_mut().enumerate() {
            let right = vocabulary.best(g, &mean).0 == note.classes[g];
            *hits += usize::from(right);
            if Some(g) == dynamics_group {
                dynamics_right.push(right);
            }
        }
        frames += range.len();
        test_frames.extend(range.iter().flat_map(|&i| dataset.frame(i).iter().copied()));
        test_labels.extend(range.iter().map(|_| note.classes.clone()));
    }
    let train: Vec<f32> = split
        .train
        .iter()
        .flat_map(|&i| dataset.frame(i).iter().copied())
        .collect();
    let k = vae.arch.latent;
    let pca = PcaBasis::fit(&train, dataset.bins, k, seed);
    let (train_codes, test_codes) = (pca.codes(&train), pca.codes(&test_frames));
    let owner = dataset.frame_files();
    let mut out = BTreeMap::new();
    for (g, group) in vocabulary.groups.iter().enumerate() {
        let column = dataset.label_sets.iter().position(|l| l.name == group.name);
        let train_y: Vec<Option<usize>> = split
            .train
            .iter()
            .map(|&i| column.and_then(|c| dataset.files[owner[i]].labels[c]))
            .collect();
        let test_y: Vec<Option<usize>> = test_labels.iter().map(|c| Some(c[g])).collect();
        let baseline = linear_probe(
            &train_codes,
            &train_y,
            &test_codes,
            &test_y,
            k,
            group.classes.len(),
        );
        out.insert(
            group.name.clone(),
            GroupAccuracy {
                frames: frame_hits[g] as f64 / frames.max(1) as f64,
                notes: note_hits[g] as f64 / notes.len().max(1) as f64,
                pca_frames: baseline.map(|b| b.accuracy),
                classes: group.classes.len(),
            },
        );
    }
    Ok((out, dynamics_right))
}

/// Dynamics accuracy per instrument, with whether its velocity layers differ in timbre (from
/// every file of the dataset: same instrument and key, two markings).
fn dynamics_by_instrument(
    dataset: &Dataset,
    vocabulary: &SymbolVocabulary,
    notes: &[TestNote],
    right: &[bool],
) -> Vec<InstrumentDynamics> {
    let [pitch, octave, dynamics, instrument] = vocabulary.musical_groups();
    let (Some(d), Some(i)) = (dynamics, instrument) else {
        return Vec::new();
    };
    let column = |g: usize| {
        dataset
            .label_sets
            .iter()
            .position(|l| l.name == vocabulary.groups[g].name)
    };
    let (Some(dc), Some(ic)) = (column(d), column(i)) else {
        return Vec::new();
    };
    let key_columns: Vec<usize> = [pitch, octave]
        .into_iter()
        .flatten()
        .filter_map(column)
        .collect();
    let settings = DescriptorSettings::new(
        &match dataset.signal.stft() {
            Ok(stft) => stft,
            Err(_) => return Vec::new(),
        },
        dataset.signal.sample_rate as f32,
    );
    // (instrument class, key labels, dynamics class, brightness) of every labelled file.
    let files: Vec<(usize, Vec<Option<usize>>, usize, f32)> = dataset
        .files
        .iter()
        .filter_map(|f| {
            let raw: Vec<f32> = f
                .frames
                .clone()
                .flat_map(|k| dataset.frame(k).iter().map(|&v| dataset.scaling.expand(v)))
                .collect();
            let key = key_columns.iter().map(|&c| f.labels[c]).collect();
            Some((
                f.labels[ic]?,
                key,
                f.labels[dc]?,
                spectral_centroid(&raw, &settings, dataset.bins),
            ))
        })
        .collect();
    let classes = &vocabulary.groups[i].classes;
    (0..classes.len())
        .filter_map(|class| {
            let held: Vec<bool> = notes
                .iter()
                .zip(right)
                .filter(|(n, _)| n.classes[i] == class)
                .map(|(_, &r)| r)
                .collect();
            if held.is_empty() {
                return None;
            }
            let own: Vec<&(usize, Vec<Option<usize>>, usize, f32)> =
                files.iter().filter(|f| f.0 == class).collect();
            let (mut pairs, mut brighter) = (0usize, 0usize);
            for a in &own {
                for b in &own {
                    if a.1 == b.1 && a.2 < b.2 && a.3 > 0.0 {
                        pairs += 1;
                        brighter += usize::from(b.3 >= BRIGHTER_RATIO * a.3);
                    }
                }
            }
            let louder_brighter = brighter as f64 / pairs.max(1) as f64;
            Some(InstrumentDynamics {
                instrument: classes[class].clone(),
                notes: held.len(),
                accuracy: held.iter().filter(|&&r| r).count() as f64 / held.len() as f64,
                louder_brighter,
                timbre_differs: pairs > 0 && louder_brighter >= TIMBRE_SHARE,
            })
        })
        .collect()
}

/// What a rendered test note measured.
struct RenderedNote {
    /// Median YIN pitch error in cents, `None` if unvoiced.
    cents: Option<f32>,
    /// The same for the real held-out note over the same span: where the estimator itself
    /// fails on the data (e.g. a piano's inharmonic bass), a rendered note cannot be judged.
    data_cents: Option<f32>,
    /// RMS level of the held part.
    rms: f32,
    /// Spectral centroid of the held part in Hz.
    centroid: f32,
}

/// Render each held-out note's symbols through the note player.
fn render_notes(
    model: &ModelFile,
    dataset: &Dataset,
    vocabulary: &SymbolVocabulary,
    notes: &[TestNote],
) -> Result<Vec<Option<RenderedNote>>, SymbolEvalError> {
    let rate = model.manifest.signal.sample_rate;
    let stft = model.manifest.signal.stft()?;
    let mode = PhaseMode::Rtpghi(timbrespace_engine::phase::rtpghi::Lookahead::One);
    let mut player = NotePlayer::for_notes(model, mode, 1, 1024)?;
    let [_, _, dynamics, instrument] = vocabulary.musical_groups();
    let hold = (HOLD_SECONDS * f64::from(rate)) as usize;
    let settle = (SETTLE_SECONDS * f64::from(rate)) as usize;
    let latency = player.latency_samples();
    let mut rendered = Vec::with_capacity(notes.len());
    for note in notes {
        let Some(key) = note
            .key
            .and_then(|k| u8::try_from(k).ok())
            .filter(|&k| k < 128)
        else {
            rendered.push(None);
            continue;
        };
        player.reset();
        player.set_instrument(instrument.map_or(0.0, |g| note.classes[g] as f32));
        let velocity = dynamics.map_or(100, |g| {
            let mark = &vocabulary.groups[g].classes[note.classes[g]];
            DYNAMICS_MARKS
                .iter()
                .find(|(m, _)| m == mark)
                .map_or(100, |(_, v)| *v)
        });
        player.handle(NoteEvent::NoteOn {
            channel: 0,
            key,
            velocity,
        });
        let mut audio = vec![0.0; hold + latency];
        player.render(&mut audio);
        let held = &audio[latency + settle..];
        let real = load_audio(&dataset.files[note.file].path, rate)
            .ok()
            .and_then(|a| held_pitch_error(a.samples.get(settle..hold)?, rate, key));
        let rms = (held.iter().map(|v| v * v).sum::<f32>() / held.len().max(1) as f32).sqrt();
        let grid = magnitude_stft(&stft, held);
        rendered.push(Some(RenderedNote {
            cents: held_pitch_error(held, rate, key),
            data_cents: real,
            rms,
            centroid: spectral_centroid(
                grid.as_slice(),
                &DescriptorSettings::new(&stft, rate as f32),
                stft.bins(),
            ),
        }));
    }
    Ok(rendered)
}

/// Median YIN pitch error in cents of `audio` against MIDI `key`, `None` when at most half of
/// its frames are voiced.
fn held_pitch_error(audio: &[f32], rate: u32, key: u8) -> Option<f32> {
    // Level-free: a piano's high notes have decayed far by the time they are measured, in the
    // data as in renderings.
    let track = pitch_track(
        &peak_normalised(audio),
        rate as f32,
        2048,
        256,
        &YinSettings::default(),
    );
    let target = key_frequency(key) as f32;
    let mut errors: Vec<f32> = track.iter().flatten().map(|&f| cents(f, target)).collect();
    errors.sort_by(f32::total_cmp);
    (errors.len() * 2 > track.len()).then(|| errors[errors.len() / 2])
}

/// Spectral centroid in Hz of the summed energy of magnitude frames (`n × bins`).
fn spectral_centroid(frames: &[f32], settings: &DescriptorSettings, bins: usize) -> f32 {
    let mut moments = Moments::default();
    frames
        .chunks_exact(bins)
        .for_each(|f| moments.add(f, settings));
    moments.centroid()
}

/// Whether a pitch error is within ±30 cents (`None`, unvoiced, is not).
fn in_tune(cents: Option<f32>) -> bool {
    cents.is_some_and(|c| c.abs() <= IN_TUNE_CENTS)
}

/// `hits` of `of` as a fraction (0 of nothing).
fn share(hits: usize, of: usize) -> f64 {
    hits as f64 / of.max(1) as f64
}

fn pitch_score(
    dataset: &Dataset,
    vocabulary: &SymbolVocabulary,
    notes: &[TestNote],
    rendered: &[Option<RenderedNote>],
) -> PitchScore {
    let by_instrument = vocabulary.musical_groups()[3].map_or_else(Vec::new, |group| {
        let played: Vec<(usize, String, &RenderedNote)> = notes
            .iter()
            .zip(rendered)
            .filter_map(|(n, r)| {
                let path = &dataset.files[n.file].path;
                let stem = path.file_stem().unwrap_or(path.as_os_str());
                Some((
                    n.classes[group],
                    stem.to_string_lossy().into_owned(),
                    r.as_ref()?,
                ))
            })
            .collect();
        instrument_pitch(&vocabulary.groups[group].classes, &played)
    });
    let notes: Vec<&RenderedNote> = rendered.iter().flatten().collect();
    let mut errors: Vec<f32> = notes
        .iter()
        .map(|r| r.cents.map_or(f32::INFINITY, f32::abs))
        .collect();
    errors.sort_by(f32::total_cmp);
    let measurable: Vec<&&RenderedNote> = notes.iter().filter(|r| in_tune(r.data_cents)).collect();
    PitchScore {
        notes: notes.len(),
        in_tune: share(
            errors.iter().filter(|&&e| e <= IN_TUNE_CENTS).count(),
            notes.len(),
        ),
        median_abs_cents: errors
            .get(errors.len() / 2)
            .map_or(f64::NAN, |&e| f64::from(e)),
        data_in_tune: share(measurable.len(), notes.len()),
        in_tune_where_data_is: share(
            measurable.iter().filter(|r| in_tune(r.cents)).count(),
            measurable.len(),
        ),
        by_instrument,
    }
}

/// Rendered pitch per instrument class (named `classes`) of `played` notes: (class, file
/// stem, what its rendering measured). Classes without notes are left out.
fn instrument_pitch(
    classes: &[String],
    played: &[(usize, String, &RenderedNote)],
) -> Vec<InstrumentPitch> {
    classes
        .iter()
        .enumerate()
        .filter_map(|(class, name)| {
            let own: Vec<&(usize, String, &RenderedNote)> =
                played.iter().filter(|(c, _, _)| *c == class).collect();
            if own.is_empty() {
                return None;
            }
            let missed: Vec<(String, Option<f32>)> = own
                .iter()
                .filter(|(_, _, r)| !in_tune(r.cents))
                .map(|(_, stem, r)| (stem.clone(), r.cents))
                .collect();
            Some(InstrumentPitch {
                instrument: name.clone(),
                notes: own.len(),
                in_tune: share(own.len() - missed.len(), own.len()),
                data_in_tune: share(
                    own.iter().filter(|(_, _, r)| in_tune(r.data_cents)).count(),
                    own.len(),
                ),
                missed,
            })
        })
        .collect()
}

/// Compare louder and softer markings of the same instrument and key, rendered and real.
fn dynamics_score(
    dataset: &Dataset,
    vocabulary: &SymbolVocabulary,
    notes: &[TestNote],
    rendered: &[Option<RenderedNote>],
) -> DynamicsScore {
    let [_, _, dynamics, instrument] = vocabulary.musical_groups();
    let Some(d) = dynamics else {
        return DynamicsScore {
            pairs: 0,
            louder: f64::NAN,
            brighter: f64::NAN,
            data_brighter: f64::NAN,
        };
    };
    let (mut pairs, mut louder, mut brighter, mut data_brighter) = (0, 0, 0, 0);
    let stft = dataset.signal.stft().ok();
    let data_centroid = |file: usize| -> Option<f32> {
        let stft = stft.as_ref()?;
        let note = note_frames(
            &dataset.files[file].path,
            dataset.signal.sample_rate,
            stft,
            dataset.scaling,
        )
        .ok()??;
        let raw: Vec<f32> = note
            .frames
            .iter()
            .map(|&v| dataset.scaling.expand(v))
            .collect();
        Some(spectral_centroid(
            &raw,
            &DescriptorSettings::new(stft, dataset.signal.sample_rate as f32),
            dataset.bins,
        ))
    };
    for (i, a) in notes.iter().enumerate() {
        for (j, b) in notes.iter().enumerate() {
            let same = a.key == b.key && instrument.is_none_or(|g| a.classes[g] == b.classes[g]);
            if !same || a.classes[d] >= b.classes[d] {
                continue;
            }
            let (Some(ra), Some(rb)) = (&rendered[i], &rendered[j]) else {
                continue;
            };
            pairs += 1;
            louder += usize::from(rb.rms > ra.rms);
            brighter += usize::from(rb.centroid > ra.centroid);
            if let (Some(ca), Some(cb)) = (data_centroid(a.file), data_centroid(b.file)) {
                data_brighter += usize::from(cb > ca);
            }
        }
    }
    DynamicsScore {
        pairs,
        louder: share(louder, pairs),
        brighter: share(brighter, pairs),
        data_brighter: share(data_brighter, pairs),
    }
}

/// Log-spectral distance of trajectory-following and frozen spectra to real held-out notes.
fn trajectory_score(
    model: &ModelFile,
    dataset: &Dataset,
    vocabulary: &SymbolVocabulary,
    notes: &[TestNote],
) -> Result<Option<TrajectoryScore>, SymbolEvalError> {
    let Some(trajectories) = Trajectories::new(model, vocabulary)? else {
        return Ok(None);
    };
    let Some(mut encoder) = SymbolEncoder::new(model)? else {
        return Ok(None);
    };
    let spec = model
        .manifest
        .symbols
        .as_ref()
        .map_or(0, |s| s.attack_frames);
    let mut decoder = DecoderKernel::new(model, 1)?;
    let stft = model.manifest.signal.stft()?;
    let (latent, bins) = (decoder.latent(), decoder.bins());
    let [_, _, dynamics, instrument] = vocabulary.musical_groups();
    let (mut centre, mut z) = (vec![0.0; latent], vec![0.0; latent]);
    let (mut frozen, mut moving) = (vec![0.0; bins], vec![0.0; bins]);
    let mut sums = [0.0f64; 4];
    let mut counts = [0usize; 2];
    let mut compared = 0;
    for note in notes {
        let Some(key) = note.key else { continue };
        let Ok(Some(real)) = note_frames(
            &dataset.files[note.file].path,
            model.manifest.signal.sample_rate,
            &stft,
            dataset.scaling,
        ) else {
            continue;
        };
        let point = SymbolPoint {
            key: key as f32,
            dynamics: dynamics.map_or(0.0, |g| note.classes[g] as f32),
            instrument: instrument.map_or(0.0, |g| note.classes[g] as f32),
        };
        encoder.centre(point, &mut centre);
        let group = trajectories.group_of(&point, vocabulary);
        decoder.decode_magnitudes(&centre, &mut frozen);
        compared += 1;
        for t in 0..real.release.min(real.count) {
            z.iter_mut()
                .zip(&centre)
                .zip(trajectories.offset(group, NotePhase::Held(t)))
                .for_each(|((zv, c), o)| *zv = c + o);
            decoder.decode_magnitudes(&z, &mut moving);
            let level = trajectories.level(group, NotePhase::Held(t));
            moving.iter_mut().for_each(|m| *m *= level);
            let actual: Vec<f32> = real.frames[t * bins..(t + 1) * bins]
                .iter()
                .map(|&v| dataset.scaling.expand(v))
                .collect();
            let part = usize::from(t >= spec);
            sums[part] += f64::from(log_spectral_distance(&actual, &moving));
            sums[2 + part] += f64::from(log_spectral_distance(&actual, &frozen));
            counts[part] += 1;
        }
    }
    // A part no note reached (notes shorter than the attack) has no score rather than zero.
    let mean = |s: f64, n: usize| if n == 0 { f64::NAN } else { s / n as f64 };
    Ok(Some(TrajectoryScore {
        notes: compared,
        attack_db: mean(sums[0], counts[0]),
        sustain_db: mean(sums[1], counts[1]),
        frozen_attack_db: mean(sums[2], counts[0]),
        frozen_sustain_db: mean(sums[3], counts[1]),
    }))
}

/// RMS difference in dB between two magnitude frames, each floored 60 dB below the real
/// frame's peak (so inaudible bins do not dominate).
pub fn log_spectral_distance(real: &[f32], model: &[f32]) -> f32 {
    let peak = real.iter().copied().fold(0.0f32, f32::max).max(1e-12);
    let floor = peak * 10f32.powf(-LSD_FLOOR_DB / 20.0);
    let sum: f32 = real
        .iter()
        .zip(model)
        .map(|(&a, &b)| (20.0 * (a.max(floor) / b.max(floor)).log10()).powi(2))
        .sum();
    (sum / real.len().max(1) as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(cents: Option<f32>, data_cents: Option<f32>) -> RenderedNote {
        RenderedNote {
            cents,
            data_cents,
            rms: 0.1,
            centroid: 1000.0,
        }
    }

    #[test]
    fn rendered_pitch_is_split_by_instrument_with_the_misses_named() {
        let classes = ["Flute".to_string(), "Oboe".into(), "Piano".into()];
        let (good, sharp, unvoiced) = (
            note(Some(-4.0), Some(2.0)),
            note(Some(45.0), Some(1.0)),
            note(None, None),
        );
        let played = vec![
            (2, "Piano_C1_pp".to_string(), &unvoiced),
            (0, "Flute_C5_mf".into(), &good),
            (2, "Piano_C4_mf".into(), &good),
            (2, "Piano_C6_ff".into(), &sharp),
        ];
        let split = instrument_pitch(&classes, &played);
        assert_eq!(split.len(), 2, "the oboe has no notes");
        assert_eq!(split[0].instrument, "Flute");
        assert_eq!((split[0].notes, split[0].in_tune), (1, 1.0));
        assert!(split[0].missed.is_empty());
        let piano = &split[1];
        assert_eq!((piano.instrument.as_str(), piano.notes), ("Piano", 3));
        assert!((piano.in_tune - 1.0 / 3.0).abs() < 1e-12);
        assert!((piano.data_in_tune - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            piano.missed,
            vec![
                ("Piano_C1_pp".to_string(), None),
                ("Piano_C6_ff".to_string(), Some(45.0))
            ]
        );
    }
}
