//! One note's state and the frame source that turns it into magnitudes hop by hop.

use crate::model::DecoderKernel;
use crate::symbols::{NotePhase, SymbolEncoder, SymbolPoint, Trajectories};
use crate::voice::FrameSource;

/// Release length in hops for models without trajectories.
const DEFAULT_RELEASE_HOPS: usize = 8;
/// Hops of silence after a release before the voice counts as free: the overlap-add tail of
/// the last grains must play out (two hops cover the window at 75 % overlap plus look-ahead).
const TAIL_HOPS: usize = 8;
/// The level falls as (1 − t/T)^FADE_POWER over the release template, on top of the
/// template's own spectral decay, so every note ends in silence and the tail of one note does
/// not smear the pitch of the next (the templates' later frames, far below the note's peak,
/// decode less faithfully than its sustain).
const FADE_POWER: i32 = 2;

/// The note a voice plays.
#[derive(Debug, Clone)]
pub struct NoteState {
    /// Sounding (false once the release and its tail are over).
    active: bool,
    /// MIDI channel.
    channel: u8,
    /// MIDI key.
    key: u8,
    /// Key is up but the sustain pedal holds the note.
    pedal_held: bool,
    /// Where the note is.
    phase: NotePhase,
    /// Hops of silence played after the release ended.
    tail: usize,
    /// Note-on count when it started (for stealing the oldest).
    started: u64,
    /// Dynamics position from the velocity.
    dynamics: f32,
    /// Level factor for velocities beyond the trained dynamics.
    gain: f32,
    /// The symbol point the centre was computed for (`key` NaN forces a recomputation).
    point: SymbolPoint,
    /// Posterior mean of the symbol point: the sustained centre.
    centre: Vec<f32>,
    /// Trajectory group of the point.
    group: usize,
    /// The latent point decoded last, to skip decoding when it has not moved.
    z: Vec<f32>,
    /// The level applied last, likewise.
    level: f32,
    /// Scratch for the next latent point.
    next_z: Vec<f32>,
}

impl NoteState {
    /// An idle note with buffers for `latent` dimensions.
    pub fn new(latent: usize) -> Self {
        Self {
            active: false,
            channel: 0,
            key: 0,
            pedal_held: false,
            phase: NotePhase::Held(0),
            tail: 0,
            started: 0,
            dynamics: 0.0,
            gain: 1.0,
            point: SymbolPoint {
                key: f32::NAN,
                dynamics: 0.0,
                instrument: 0.0,
            },
            centre: vec![0.0; latent],
            group: 0,
            z: vec![0.0; latent],
            level: -1.0,
            next_z: vec![0.0; latent],
        }
    }

    /// Begins a note.
    pub fn start(&mut self, channel: u8, key: u8, dynamics: f32, gain: f32, clock: u64) {
        self.active = true;
        self.channel = channel;
        self.key = key;
        self.pedal_held = false;
        self.phase = NotePhase::Held(0);
        self.tail = 0;
        self.started = clock;
        self.dynamics = dynamics;
        self.gain = gain;
        self.point.key = f32::NAN;
        self.level = -1.0;
    }

    /// Silences at once.
    pub fn stop(&mut self) {
        self.active = false;
    }

    /// Sounding.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Held by its key (not released, not only by the pedal) on `channel` at `key`.
    pub fn is_held(&self, channel: u8, key: u8) -> bool {
        self.active
            && !self.pedal_held
            && self.channel == channel
            && self.key == key
            && matches!(self.phase, NotePhase::Held(_))
    }

    /// The key went up: release now, or when the pedal comes up.
    pub fn key_up(&mut self, pedal_down: bool) {
        if let (true, NotePhase::Held(_)) = (self.active, self.phase) {
            if pedal_down {
                self.pedal_held = true;
            } else {
                self.phase = NotePhase::Released(0);
            }
        }
    }

    /// The pedal of `channel` came up: release notes it was holding.
    pub fn pedal_up(&mut self, channel: u8) {
        if self.channel == channel {
            self.pedal_up_all();
        }
    }

    /// Release the note if only the pedal holds it.
    pub fn pedal_up_all(&mut self) {
        if self.pedal_held {
            self.pedal_held = false;
            self.key_up(false);
        }
    }

    /// MIDI channel.
    pub fn channel(&self) -> u8 {
        self.channel
    }

    /// Where the note is.
    pub fn phase(&self) -> NotePhase {
        self.phase
    }

    /// When it started.
    pub fn started(&self) -> u64 {
        self.started
    }
}

/// A voice's frame source for one render call: the note plus the shared kernels.
pub struct VoiceFeed<'a> {
    /// The note.
    pub note: &'a mut NoteState,
    /// Symbol encoder, shared by all voices.
    pub encoder: &'a mut SymbolEncoder,
    /// Decoder, shared by all voices.
    pub decoder: &'a mut DecoderKernel,
    /// Templates, if any.
    pub trajectories: Option<&'a Trajectories>,
    /// The note's channel's pitch bend in semitones.
    pub bend: f32,
    /// Instrument position.
    pub instrument: f32,
}

impl FrameSource for VoiceFeed<'_> {
    fn next_frame(&mut self, frame: &mut [f32]) -> bool {
        let note = &mut *self.note;
        let release_hops = self
            .trajectories
            .map_or(DEFAULT_RELEASE_HOPS, Trajectories::release_frames);
        let (t, released) = match note.phase {
            NotePhase::Held(t) => (t, false),
            NotePhase::Released(t) => (t, true),
        };
        if released && t >= release_hops {
            note.tail += 1;
            if note.tail > TAIL_HOPS {
                note.active = false;
            }
            let was_silent = note.level == 0.0;
            note.level = 0.0;
            frame.fill(0.0);
            return !was_silent;
        }
        let point = SymbolPoint {
            key: f32::from(note.key) + self.bend,
            dynamics: note.dynamics,
            instrument: self.instrument,
        };
        if point != note.point {
            note.point = point;
            // Out-of-range keys were reported when the score was read; the nearest trained
            // octave stands in.
            self.encoder.centre(point, &mut note.centre);
            if let Some(tr) = self.trajectories {
                note.group = tr.group_of(&point, self.encoder.vocabulary());
            }
        }
        note.next_z.copy_from_slice(&note.centre);
        if let Some(tr) = self.trajectories {
            for (z, o) in note
                .next_z
                .iter_mut()
                .zip(tr.offset(note.group, note.phase))
            {
                *z += o;
            }
        }
        let fade = if released {
            ((release_hops - t) as f32 / release_hops.max(1) as f32).powi(FADE_POWER)
        } else {
            1.0
        };
        let level = note.gain * fade;
        note.phase = match note.phase {
            NotePhase::Held(t) => NotePhase::Held(t.saturating_add(1)),
            NotePhase::Released(t) => NotePhase::Released(t + 1),
        };
        if level == note.level && note.next_z == note.z {
            return false;
        }
        std::mem::swap(&mut note.z, &mut note.next_z);
        note.level = level;
        self.decoder.decode_magnitudes(&note.z, frame);
        if level != 1.0 {
            frame.iter_mut().for_each(|m| *m *= level);
        }
        true
    }
}
