//! Standard MIDI files (types 0, 1 and 2) read with `midly` into timed performance events for
//! the note player: every track and channel, tempo changes, running status, sustain pedal,
//! pitch bend with its RPN range, all-notes-off.

use std::path::Path;

use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};
use thiserror::Error;
use timbrespace_engine::player::NoteEvent;

/// MIDI's default tempo: 120 beats per minute.
const DEFAULT_TEMPO_US: f64 = 500_000.0;
/// Pitch-bend range until an RPN 0 message says otherwise (General MIDI).
const DEFAULT_BEND_RANGE: f32 = 2.0;

/// Why a MIDI file cannot be played.
#[derive(Debug, Error)]
pub enum MidiError {
    /// The file could not be read.
    #[error("cannot read MIDI file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a valid standard MIDI file.
    #[error("{path} is not a valid standard MIDI file: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser found.
        reason: String,
    },
    /// SMPTE timecode timing with an unusable frame rate.
    #[error("{0} uses a timecode timing this player cannot read")]
    Timing(String),
}

/// An event at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedEvent {
    /// Seconds from the start.
    pub seconds: f64,
    /// What happens.
    pub event: NoteEvent,
}

/// A note as written in the file (after the sustain pedal is *not* applied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreNote {
    /// MIDI channel.
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
    /// Velocity.
    pub velocity: u8,
    /// Note-on time in seconds.
    pub start: f64,
    /// Note-off time in seconds.
    pub end: f64,
    /// Note-on time in beats (quarter notes) from the start, whatever the tempo: where the note
    /// sits on the score's grid. Timecode files count a beat as half a second.
    pub start_beat: f64,
    /// Note-off time in beats.
    pub end_beat: f64,
}

impl ScoreNote {
    /// The note sounding from `start` to `end`.
    fn between(channel: u8, key: u8, velocity: u8, start: Moment, end: Moment) -> Self {
        Self {
            channel,
            key,
            velocity,
            start: start.seconds,
            end: end.seconds,
            start_beat: start.beat,
            end_beat: end.beat,
        }
    }
}

/// A MIDI file as the player sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Events in time order.
    pub events: Vec<TimedEvent>,
    /// The notes, in start order.
    pub notes: Vec<ScoreNote>,
    /// Standard MIDI file type (0, 1 or 2).
    pub format: u8,
    /// Tracks in the file.
    pub tracks: usize,
}

impl Score {
    /// Seconds until the last event.
    pub fn duration(&self) -> f64 {
        self.events.last().map_or(0.0, |e| e.seconds)
    }

    /// The part played on MIDI `channel` (0–15) alone: its notes and controllers, and the
    /// events addressed to every channel.
    pub fn channel(&self, channel: u8) -> Score {
        let on_channel = |event: &NoteEvent| match *event {
            NoteEvent::NoteOn { channel: c, .. }
            | NoteEvent::NoteOff { channel: c, .. }
            | NoteEvent::Sustain { channel: c, .. }
            | NoteEvent::PitchBend { channel: c, .. } => c == channel,
            NoteEvent::AllNotesOff => true,
        };
        Score {
            events: self
                .events
                .iter()
                .filter(|e| on_channel(&e.event))
                .copied()
                .collect(),
            notes: self
                .notes
                .iter()
                .filter(|n| n.channel == channel)
                .copied()
                .collect(),
            format: self.format,
            tracks: self.tracks,
        }
    }
}

/// Reads a MIDI file.
pub fn read_midi(path: &Path) -> Result<Score, MidiError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| MidiError::Io {
        path: shown.clone(),
        source,
    })?;
    parse_midi(&bytes, &shown)
}

/// A raw event with its absolute tick, before tempo conversion.
#[derive(Debug, Clone, Copy)]
enum Raw {
    /// Tempo in microseconds per beat.
    Tempo(f64),
    /// A channel message.
    Channel(u8, MidiMessage),
}

/// Parses MIDI bytes; `name` is used in errors.
pub fn parse_midi(bytes: &[u8], name: &str) -> Result<Score, MidiError> {
    let smf = Smf::parse(bytes).map_err(|e| MidiError::Parse {
        path: name.to_string(),
        reason: e.to_string(),
    })?;
    let format = match smf.header.format {
        midly::Format::SingleTrack => 0,
        midly::Format::Parallel => 1,
        midly::Format::Sequential => 2,
    };
    // (tick, track, order in track, event): tracks of a type-2 file play one after another.
    let mut raw: Vec<(u64, usize, usize, Raw)> = Vec::new();
    let mut offset = 0u64;
    for (t, track) in smf.tracks.iter().enumerate() {
        let mut tick = if format == 2 { offset } else { 0 };
        for (i, event) in track.iter().enumerate() {
            tick += u64::from(event.delta.as_int());
            match event.kind {
                TrackEventKind::Meta(MetaMessage::Tempo(us)) => {
                    raw.push((tick, t, i, Raw::Tempo(f64::from(us.as_int()).max(1.0))));
                }
                TrackEventKind::Midi { channel, message } => {
                    raw.push((tick, t, i, Raw::Channel(channel.as_int(), message)));
                }
                _ => {}
            }
        }
        offset = tick;
    }
    // Tempo changes first at equal ticks, so a note on the same tick uses the new tempo.
    raw.sort_by_key(|&(tick, track, i, ev)| (tick, !matches!(ev, Raw::Tempo(_)), track, i));
    let seconds_per_tick = |tempo_us: f64| -> Result<f64, MidiError> {
        match smf.header.timing {
            Timing::Metrical(tpb) => Ok(tempo_us * 1e-6 / f64::from(tpb.as_int().max(1))),
            Timing::Timecode(fps, sub) => {
                let rate = f64::from(fps.as_f32()) * f64::from(sub);
                if rate > 0.0 {
                    Ok(1.0 / rate)
                } else {
                    Err(MidiError::Timing(name.to_string()))
                }
            }
        }
    };
    let beat_at = |tick: u64, seconds: f64| match smf.header.timing {
        Timing::Metrical(tpb) => tick as f64 / f64::from(tpb.as_int().max(1)),
        Timing::Timecode(..) => seconds / (DEFAULT_TEMPO_US * 1e-6),
    };
    let mut per_tick = seconds_per_tick(DEFAULT_TEMPO_US)?;
    let (mut last_tick, mut now) = (0u64, 0.0f64);
    let mut performance = Performance::default();
    for (tick, _, _, ev) in raw {
        now += (tick - last_tick) as f64 * per_tick;
        last_tick = tick;
        match ev {
            Raw::Tempo(us) => per_tick = seconds_per_tick(us)?,
            Raw::Channel(channel, message) => {
                let at = Moment {
                    seconds: now,
                    beat: beat_at(tick, now),
                };
                performance.message(at, channel, message);
            }
        }
    }
    let end = Moment {
        seconds: now,
        beat: beat_at(last_tick, now),
    };
    Ok(performance.finish(end, format, smf.tracks.len()))
}

/// When a message happens, in seconds and in beats.
#[derive(Debug, Clone, Copy)]
struct Moment {
    seconds: f64,
    beat: f64,
}

/// Turns channel messages into events and notes.
#[derive(Default)]
struct Performance {
    /// The events so far.
    events: Vec<TimedEvent>,
    /// Finished notes.
    notes: Vec<ScoreNote>,
    /// Sounding notes: (channel, key, velocity, start).
    open: Vec<(u8, u8, u8, Moment)>,
    /// Per channel: bend range in semitones, set through RPN 0.
    bend_range: [Option<f32>; 16],
    /// Per channel: the selected RPN (MSB, LSB).
    rpn: [(u8, u8); 16],
}

impl Performance {
    fn message(&mut self, at: Moment, channel: u8, message: MidiMessage) {
        let now = at.seconds;
        let c = usize::from(channel & 15);
        let mut push = |event| {
            self.events.push(TimedEvent {
                seconds: now,
                event,
            })
        };
        match message {
            MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                let (key, velocity) = (key.as_int(), vel.as_int());
                push(NoteEvent::NoteOn {
                    channel,
                    key,
                    velocity,
                });
                self.open.push((channel, key, velocity, at));
            }
            MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                let key = key.as_int();
                push(NoteEvent::NoteOff { channel, key });
                // Close the oldest open note of this key (MIDI's first-in, first-out rule).
                if let Some(i) = self
                    .open
                    .iter()
                    .position(|&(ch, k, _, _)| ch == channel && k == key)
                {
                    let (channel, key, velocity, start) = self.open.remove(i);
                    self.notes
                        .push(ScoreNote::between(channel, key, velocity, start, at));
                }
            }
            MidiMessage::Controller { controller, value } => {
                let value = value.as_int();
                match controller.as_int() {
                    64 => push(NoteEvent::Sustain {
                        channel,
                        down: value >= 64,
                    }),
                    101 => self.rpn[c].0 = value,
                    100 => self.rpn[c].1 = value,
                    6 if self.rpn[c] == (0, 0) => self.bend_range[c] = Some(f32::from(value)),
                    120 | 123 => push(NoteEvent::AllNotesOff),
                    _ => {}
                }
            }
            MidiMessage::PitchBend { bend } => {
                let range = self.bend_range[c].unwrap_or(DEFAULT_BEND_RANGE);
                push(NoteEvent::PitchBend {
                    channel,
                    semitones: bend.as_f32() * range,
                });
            }
            _ => {}
        }
    }

    /// Closes notes never switched off at the end.
    fn finish(mut self, end: Moment, format: u8, tracks: usize) -> Score {
        for (channel, key, velocity, start) in std::mem::take(&mut self.open) {
            self.events.push(TimedEvent {
                seconds: end.seconds,
                event: NoteEvent::NoteOff { channel, key },
            });
            self.notes
                .push(ScoreNote::between(channel, key, velocity, start, end));
        }
        self.notes.sort_by(|a, b| a.start.total_cmp(&b.start));
        Score {
            events: self.events,
            notes: self.notes,
            format,
            tracks,
        }
    }
}
