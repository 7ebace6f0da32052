//! The motif player's clock: while a key is held it plays the pattern's notes, transposed to
//! that key, on the host's sixteenth-note grid — each note-on at the first sample at or after
//! its grid point, computed from the block's beat position, so nothing drifts. With the host's
//! transport stopped (or absent) it runs on its own clock from the key press, at the host's
//! tempo. Allocation-free once built.

use std::sync::Arc;

use super::bank::MotifBank;
use super::pattern::{MotifSettings, Pattern};
use crate::player::NoteEvent;

/// Grid steps per beat (sixteenth notes).
const STEPS_PER_BEAT: f64 = 4.0;
/// Tempo when the host gives none, BPM.
const DEFAULT_TEMPO: f64 = 120.0;
/// Keys remembered as held (the last one pressed is the root).
const MAX_HELD: usize = 16;
/// Motif notes sounding at once; more are skipped.
const MAX_SOUNDING: usize = 64;
/// Events one block can produce; more are dropped (a block holds few steps).
const MAX_EVENTS: usize = 1024;
/// The key at which a motif plays at its own pitch (middle C).
pub const REFERENCE_ROOT: i32 = 60;
/// Grid-point times this close below a sample still land on it (floating-point noise).
const TIME_TOLERANCE: f64 = 1e-6;

/// What the host says about time for one block.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TransportInfo {
    /// The transport is running.
    pub playing: bool,
    /// Position at the block's first sample, in quarter notes.
    pub beat: Option<f64>,
    /// Tempo in BPM.
    pub tempo: Option<f64>,
}

/// A held key.
#[derive(Debug, Clone, Copy, Default)]
struct Held {
    /// Channel it came on (motif notes go out on it, so its bends apply).
    channel: u8,
    /// The key.
    key: u8,
    /// Its velocity (every motif note gets it).
    velocity: u8,
}

/// A motif note sounding.
#[derive(Debug, Clone, Copy, Default)]
struct Sounding {
    /// Its channel.
    channel: u8,
    /// Its key.
    key: u8,
    /// The grid step it ends at.
    off_step: i64,
}

impl Sounding {
    /// The event that ends it.
    fn note_off(&self) -> NoteEvent {
        NoteEvent::NoteOff {
            channel: self.channel,
            key: self.key,
        }
    }
}

/// Plays motifs from held keys, in time with the host.
pub struct MotifSequencer {
    /// The motifs.
    bank: Arc<MotifBank>,
    /// The current one, decoded.
    pattern: Pattern,
    /// Host sample rate.
    rate: f64,
    /// Keys down, oldest first.
    held: [Held; MAX_HELD],
    /// How many of `held` are.
    held_len: usize,
    /// Notes it started and has not ended.
    sounding: [Sounding; MAX_SOUNDING],
    /// How many of `sounding` are.
    sounding_len: usize,
    /// This block's key events, in order.
    keys: Vec<(u32, NoteEvent)>,
    /// The events it produces, in order.
    out: Vec<(u32, NoteEvent)>,
    /// The last grid step played (steps are played once, even when a host's beat positions
    /// wobble by a rounding error).
    last_step: Option<i64>,
    /// Where the host's transport should be at the next block, when it was running (a jump
    /// means a loop or a seek).
    expected_beat: Option<f64>,
    /// Its own clock's beat at the next block while the transport is stopped.
    free_beat: Option<f64>,
}

impl MotifSequencer {
    /// A sequencer for `bank` at `rate` Hz (allocates; build it off the audio thread).
    pub fn new(bank: Arc<MotifBank>, rate: f32) -> Self {
        Self {
            pattern: Pattern::new(&bank),
            bank,
            rate: f64::from(rate.max(1.0)),
            held: [Held::default(); MAX_HELD],
            held_len: 0,
            sounding: [Sounding::default(); MAX_SOUNDING],
            sounding_len: 0,
            keys: Vec::with_capacity(MAX_EVENTS),
            out: Vec::with_capacity(MAX_EVENTS),
            last_step: None,
            expected_beat: None,
            free_beat: None,
        }
    }

    /// The bank it plays.
    pub fn bank(&self) -> &Arc<MotifBank> {
        &self.bank
    }

    /// The motif as decoded now.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// A key event `offset` samples into the coming block (note-ons, note-offs and
    /// all-notes-off; others are ignored). Events must come in time order.
    pub fn key(&mut self, offset: u32, event: NoteEvent) {
        let relevant = matches!(
            event,
            NoteEvent::NoteOn { .. } | NoteEvent::NoteOff { .. } | NoteEvent::AllNotesOff
        );
        if relevant && self.keys.len() < self.keys.capacity() {
            self.keys.push((offset, event));
        }
    }

    /// Ends every motif note at `offset` and forgets the held keys; returns the note-offs.
    pub fn stop(&mut self, offset: u32) -> &[(u32, NoteEvent)] {
        self.out.clear();
        self.keys.clear();
        self.held_len = 0;
        self.release_all(offset);
        self.last_step = None;
        self.expected_beat = None;
        self.free_beat = None;
        &self.out
    }

    /// Plays a block of `len` samples: applies `settings`, follows `transport`, takes the key
    /// events given since the last block and returns the note events to play, in time order.
    pub fn run(
        &mut self,
        len: usize,
        transport: TransportInfo,
        settings: &MotifSettings,
    ) -> &[(u32, NoteEvent)] {
        self.out.clear();
        self.pattern.update(&self.bank, settings);
        let tempo = transport
            .tempo
            .filter(|t| t.is_finite() && *t > 0.0)
            .unwrap_or(DEFAULT_TEMPO)
            .clamp(10.0, 1000.0);
        let samples_per_beat = self.rate * 60.0 / tempo;
        let block_beats = len as f64 / samples_per_beat;
        let host_beat = transport.beat.filter(|b| b.is_finite());
        let beat0 = match (transport.playing, host_beat) {
            (true, Some(beat)) => {
                self.free_beat = None;
                let jumped = self
                    .expected_beat
                    .is_some_and(|e| ((e - beat) * STEPS_PER_BEAT).abs() > 0.5);
                if jumped || self.expected_beat.is_none() {
                    // A loop, a seek or the transport starting: the grid starts over here.
                    self.release_all(0);
                    self.last_step = None;
                }
                self.expected_beat = Some(beat + block_beats);
                beat
            }
            _ => {
                if self.expected_beat.take().is_some() {
                    // The transport stopped: its notes end; a held key goes on freely.
                    self.release_all(0);
                    self.last_step = None;
                    self.free_beat = None;
                }
                match self.free_beat {
                    Some(beat) => beat,
                    None => {
                        // Start the free clock so that step 0 falls on the first key press.
                        let press = self.keys.iter().find_map(|&(offset, e)| {
                            matches!(e, NoteEvent::NoteOn { .. }).then_some(offset)
                        });
                        match press {
                            Some(offset) if self.held_len == 0 => {
                                self.last_step = None;
                                -f64::from(offset) / samples_per_beat
                            }
                            _ if self.held_len > 0 => 0.0,
                            _ => {
                                // Nothing held, nothing pressed: only key releases to take.
                                self.take_keys(None);
                                return &self.out;
                            }
                        }
                    }
                }
            }
        };
        let mut step = (beat0 * STEPS_PER_BEAT).floor() as i64 - 1;
        loop {
            let time = (step as f64 / STEPS_PER_BEAT - beat0) * samples_per_beat;
            let offset = (time - TIME_TOLERANCE).ceil();
            if offset < 0.0 || self.last_step.is_some_and(|last| step <= last) {
                step += 1;
                continue;
            }
            if offset >= len as f64 {
                self.take_keys(None);
                break;
            }
            let offset = offset as u32;
            self.take_keys(Some(offset));
            self.play_step(step, offset, settings.pitch_shift);
            self.last_step = Some(step);
            step += 1;
        }
        self.keys.clear();
        // The free clock runs on while the transport is stopped and something plays (the synced
        // branch above cleared it).
        let free = !(transport.playing && host_beat.is_some());
        self.free_beat =
            (free && (self.held_len > 0 || self.sounding_len > 0)).then_some(beat0 + block_beats);
        &self.out
    }

    /// Applies the key events at or before `until` (all of them for `None`), in order.
    fn take_keys(&mut self, until: Option<u32>) {
        let count = self
            .keys
            .iter()
            .take_while(|(offset, _)| until.is_none_or(|u| *offset <= u))
            .count();
        for i in 0..count {
            let (offset, event) = self.keys[i];
            self.apply_key(offset, event);
        }
        self.keys.drain(..count);
    }

    /// One key event.
    fn apply_key(&mut self, offset: u32, event: NoteEvent) {
        match event {
            NoteEvent::NoteOn {
                channel,
                key,
                velocity,
            } => {
                self.remove_held(key);
                if self.held_len == MAX_HELD {
                    self.held.copy_within(1.., 0);
                    self.held_len -= 1;
                }
                self.held[self.held_len] = Held {
                    channel,
                    key,
                    velocity,
                };
                self.held_len += 1;
            }
            NoteEvent::NoteOff { key, .. } => {
                self.remove_held(key);
                if self.held_len == 0 {
                    self.release_all(offset);
                }
            }
            NoteEvent::AllNotesOff => {
                self.held_len = 0;
                self.release_all(offset);
            }
            _ => {}
        }
    }

    /// Forgets `key` as held.
    fn remove_held(&mut self, key: u8) {
        if let Some(i) = self.held[..self.held_len].iter().position(|h| h.key == key) {
            self.held.copy_within(i + 1..self.held_len, i);
            self.held_len -= 1;
        }
    }

    /// Ends every sounding motif note at `offset`.
    fn release_all(&mut self, offset: u32) {
        for s in &self.sounding[..self.sounding_len] {
            push(&mut self.out, offset, s.note_off());
        }
        self.sounding_len = 0;
    }

    /// Grid step `step` at `offset`: ends the notes due, then starts the pattern's notes
    /// transposed to the newest held key.
    fn play_step(&mut self, step: i64, offset: u32, pitch_shift: i32) {
        let mut i = 0;
        while i < self.sounding_len {
            if self.sounding[i].off_step <= step {
                let s = self.sounding[i];
                self.end(i, offset, s);
            } else {
                i += 1;
            }
        }
        if self.held_len == 0 {
            return;
        }
        let root = self.held[self.held_len - 1];
        let index = step.rem_euclid(self.pattern.steps() as i64) as usize;
        let gate = self.pattern.gate(index) as i64;
        let base = i32::from(self.bank.lowest_key()) + i32::from(root.key) - REFERENCE_ROOT
            + self.bank.exact_pitch(pitch_shift.clamp(-48, 48));
        for row in 0..self.pattern.rows() {
            if !self.pattern.plays(row, index) {
                continue;
            }
            let Ok(key) = u8::try_from(base + row as i32) else {
                continue;
            };
            if key > 127 {
                continue;
            }
            // The same key again: the old note ends where the new one starts.
            if let Some(j) = self.sounding[..self.sounding_len]
                .iter()
                .position(|s| s.key == key && s.channel == root.channel)
            {
                let s = self.sounding[j];
                self.end(j, offset, s);
            }
            if self.sounding_len == MAX_SOUNDING {
                continue;
            }
            push(
                &mut self.out,
                offset,
                NoteEvent::NoteOn {
                    channel: root.channel,
                    key,
                    velocity: root.velocity,
                },
            );
            self.sounding[self.sounding_len] = Sounding {
                channel: root.channel,
                key,
                off_step: step + gate,
            };
            self.sounding_len += 1;
        }
    }

    /// Ends sounding note `i` (which is `s`) at `offset`.
    fn end(&mut self, i: usize, offset: u32, s: Sounding) {
        push(&mut self.out, offset, s.note_off());
        self.sounding[i] = self.sounding[self.sounding_len - 1];
        self.sounding_len -= 1;
    }
}

/// Adds an event unless the block's events are full.
fn push(out: &mut Vec<(u32, NoteEvent)>, offset: u32, event: NoteEvent) {
    if out.len() < out.capacity() {
        out.push((offset, event));
    }
}
