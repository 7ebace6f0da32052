//! The polyphonic note player: MIDI-like events in, audio out. Each note becomes a symbol
//! point (key + bend, dynamics from velocity, instrument), the symbol encoder turns it into a
//! latent centre, the note's trajectory moves it through attack and release, the decoder
//! kernel turns it into magnitudes and an engine [`Voice`] reconstructs the phase. Both the
//! offline MIDI renderer and the plugin play through this.

mod feed;

use crate::model::{DecoderKernel, ModelFile, ModelFileError};
use crate::symbols::{NotePhase, SymbolEncoder, SymbolVocabulary, Trajectories};
use crate::voice::{PhaseMode, Voice};

use feed::{NoteState, VoiceFeed};

/// MIDI channels.
const CHANNELS: usize = 16;

/// A performance event, already split from MIDI bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoteEvent {
    /// A key goes down.
    NoteOn {
        /// MIDI channel (0–15).
        channel: u8,
        /// MIDI key.
        key: u8,
        /// MIDI velocity (1–127).
        velocity: u8,
    },
    /// A key comes up.
    NoteOff {
        /// MIDI channel.
        channel: u8,
        /// MIDI key.
        key: u8,
    },
    /// The sustain pedal (CC 64) goes down or up.
    Sustain {
        /// MIDI channel.
        channel: u8,
        /// Pedal down.
        down: bool,
    },
    /// Pitch bend in semitones (already scaled by the bend range).
    PitchBend {
        /// MIDI channel.
        channel: u8,
        /// Bend in semitones.
        semitones: f32,
    },
    /// Release every note (CC 123).
    AllNotesOff,
}

/// Why a model cannot be played from notes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlayerError {
    /// The model file is unusable.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// The model has no symbol VAE.
    #[error("this model was trained without symbols (no pitch/dynamics/instrument labels), so it cannot be played from notes; retrain it on labelled notes")]
    NoSymbols,
}

/// Per-channel controller state.
#[derive(Debug, Clone, Copy, Default)]
struct Channel {
    /// Current pitch bend in semitones.
    bend: f32,
    /// Sustain pedal down.
    sustain: bool,
}

/// One voice: its reconstruction and its note.
struct PlayerVoice {
    /// Phase reconstruction and overlap-add.
    voice: Voice,
    /// The note it plays and where the note is in its life.
    note: NoteState,
}

/// A polyphonic player of one model. Built off the audio thread; `handle` and `render` never
/// allocate.
pub struct NotePlayer {
    /// q(z|y) for note centres.
    encoder: SymbolEncoder,
    /// z → magnitudes.
    decoder: DecoderKernel,
    /// Attack/release templates, when the model has them.
    trajectories: Option<Trajectories>,
    /// The voices.
    voices: Vec<PlayerVoice>,
    /// Controller state per MIDI channel.
    channels: [Channel; CHANNELS],
    /// Instrument position (fractions morph between neighbours).
    instrument: f32,
    /// One voice's samples before mixing.
    scratch: Vec<f32>,
    /// Counts note-ons, to find the oldest voice.
    clock: u64,
}

impl NotePlayer {
    /// A player of `model` with `voices` voices rendering blocks of up to `max_block` samples
    /// per call (longer calls are split).
    pub fn new(
        model: &ModelFile,
        mode: PhaseMode,
        voices: usize,
        max_block: usize,
    ) -> Result<Self, PlayerError> {
        let encoder = SymbolEncoder::new(model)?.ok_or(PlayerError::NoSymbols)?;
        let trajectories = Trajectories::new(model, encoder.vocabulary())?;
        let config = model.manifest.signal.stft()?;
        let decoder = DecoderKernel::new(model, 1)?;
        let latent = decoder.latent();
        let voices = (0..voices.max(1))
            .map(|_| PlayerVoice {
                voice: Voice::new(&config, mode),
                note: NoteState::new(latent),
            })
            .collect();
        Ok(Self {
            encoder,
            decoder,
            trajectories,
            voices,
            channels: [Channel::default(); CHANNELS],
            instrument: 0.0,
            scratch: vec![0.0; max_block.max(1)],
            clock: 0,
        })
    }

    /// Samples between an event and its sound: the voices' reconstruction latency.
    pub fn latency_samples(&self) -> usize {
        self.voices.first().map_or(0, |v| v.voice.latency_samples())
    }

    /// The instruments the model knows, in order.
    pub fn instruments(&self) -> &[String] {
        self.encoder.vocabulary().instruments()
    }

    /// Selects the instrument position: an index into [`NotePlayer::instruments`]; fractions
    /// morph between neighbours. Sounding notes follow.
    pub fn set_instrument(&mut self, position: f32) {
        self.instrument = if position.is_finite() { position } else { 0.0 };
    }

    /// The model's symbol vocabulary (instruments, trained octaves, dynamics).
    pub fn vocabulary(&self) -> &SymbolVocabulary {
        self.encoder.vocabulary()
    }

    /// Voices currently sounding.
    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.note.is_active()).count()
    }

    /// Applies one event now (call between `render` calls for sample-accurate timing).
    pub fn handle(&mut self, event: NoteEvent) {
        match event {
            NoteEvent::NoteOn {
                channel,
                key,
                velocity: 0,
            } => self.handle(NoteEvent::NoteOff { channel, key }),
            NoteEvent::NoteOn {
                channel,
                key,
                velocity,
            } => self.note_on(channel, key, velocity),
            NoteEvent::NoteOff { channel, key } => {
                let pedal = self.channel(channel).sustain;
                for v in &mut self.voices {
                    if v.note.is_held(channel, key) {
                        v.note.key_up(pedal);
                    }
                }
            }
            NoteEvent::Sustain { channel, down } => {
                self.channel_mut(channel).sustain = down;
                if !down {
                    for v in &mut self.voices {
                        v.note.pedal_up(channel);
                    }
                }
            }
            NoteEvent::PitchBend { channel, semitones } => {
                self.channel_mut(channel).bend = if semitones.is_finite() {
                    semitones.clamp(-48.0, 48.0)
                } else {
                    0.0
                };
            }
            NoteEvent::AllNotesOff => {
                for v in &mut self.voices {
                    v.note.key_up(false);
                    v.note.pedal_up_all();
                }
            }
        }
    }

    /// Silences every voice at once and forgets controller state.
    pub fn reset(&mut self) {
        for v in &mut self.voices {
            v.voice.reset();
            v.note.stop();
        }
        self.channels = [Channel::default(); CHANNELS];
    }

    /// Renders the next `out.len()` samples of all voices, mixed.
    pub fn render(&mut self, out: &mut [f32]) {
        out.fill(0.0);
        let block = self.scratch.len();
        let mut start = 0;
        while start < out.len() {
            let n = block.min(out.len() - start);
            for v in &mut self.voices {
                if !v.note.is_active() {
                    continue;
                }
                let bend = self.channels[usize::from(v.note.channel()) % CHANNELS].bend;
                let mut feed = VoiceFeed {
                    note: &mut v.note,
                    encoder: &mut self.encoder,
                    decoder: &mut self.decoder,
                    trajectories: self.trajectories.as_ref(),
                    bend,
                    instrument: self.instrument,
                };
                v.voice.render(&mut self.scratch[..n], &mut feed);
                for (o, s) in out[start..start + n].iter_mut().zip(&self.scratch[..n]) {
                    *o += s;
                }
            }
            start += n;
        }
    }

    /// Starts a note on a free voice, or steals the quietest-to-be one.
    fn note_on(&mut self, channel: u8, key: u8, velocity: u8) {
        self.clock += 1;
        let index = self
            .voices
            .iter()
            .position(|v| !v.note.is_active())
            .or_else(|| {
                // Steal the released voice furthest into its release, else the oldest note.
                self.voices
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| match v.note.phase() {
                        NotePhase::Released(t) => Some((i, t)),
                        NotePhase::Held(_) => None,
                    })
                    .max_by_key(|&(_, t)| t)
                    .map(|(i, _)| i)
            })
            .or_else(|| {
                self.voices
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, v)| v.note.started())
                    .map(|(i, _)| i)
            })
            .unwrap_or(0);
        let dynamics = self
            .encoder
            .vocabulary()
            .dynamics_position(f32::from(velocity));
        let gain = self.encoder.vocabulary().velocity_gain(f32::from(velocity));
        let v = &mut self.voices[index];
        v.voice.reset();
        v.note.start(channel, key, dynamics, gain, self.clock);
    }

    fn channel(&self, channel: u8) -> Channel {
        self.channels[usize::from(channel) % CHANNELS]
    }

    fn channel_mut(&mut self, channel: u8) -> &mut Channel {
        &mut self.channels[usize::from(channel) % CHANNELS]
    }
}
