//! Offline rendering of a MIDI score through the engine's note player — the same voices,
//! symbol encoder, trajectories and phase reconstruction the plugin uses.

use timbrespace_engine::model::{ModelFile, ModelFileError};
use timbrespace_engine::player::{NoteEvent, NotePlayer, PlayerError};
use timbrespace_engine::voice::PhaseMode;

use timbrespace_engine::pitch::{cents, pitch_track, YinSettings};

use crate::midi::{Score, ScoreNote};
use crate::notes::{key_frequency, note_name};

/// Voices of the offline renderer: plenty, so dense scores are not stolen from.
const VOICES: usize = 32;
/// Samples rendered per player call.
const BLOCK: usize = 512;
/// Longest tail rendered after the last event, in seconds.
const MAX_TAIL_SECONDS: f64 = 5.0;

/// Why a score could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum MidiRenderError {
    /// The model cannot be played from notes.
    #[error(transparent)]
    Player(#[from] PlayerError),
    /// The model file is unusable.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// `--instrument` names no instrument of the model.
    #[error("the model has no instrument `{wanted}`; it knows: {known}")]
    UnknownInstrument {
        /// The name asked for.
        wanted: String,
        /// The model's instruments.
        known: String,
    },
}

/// A rendered score.
#[derive(Debug, Clone)]
pub struct MidiRendering {
    /// Mono samples at the model's rate, aligned with the score (latency removed).
    pub audio: Vec<f32>,
    /// Sample rate.
    pub rate: u32,
    /// Things the musician should know (notes outside the trained range).
    pub warnings: Vec<String>,
}

/// The position of instrument `name` in `player` (case-insensitive), or 0 for `None`.
pub fn instrument_position(
    player: &NotePlayer,
    name: Option<&str>,
) -> Result<f32, MidiRenderError> {
    let Some(name) = name else {
        return Ok(0.0);
    };
    player
        .instruments()
        .iter()
        .position(|i| i.eq_ignore_ascii_case(name))
        .map(|i| i as f32)
        .ok_or_else(|| MidiRenderError::UnknownInstrument {
            wanted: name.to_string(),
            known: if player.instruments().is_empty() {
                "none (it was trained without instrument labels)".into()
            } else {
                player.instruments().join(", ")
            },
        })
}

/// Plays `score` with `model` on instrument `instrument` (by name; the first one when `None`).
pub fn render_score(
    model: &ModelFile,
    score: &Score,
    mode: PhaseMode,
    instrument: Option<&str>,
) -> Result<MidiRendering, MidiRenderError> {
    let rate = model.manifest.signal.sample_rate;
    let mut player = NotePlayer::for_notes(model, mode, VOICES, BLOCK)?;
    player.set_instrument(instrument_position(&player, instrument)?);
    let warnings = range_warnings(&player, score);
    let latency = player.latency_samples();
    let to_sample = |seconds: f64| (seconds.max(0.0) * f64::from(rate)).round() as usize;
    let mut audio = Vec::new();
    let render_to = |player: &mut NotePlayer, end: usize, audio: &mut Vec<f32>| {
        let start = audio.len();
        if end > start {
            audio.resize(end, 0.0);
            player.render(&mut audio[start..end]);
        }
    };
    for timed in &score.events {
        render_to(&mut player, to_sample(timed.seconds) + latency, &mut audio);
        player.handle(timed.event);
    }
    // Let releases ring out, then trim the latency so sound lines up with the score.
    let max_end = audio.len() + to_sample(MAX_TAIL_SECONDS);
    while player.active_voices() > 0 && audio.len() < max_end {
        let end = audio.len() + BLOCK;
        render_to(&mut player, end, &mut audio);
    }
    let end = audio.len() + latency;
    render_to(&mut player, end, &mut audio);
    audio.drain(..latency.min(audio.len()));
    Ok(MidiRendering {
        audio,
        rate,
        warnings,
    })
}

/// One warning per distinct note outside the trained octaves or pitch classes.
fn range_warnings(player: &NotePlayer, score: &Score) -> Vec<String> {
    let Some(vocabulary) = player.vocabulary() else {
        return Vec::new();
    };
    let mut keys: Vec<u8> = score
        .events
        .iter()
        .filter_map(|e| match e.event {
            NoteEvent::NoteOn { key, .. } if !vocabulary.key_symbols(i32::from(key)).in_range => {
                Some(key)
            }
            _ => None,
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.iter()
        .map(|&k| {
            format!(
                "note {} is outside what the model was trained on; it plays as the nearest trained octave and pitch class",
                note_name(k)
            )
        })
        .collect()
}

/// Fraction of the monophonic sounding time of `score` (instants where exactly one note
/// sounds, away from note boundaries) at which the YIN pitch of `audio` lies within
/// `tolerance_cents` of the sounding note; unvoiced instants count as misses. `None` when the
/// score has no such instant.
pub fn pitch_agreement(
    score: &Score,
    audio: &[f32],
    rate: u32,
    tolerance_cents: f32,
) -> Option<f64> {
    const FRAME_SECONDS: f64 = 0.046;
    let frame = (FRAME_SECONDS * f64::from(rate)) as usize;
    let hop = frame / 4;
    let settings = YinSettings {
        fmin: 2.5 * rate as f32 / frame as f32,
        ..YinSettings::default()
    };
    let half = FRAME_SECONDS / 2.0;
    let track = pitch_track(audio, rate as f32, frame, hop, &settings);
    let (mut hits, mut total) = (0usize, 0usize);
    for (j, f0) in track.iter().enumerate() {
        let centre = (j * hop) as f64 / f64::from(rate) + half;
        let sounding: Vec<&ScoreNote> = score
            .notes
            .iter()
            .filter(|n| n.start - half <= centre && centre < n.end + half)
            .collect();
        let [note] = sounding.as_slice() else {
            continue;
        };
        if centre - half < note.start || centre + half > note.end {
            continue;
        }
        total += 1;
        let expected = key_frequency(note.key) as f32;
        hits += usize::from(f0.is_some_and(|f| cents(f, expected).abs() <= tolerance_cents));
    }
    (total > 0).then(|| hits as f64 / total as f64)
}
