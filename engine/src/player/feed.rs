//! One note's state and the frame source that turns it into magnitudes hop by hop.

use crate::model::manifest::PitchDirection;
use crate::symbols::{NotePhase, SymbolEncoder, SymbolPoint, Trajectories};
use crate::voice::FrameSource;

/// The note a voice plays.
#[derive(Debug, Clone)]
pub struct NoteState {
    /// Sounding (false once the player saw its envelope end).
    active: bool,
    /// MIDI channel.
    channel: u8,
    /// MIDI key.
    key: u8,
    /// Key is up but the sustain pedal holds the note.
    pedal_held: bool,
    /// Where the note is.
    phase: NotePhase,
    /// Note-on count when it started (for stealing the oldest).
    started: u64,
    /// Dynamics position from the velocity.
    dynamics: f32,
    /// Level factor from the velocity (beyond the trained dynamics, or all of the velocity's
    /// effect in free mode).
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

    /// The latent point decoded last.
    pub fn point_z(&self) -> &[f32] {
        &self.z
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

    /// Moves the note one hop on: computes its next latent point and level from `source`.
    /// Returns true when they changed, i.e. when the voice needs a newly decoded frame
    /// (see [`NoteState::point_z`] and [`NoteState::level`]).
    pub fn advance(&mut self, source: &mut LatentSource) -> bool {
        // The velocity's factor, times the trajectory's level in notes mode.
        let mut level = self.gain;
        match source {
            LatentSource::Symbols {
                encoder,
                trajectories,
                offset,
                bend,
                instrument,
            } => {
                let point = SymbolPoint {
                    key: f32::from(self.key) + *bend,
                    dynamics: self.dynamics,
                    instrument: *instrument,
                };
                if point != self.point {
                    self.point = point;
                    // Out-of-range keys were reported when the score was read; the nearest
                    // trained octave and pitch class stand in.
                    encoder.centre(point, &mut self.centre);
                    if let Some(tr) = trajectories {
                        self.group = tr.group_of(&point, encoder.vocabulary());
                    }
                }
                self.next_z.copy_from_slice(&self.centre);
                if let Some(tr) = trajectories {
                    let moved = tr.offset(self.group, self.phase);
                    self.next_z.iter_mut().zip(moved).for_each(|(z, o)| *z += o);
                    level *= tr.level(self.group, self.phase);
                }
                self.next_z
                    .iter_mut()
                    .zip(offset.iter())
                    .for_each(|(z, o)| *z += o);
            }
            LatentSource::Free { point, pitch } => {
                self.next_z.copy_from_slice(point);
                if let Some((direction, offset)) = pitch {
                    direction.transpose(&mut self.next_z, f32::from(self.key) + *offset);
                }
            }
        }
        self.phase = match self.phase {
            NotePhase::Held(t) => NotePhase::Held(t.saturating_add(1)),
            NotePhase::Released(t) => NotePhase::Released(t.saturating_add(1)),
        };
        if level == self.level && self.next_z == self.z {
            return false;
        }
        std::mem::swap(&mut self.z, &mut self.next_z);
        self.level = level;
        true
    }

    /// The level the last decoded frame is scaled by.
    pub fn level(&self) -> f32 {
        self.level
    }
}

/// Where a voice's latent point comes from.
pub enum LatentSource<'a> {
    /// The note's symbols (through q(z|y) and its trajectory), plus this offset.
    Symbols {
        /// Symbol encoder, shared by all voices.
        encoder: &'a mut SymbolEncoder,
        /// Templates, if any.
        trajectories: Option<&'a Trajectories>,
        /// Added to the note's point (the latent axes in notes mode).
        offset: &'a [f32],
        /// The note's channel's pitch bend in semitones.
        bend: f32,
        /// Instrument position.
        instrument: f32,
    },
    /// This point for every note (free navigation): MIDI gates and scales it and, when the
    /// model has a pitch direction, transposes it.
    Free {
        /// The point.
        point: &'a [f32],
        /// The model's pitch direction and the semitones added to the note's key to give its
        /// transposition (bend + Transpose − root key); `None`: every key plays the point.
        pitch: Option<(&'a PitchDirection, f32)>,
    },
}

/// A voice's frame for the hop about to start, prepared (and batch-decoded) by the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// The voice does not step now (nothing was prepared).
    Nothing,
    /// The voice steps now and its spectrum is unchanged.
    Unchanged,
    /// The voice steps now with row `n` of the batch's decoded magnitudes.
    Row(usize),
}

/// A voice's frame source for one render call: hands over what the player prepared.
pub struct PreparedFrame<'a> {
    /// What was prepared for this voice.
    pub prepared: &'a mut Prepared,
    /// The batch's decoded magnitudes, `bins` per row.
    pub rows: &'a [f32],
    /// The level the row is scaled by.
    pub level: f32,
}

impl FrameSource for PreparedFrame<'_> {
    fn next_frame(&mut self, frame: &mut [f32]) -> bool {
        let prepared = std::mem::replace(self.prepared, Prepared::Nothing);
        match prepared {
            // The player prepares every voice that steps in a segment; a pull without a
            // prepared frame can only repeat the last one.
            Prepared::Nothing | Prepared::Unchanged => false,
            Prepared::Row(n) => {
                let bins = frame.len();
                let row = &self.rows[n * bins..(n + 1) * bins];
                for (f, &m) in frame.iter_mut().zip(row) {
                    *f = m * self.level;
                }
                true
            }
        }
    }
}
