//! Driving a session like a host would: blocks of a fixed size, events at sample offsets.

#![allow(dead_code)]

use std::sync::Arc;

use parking_lot::RwLock;
use timbrespace_engine::motif::sequencer::TransportInfo;
use timbrespace_engine::pitch::{cents, pitch_track, YinSettings};
use timbrespace_engine::player::NoteEvent;
use timbrespace_plugin::instrument::HostConfig;
use timbrespace_plugin::params::{Controls, PhaseParam};
use timbrespace_plugin::session::Session;

/// The host rate the tests play at.
pub const RATE: f32 = 48_000.0;

/// An active session at [`RATE`] with blocks of up to `max_block`, and its persisted path.
pub fn session(max_block: usize) -> (Session, Arc<RwLock<String>>) {
    let path = Arc::new(RwLock::new(String::new()));
    let mut session = Session::new(path.clone());
    assert!(session.activate(
        HostConfig {
            rate: RATE,
            max_block,
        },
        PhaseParam::Rtpghi,
    ));
    (session, path)
}

/// Note-on on channel 0.
pub fn note_on(key: u8, velocity: u8) -> NoteEvent {
    NoteEvent::NoteOn {
        channel: 0,
        key,
        velocity,
    }
}

/// Note-off on channel 0.
pub fn note_off(key: u8) -> NoteEvent {
    NoteEvent::NoteOff { channel: 0, key }
}

/// Renders `samples` samples (stereo, left returned) in blocks of `block`, with `events`
/// at absolute sample positions (sorted), the host's transport stopped.
pub fn render(
    session: &mut Session,
    controls: &Controls,
    events: &[(usize, NoteEvent)],
    samples: usize,
    block: usize,
) -> Vec<f32> {
    render_at(session, controls, events, samples, block, None)
}

/// The host's transport playing at `tempo` BPM with beat 0 at sample `beat_zero` (earlier
/// samples have negative positions).
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    /// BPM.
    pub tempo: f64,
    /// The sample at beat 0.
    pub beat_zero: usize,
}

/// [`render`] with the host's transport playing on `grid` (`None`: stopped).
pub fn render_at(
    session: &mut Session,
    controls: &Controls,
    events: &[(usize, NoteEvent)],
    samples: usize,
    block: usize,
    grid: Option<Grid>,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(samples);
    let (mut left, mut right) = (vec![0.0; block], vec![0.0; block]);
    let mut start = 0;
    while start < samples {
        let n = block.min(samples - start);
        let in_block = events
            .iter()
            .filter(|(t, _)| (start..start + n).contains(t))
            .map(|&(t, e)| ((t - start) as u32, e));
        let mut outputs = [&mut left[..n], &mut right[..n]];
        let transport = TransportInfo {
            playing: grid.is_some(),
            beat: grid
                .map(|g| (start as f64 - g.beat_zero as f64) * g.tempo / 60.0 / f64::from(RATE)),
            tempo: grid.map(|g| g.tempo),
        };
        session.process(controls, transport, in_block, &mut outputs);
        assert_eq!(left[..n], right[..n], "both channels carry the same sound");
        out.extend_from_slice(&left[..n]);
        start += n;
    }
    out
}

/// Median YIN f0 over `samples` (in Hz), if most frames are voiced.
pub fn median_f0(samples: &[f32]) -> Option<f32> {
    let frame = 2048;
    let settings = YinSettings {
        fmin: 2.5 * RATE / frame as f32,
        ..YinSettings::default()
    };
    let mut f0: Vec<f32> = pitch_track(samples, RATE, frame, 512, &settings)
        .into_iter()
        .flatten()
        .collect();
    if f0.is_empty() {
        return None;
    }
    f0.sort_by(f32::total_cmp);
    Some(f0[f0.len() / 2])
}

/// Cents between `f` and MIDI `key`'s equal-tempered frequency.
pub fn cents_from_key(f: f32, key: f32) -> f32 {
    cents(f, 440.0 * 2f32.powf((key - 69.0) / 12.0))
}

/// RMS of `samples`.
pub fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt()
}
