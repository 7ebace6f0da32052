//! The polyphonic note player: MIDI-like events in, audio out. Each note becomes a symbol
//! point (key + bend, dynamics from velocity, instrument), the symbol encoder turns it into a
//! latent centre, the note's trajectory moves it (and its level) through attack and release,
//! the decoder kernel turns it into magnitudes, an engine [`Voice`] reconstructs the phase and
//! an ADSR shapes the level. In free mode every note plays one latent point instead (the
//! thesis's free navigation). Both the offline MIDI renderer and the plugin play through this.

mod envelope;
mod feed;
mod stagger;

pub use envelope::Envelope;

use envelope::{Adsr, EnvelopeSteps};

use crate::model::manifest::PitchDirection;
use crate::model::{DecoderKernel, ModelFile, ModelFileError};
use crate::steering::{SteerState, Steering, Target};
use crate::symbols::{NotePhase, SymbolEncoder, SymbolVocabulary, Trajectories};
use crate::voice::{PhaseMode, Voice};

use feed::{LatentSource, NoteState, Prepared, PreparedFrame};
use stagger::{DelayLine, Gate, GateTimer, GROUPS};

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

/// Where notes get their latent points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlayMode {
    /// From their symbols (pitch, octave, dynamics, instrument) through q(z|y); the control
    /// point is an offset.
    #[default]
    Notes,
    /// The control point itself; MIDI only gates and scales the sound.
    Free,
}

/// The key free mode plays untransposed until told otherwise (middle C).
pub const DEFAULT_ROOT_KEY: u8 = 60;

/// Largest steering move per hop until [`NotePlayer::set_target`] says otherwise, in σ.
const DEFAULT_MAX_STEP: f32 = 0.2;

/// Release length for models without release templates, in seconds.
const DEFAULT_RELEASE_SECONDS: f32 = 0.1;

/// Per-channel controller state.
#[derive(Debug, Clone, Copy, Default)]
struct Channel {
    /// Current pitch bend in semitones.
    bend: f32,
    /// Sustain pedal down.
    sustain: bool,
}

/// One voice: its reconstruction, its note and its envelope.
struct PlayerVoice {
    /// Phase reconstruction and overlap-add.
    voice: Voice,
    /// The note it plays and where the note is in its life.
    note: NoteState,
    /// Its amplitude envelope.
    adsr: Adsr,
    /// The frame prepared for its next step.
    prepared: Prepared,
    /// The step grid it is on (see [`stagger`]).
    group: usize,
    /// Silent samples before its first step.
    wait: usize,
    /// Delays its sound so that every note sounds one hop after its note-on.
    delay: DelayLine,
    /// Its envelope's gate changes, delayed like the sound.
    gate: GateTimer,
    /// Its displacement toward the descriptor target.
    steer: SteerState,
}

impl PlayerVoice {
    /// Samples until it pulls its next frame (counting the wait before its first step).
    fn until_step(&self) -> usize {
        self.wait + self.voice.samples_until_step()
    }
}

/// A polyphonic player of one model. Built off the audio thread; `handle`, `render` and the
/// setters never allocate.
pub struct NotePlayer {
    /// q(z|y) for note centres; `None` for an audio-only model, which plays in free mode only.
    encoder: Option<SymbolEncoder>,
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
    /// Notes or free navigation.
    mode: PlayMode,
    /// The latent control point: an offset in notes mode, the point itself in free mode.
    control: Vec<f32>,
    /// The envelope as per-sample steps at the model's rate.
    steps: EnvelopeSteps,
    /// The model's sample rate (envelope times are converted with it).
    rate: f32,
    /// One voice's samples before mixing.
    scratch: Vec<f32>,
    /// Latent points of the voices decoded together, `latent` each.
    batch_z: Vec<f32>,
    /// Their decoded magnitudes, `bins` each.
    batch_frames: Vec<f32>,
    /// Counts note-ons, to find the oldest voice.
    clock: u64,
    /// Model samples rendered so far (places new notes on the step grids).
    now: u64,
    /// Samples per hop: how much later than its note-on every note sounds.
    hop: usize,
    /// The descriptor field voices follow targets on, once installed.
    steering: Option<Steering>,
    /// The descriptor target, if any.
    target: Option<Target>,
    /// Largest steering move per hop, in σ.
    max_step: f32,
    /// The steering displacement a voice had last: new notes start there, so a chord played
    /// under a steady target does not have to find it again.
    last_plane: [f32; 2],
    /// Scratch: the control point plus one voice's steering displacement.
    voice_control: Vec<f32>,
    /// The model's learned transposition direction, if it has one: free mode then plays
    /// MIDI keys by moving along it.
    pitch: Option<PitchDirection>,
    /// Semitones every note is transposed by (the Transpose control).
    transpose: f32,
    /// The key at which free mode plays the control point untransposed.
    root_key: f32,
}

impl NotePlayer {
    /// A player of `model` with `voices` voices rendering blocks of up to `max_block` samples
    /// per call (longer calls are split). Its envelope starts as the model's natural one.
    pub fn new(
        model: &ModelFile,
        mode: PhaseMode,
        voices: usize,
        max_block: usize,
    ) -> Result<Self, ModelFileError> {
        let encoder = SymbolEncoder::new(model)?;
        let has_symbols = encoder.is_some();
        let trajectories = match &encoder {
            Some(e) => Trajectories::new(model, e.vocabulary())?,
            None => None,
        };
        let config = model.manifest.signal.stft()?;
        let count = voices.max(1);
        let decoder = DecoderKernel::new(model, count)?;
        let (latent, bins) = (decoder.latent(), decoder.bins());
        let voices = (0..count)
            .map(|_| PlayerVoice {
                voice: Voice::new(&config, mode),
                note: NoteState::new(latent),
                adsr: Adsr::default(),
                prepared: Prepared::Nothing,
                group: 0,
                wait: 0,
                delay: DelayLine::new(config.hop()),
                gate: GateTimer::default(),
                steer: SteerState::default(),
            })
            .collect();
        let rate = model.manifest.signal.sample_rate as f32;
        let natural_release = trajectories.as_ref().map_or(DEFAULT_RELEASE_SECONDS, |t| {
            (t.release_frames() * config.hop()) as f32 / rate
        });
        Ok(Self {
            encoder,
            decoder,
            trajectories,
            voices,
            channels: [Channel::default(); CHANNELS],
            instrument: 0.0,
            // An audio-only model can only play in free mode.
            mode: if has_symbols {
                PlayMode::Notes
            } else {
                PlayMode::Free
            },
            control: vec![0.0; latent],
            steps: Envelope::natural(natural_release).steps(rate),
            rate,
            scratch: vec![0.0; max_block.max(1)],
            batch_z: vec![0.0; count * latent],
            batch_frames: vec![0.0; count * bins],
            clock: 0,
            now: 0,
            hop: config.hop(),
            steering: None,
            target: None,
            max_step: DEFAULT_MAX_STEP,
            last_plane: [0.0; 2],
            voice_control: vec![0.0; latent],
            pitch: model.manifest.pitch_direction.clone(),
            transpose: 0.0,
            root_key: f32::from(DEFAULT_ROOT_KEY),
        })
    }

    /// Installs the descriptor field that targets are followed on (built off the audio
    /// thread with [`Steering::new`]).
    pub fn set_steering(&mut self, steering: Steering) {
        self.steering = Some(steering);
    }

    /// The installed descriptor field.
    pub fn steering(&self) -> Option<&Steering> {
        self.steering.as_ref()
    }

    /// Sets (or clears) the descriptor target every voice follows, moving at most `max_step`
    /// σ per hop. Needs [`NotePlayer::set_steering`] first; without it targets are ignored.
    pub fn set_target(&mut self, target: Option<Target>, max_step: f32) {
        if target.map(|t| t.descriptor) != self.target.map(|t| t.descriptor) {
            // A measurement of another descriptor would size the next move wrongly.
            self.voices
                .iter_mut()
                .for_each(|v| v.steer.measured = f32::NAN);
        }
        self.target = target;
        self.max_step = max_step;
    }

    /// The descriptor target voices follow, if any.
    pub fn target(&self) -> Option<Target> {
        self.target
    }

    /// The followed descriptor last measured on each sounding voice (NaN where none yet),
    /// written into `out`; returns how many voices were written.
    pub fn measured(&self, out: &mut [f32]) -> usize {
        let mut n = 0;
        for (v, o) in self
            .voices
            .iter()
            .filter(|v| v.note.is_active())
            .zip(out.iter_mut())
        {
            *o = v.steer.measured;
            n += 1;
        }
        n
    }

    /// A player for notes mode, refusing an audio-only model (offline rendering of a score
    /// has no use for free mode).
    pub fn for_notes(
        model: &ModelFile,
        mode: PhaseMode,
        voices: usize,
        max_block: usize,
    ) -> Result<Self, PlayerError> {
        let player = Self::new(model, mode, voices, max_block)?;
        if player.has_symbols() {
            Ok(player)
        } else {
            Err(PlayerError::NoSymbols)
        }
    }

    /// Samples between an event and its sound: one hop of staggering plus the voices'
    /// reconstruction latency.
    pub fn latency_samples(&self) -> usize {
        self.hop + self.voices.first().map_or(0, |v| v.voice.latency_samples())
    }

    /// Whether notes can take their sound from symbols (the model was trained with them).
    pub fn has_symbols(&self) -> bool {
        self.encoder.is_some()
    }

    /// The model's symbol vocabulary (instruments, trained octaves, dynamics), if it has one.
    pub fn vocabulary(&self) -> Option<&SymbolVocabulary> {
        self.encoder.as_ref().map(SymbolEncoder::vocabulary)
    }

    /// The instruments the model knows, in order (none for an audio-only model).
    pub fn instruments(&self) -> &[String] {
        self.vocabulary().map_or(&[], |v| v.instruments())
    }

    /// Latent size.
    pub fn latent(&self) -> usize {
        self.control.len()
    }

    /// Selects the instrument position: an index into [`NotePlayer::instruments`]; fractions
    /// morph between neighbours. Sounding notes follow.
    pub fn set_instrument(&mut self, position: f32) {
        self.instrument = if position.is_finite() { position } else { 0.0 };
    }

    /// Chooses where notes get their latent points. Notes mode needs symbols: an audio-only
    /// model stays in free mode.
    pub fn set_mode(&mut self, mode: PlayMode) {
        self.mode = if self.has_symbols() {
            mode
        } else {
            PlayMode::Free
        };
    }

    /// The mode notes play in.
    pub fn mode(&self) -> PlayMode {
        self.mode
    }

    /// Sets the latent control point (an offset in notes mode, the point in free mode) from
    /// `z`; missing or non-finite values count as 0.
    pub fn set_control(&mut self, z: &[f32]) {
        for (j, c) in self.control.iter_mut().enumerate() {
            let x = z.get(j).copied().unwrap_or(0.0);
            *c = if x.is_finite() { x } else { 0.0 };
        }
    }

    /// Transposes every note by `semitones` (non-finite: none). Notes mode moves their pitch
    /// symbol; free mode moves along the model's pitch direction, if it has one.
    pub fn set_transpose(&mut self, semitones: f32) {
        self.transpose = if semitones.is_finite() {
            semitones
        } else {
            0.0
        };
    }

    /// Sets the key at which free mode plays the control point untransposed (keys above and
    /// below move along the pitch direction).
    pub fn set_root_key(&mut self, key: f32) {
        self.root_key = if key.is_finite() {
            key.clamp(0.0, 127.0)
        } else {
            f32::from(DEFAULT_ROOT_KEY)
        };
    }

    /// Whether free mode can transpose: the model has a learned pitch direction.
    pub fn has_pitch_direction(&self) -> bool {
        self.pitch.is_some()
    }

    /// Sets the amplitude envelope of every voice (sounding notes follow from their current
    /// stage).
    pub fn set_envelope(&mut self, envelope: Envelope) {
        self.steps = envelope.steps(self.rate);
    }

    /// Voices currently sounding.
    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.note.is_active()).count()
    }

    /// The latent points of the sounding voices, each `latent` long, written into `out` one
    /// after the other; returns how many were written (for showing where the voices are).
    pub fn voice_points(&self, out: &mut [f32]) -> usize {
        let latent = self.latent();
        let mut n = 0;
        for v in self.voices.iter().filter(|v| v.note.is_active()) {
            let Some(slot) = out.get_mut(n * latent..(n + 1) * latent) else {
                break;
            };
            slot.copy_from_slice(v.note.point_z());
            n += 1;
        }
        n
    }

    /// Applies one event now (call between `render` calls for sample-accurate timing).
    pub fn handle(&mut self, event: NoteEvent) {
        self.apply(event);
        // Released notes start their envelope's release one hop from now (with their sound),
        // to the sample.
        for v in &mut self.voices {
            if v.note.is_active() && matches!(v.note.phase(), NotePhase::Released(_)) {
                v.gate.close_in(self.hop);
            }
        }
    }

    /// Updates notes and controllers for `event`.
    fn apply(&mut self, event: NoteEvent) {
        match event {
            NoteEvent::NoteOn {
                channel,
                key,
                velocity: 0,
            } => self.apply(NoteEvent::NoteOff { channel, key }),
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
                for c in &mut self.channels {
                    c.sustain = false;
                }
            }
        }
    }

    /// Silences every voice at once and forgets controller state.
    pub fn reset(&mut self) {
        for v in &mut self.voices {
            v.voice.reset();
            v.note.stop();
            v.adsr.stop();
            v.gate.clear();
            v.delay.restart(self.hop);
            v.wait = 0;
        }
        self.channels = [Channel::default(); CHANNELS];
    }

    /// Renders the next `out.len()` samples of all voices, mixed. Whenever voices reach a
    /// hop boundary together (a chord's notes do), their next spectra are decoded in one
    /// batch; a voice whose latent point and level did not move decodes nothing.
    pub fn render(&mut self, out: &mut [f32]) {
        out.fill(0.0);
        let hop = self.hop;
        let mut start = 0;
        while start < out.len() {
            self.prepare_steps();
            // Up to the next instant some voice steps (a voice stepping now steps at the
            // segment's first sample and not again within a hop).
            let n = self
                .voices
                .iter()
                .filter(|v| v.note.is_active())
                .map(|v| match v.until_step() {
                    0 => hop,
                    s => s,
                })
                .min()
                .unwrap_or(usize::MAX)
                .min(self.scratch.len())
                .min(out.len() - start);
            for v in &mut self.voices {
                if !v.note.is_active() {
                    continue;
                }
                // A waiting voice is silent until its first step, at a segment's start.
                let silent = v.wait.min(n);
                v.wait -= silent;
                self.scratch[..silent].fill(0.0);
                if silent < n {
                    let mut source = PreparedFrame {
                        prepared: &mut v.prepared,
                        rows: &self.batch_frames,
                        level: v.note.level(),
                    };
                    v.voice.render(&mut self.scratch[silent..n], &mut source);
                }
                for (o, &s) in out[start..start + n].iter_mut().zip(&self.scratch[..n]) {
                    match v.gate.tick() {
                        Gate::Open => v.adsr.gate_on(),
                        Gate::Close => v.adsr.gate_off(),
                        Gate::Hold => {}
                    }
                    *o += v.delay.process(s) * v.adsr.next(&self.steps);
                }
                if v.adsr.is_done() && !v.gate.opening() {
                    v.note.stop();
                }
            }
            start += n;
            self.now += n as u64;
        }
    }

    /// Prepares the frames of the voices about to step: moves each note one hop on and
    /// decodes those whose latent point or level changed, all in one batch.
    fn prepare_steps(&mut self) {
        let mode = self.mode();
        let latent = self.control.len();
        let mut rows = 0;
        for v in &mut self.voices {
            if !v.note.is_active() || v.until_step() != 0 {
                continue;
            }
            let bend =
                self.channels[usize::from(v.note.channel()) % CHANNELS].bend + self.transpose;
            self.voice_control.copy_from_slice(&self.control);
            if let Some(steering) = &self.steering {
                steering.update(&mut v.steer, self.target, v.note.point_z(), self.max_step);
                steering.displace(&v.steer, &mut self.voice_control);
                self.last_plane = v.steer.plane;
            }
            let mut source = match (mode, self.encoder.as_mut()) {
                (PlayMode::Notes, Some(encoder)) => LatentSource::Symbols {
                    encoder,
                    trajectories: self.trajectories.as_ref(),
                    offset: &self.voice_control,
                    bend,
                    instrument: self.instrument,
                },
                _ => LatentSource::Free {
                    point: &self.voice_control,
                    pitch: self.pitch.as_ref().map(|p| (p, bend - self.root_key)),
                },
            };
            v.prepared = if v.note.advance(&mut source) {
                self.batch_z[rows * latent..(rows + 1) * latent].copy_from_slice(v.note.point_z());
                rows += 1;
                Prepared::Row(rows - 1)
            } else {
                Prepared::Unchanged
            };
        }
        if rows > 0 {
            self.decoder
                .decode_batch_magnitudes(&self.batch_z[..rows * latent], &mut self.batch_frames);
        }
        if let (Some(steering), Some(target)) = (&self.steering, self.target) {
            let bins = self.decoder.bins();
            for v in &mut self.voices {
                if let Prepared::Row(r) = v.prepared {
                    let row = &self.batch_frames[r * bins..(r + 1) * bins];
                    v.steer.measured = steering.measure(row, target.descriptor);
                }
            }
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
                    .filter_map(|(i, v)| v.adsr.release_position().map(|p| (i, p)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
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
        let velocity = f32::from(velocity);
        let (dynamics, gain) = match (self.mode(), self.vocabulary()) {
            (PlayMode::Notes, Some(v)) => {
                (v.dynamics_position(velocity), v.velocity_gain(velocity))
            }
            // Free mode: the velocity only scales the level.
            _ => (0.0, velocity / 127.0),
        };
        let mut load = [0usize; GROUPS];
        for (i, v) in self.voices.iter().enumerate() {
            if i != index && v.note.is_active() {
                load[v.group % GROUPS] += 1;
            }
        }
        let start = stagger::start(self.now, self.hop, &load);
        let v = &mut self.voices[index];
        v.voice.reset();
        v.note.start(channel, key, dynamics, gain, self.clock);
        v.adsr.stop();
        v.gate.open_in(self.hop);
        v.group = start.group;
        v.wait = start.wait;
        v.delay.restart(start.delay);
        v.steer = SteerState {
            plane: self.last_plane,
            measured: f32::NAN,
        };
    }

    fn channel(&self, channel: u8) -> Channel {
        self.channels[usize::from(channel) % CHANNELS]
    }

    fn channel_mut(&mut self, channel: u8) -> &mut Channel {
        &mut self.channels[usize::from(channel) % CHANNELS]
    }
}
