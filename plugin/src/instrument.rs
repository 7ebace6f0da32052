//! Everything that depends on the loaded model and the host's configuration: the note player,
//! the latent axes, the resampler to the host rate and the queue that schedules MIDI events at
//! model-rate sample positions. Built whole on a background thread and handed to the audio
//! thread, so a model swap never allocates there.

use std::collections::VecDeque;
use std::sync::Arc;

use timbrespace_engine::axes::{audible_centre, AxisBasis, LatentAxes};
use timbrespace_engine::error::EngineError;
use timbrespace_engine::model::{ModelFile, ModelFileError};
use timbrespace_engine::player::{NoteEvent, NotePlayer, PlayMode};
use timbrespace_engine::resample::StreamResampler;
use timbrespace_engine::steering::Steering;

use crate::params::{rotate, Controls, PhaseParam, AXES};

/// Voices per instrument: the polyphony.
pub const VOICES: usize = 16;
/// Model-rate samples the resampler pulls at a time (and the player renders at once).
const CHUNK: usize = 64;
/// Scheduled events the queue holds; more in one block are dropped (hosts send far fewer).
const QUEUE: usize = 1024;
/// Largest move per hop toward a descriptor target, in σ: about 17 σ/s at the default
/// model's hop, so a target change is reached within a tenth of a second or so, in a glide
/// rather than a jump.
const TARGET_STEP: f32 = 0.2;

/// The host's audio configuration an instrument is built for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostConfig {
    /// Host sample rate in Hz.
    pub rate: f32,
    /// Largest block the host will ask for.
    pub max_block: usize,
}

/// Why an instrument cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    /// The model is unusable.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// The host's rate is unusable.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The latent axes of every basis a model offers.
pub struct AxisSet {
    /// Raw axes (every model has them).
    raw: LatentAxes,
    /// PCA axes, when the model stores them.
    pca: Option<LatentAxes>,
    /// ICA axes, when the model stores them.
    ica: Option<LatentAxes>,
}

impl AxisSet {
    /// The axes of `basis`: a model without that projection moves along its raw axes.
    pub fn get(&self, basis: AxisBasis) -> &LatentAxes {
        match basis {
            AxisBasis::Raw => &self.raw,
            AxisBasis::Pca => self.pca.as_ref().unwrap_or(&self.raw),
            AxisBasis::Ica => self.ica.as_ref().unwrap_or(&self.raw),
        }
    }
}

/// A model ready to play at the host's rate.
pub struct Instrument {
    /// The model, for the editor (shared, never touched by the audio thread).
    model: Arc<ModelFile>,
    /// Where the model came from (empty for the embedded default).
    path: String,
    /// The host configuration it was built for.
    host: HostConfig,
    /// The phase mode its voices run.
    phase: PhaseParam,
    /// Voices, symbols and decoder at the model's rate.
    player: NotePlayer,
    /// The axes of each basis.
    axes: AxisSet,
    /// Model rate → host rate.
    resampler: StreamResampler,
    /// Events waiting for their model-rate sample, in time order.
    queue: VecDeque<(u64, NoteEvent)>,
    /// Model-rate samples rendered so far.
    model_clock: u64,
    /// Host-rate samples rendered so far.
    host_clock: u64,
    /// Model rate / host rate.
    ratio: f64,
    /// Model-rate samples every event is delayed by, so that it lands in a chunk the
    /// resampler has not pulled yet (this is what makes timing sample-accurate).
    schedule_delay: u64,
    /// Where free navigation starts (axes at 0): an audible point of the model.
    free_centre: Vec<f32>,
    /// Scratch for the control point.
    control: Vec<f32>,
    /// Axis positions after the rotation.
    rotated: [f32; AXES],
}

impl Instrument {
    /// Builds `model` for `host` with voices running `phase`.
    pub fn new(
        model: Arc<ModelFile>,
        path: String,
        host: HostConfig,
        phase: PhaseParam,
    ) -> Result<Self, InstrumentError> {
        let model_rate = model.manifest.signal.sample_rate as usize;
        let host_rate = if host.rate.is_finite() && host.rate >= 1.0 {
            host.rate.round() as usize
        } else {
            return Err(EngineError::SampleRate(0).into());
        };
        let mut player = NotePlayer::new(&model, phase.mode(), VOICES, CHUNK)?;
        let axes = AxisSet {
            raw: LatentAxes::new(&model, AxisBasis::Raw)?,
            pca: LatentAxes::new(&model, AxisBasis::Pca).ok(),
            ica: LatentAxes::new(&model, AxisBasis::Ica).ok(),
        };
        let resampler = StreamResampler::new(model_rate, host_rate, CHUNK)?;
        let latent = player.latent();
        let free_centre = audible_centre(&model)?;
        player.set_steering(Steering::new(&model, &free_centre)?);
        Ok(Self {
            model,
            path,
            host,
            phase,
            player,
            axes,
            resampler,
            queue: VecDeque::with_capacity(QUEUE),
            model_clock: 0,
            host_clock: 0,
            ratio: model_rate as f64 / host_rate as f64,
            schedule_delay: 2 * CHUNK as u64,
            free_centre,
            control: vec![0.0; latent],
            rotated: [0.0; AXES],
        })
    }

    /// The model.
    pub fn model(&self) -> &Arc<ModelFile> {
        &self.model
    }

    /// Where the model came from (empty for the embedded default).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The host configuration it was built for.
    pub fn host(&self) -> HostConfig {
        self.host
    }

    /// The phase mode its voices run.
    pub fn phase(&self) -> PhaseParam {
        self.phase
    }

    /// The player (for reading voice positions).
    pub fn player(&self) -> &NotePlayer {
        &self.player
    }

    /// Host-rate samples from an event to its sound: scheduling, reconstruction, resampling.
    pub fn latency_samples(&self) -> u32 {
        let model = self.schedule_delay as f64 + self.player.latency_samples() as f64;
        (model / self.ratio).round() as u32 + self.resampler.delay() as u32
    }

    /// Applies the controls that change no allocation (mode, axes, instrument, envelope).
    pub fn set_controls(&mut self, controls: &Controls) {
        let mode = controls.mode;
        self.player.set_mode(mode);
        let instruments = self.player.instruments().len();
        self.player.set_instrument(
            controls.instrument.clamp(0.0, 1.0) * instruments.saturating_sub(1) as f32,
        );
        self.player.set_envelope(controls.envelope);
        self.player.set_transpose(controls.transpose);
        self.player.set_root_key(controls.root_key);
        self.rotated = controls.axes;
        (self.rotated[0], self.rotated[1]) = rotate(
            controls.axes[0],
            controls.axes[1],
            controls.rotation_degrees,
        );
        let axes = self.axes.get(controls.basis);
        match self.player.mode() {
            PlayMode::Notes => self.control.fill(0.0),
            PlayMode::Free => self.control.copy_from_slice(&self.free_centre),
        }
        axes.displace(&self.rotated, &mut self.control);
        self.player.set_control(&self.control);
        let target = controls.target.and_then(|descriptor| {
            self.player
                .steering()
                .map(|s| s.target(descriptor, controls.target_amount))
        });
        self.player.set_target(target, TARGET_STEP);
    }

    /// Schedules `event`, which the host placed `offset` samples into the block about to be
    /// rendered. Returns false when the queue is full and the event was dropped.
    pub fn schedule(&mut self, offset: u32, event: NoteEvent) -> bool {
        let host_time = self.host_clock + u64::from(offset);
        let model_time = (host_time as f64 * self.ratio) as u64 + self.schedule_delay;
        if self.queue.len() == self.queue.capacity() {
            return false;
        }
        self.queue.push_back((model_time, event));
        true
    }

    /// Silences every voice and forgets pending events.
    pub fn reset(&mut self) {
        self.player.reset();
        self.queue.clear();
    }

    /// Renders the next `out.len()` host-rate samples (mono).
    pub fn render(&mut self, out: &mut [f32]) {
        let Self {
            player,
            resampler,
            queue,
            model_clock,
            ..
        } = self;
        resampler.render(out, &mut |chunk: &mut [f32]| {
            let end = *model_clock + chunk.len() as u64;
            let mut done = 0usize;
            while let Some(&(time, event)) = queue.front() {
                if time >= end {
                    break;
                }
                // Late events (there should be none) play at the start of the chunk.
                let at = time.saturating_sub(*model_clock) as usize;
                if at > done {
                    player.render(&mut chunk[done..at]);
                    done = at;
                }
                player.handle(event);
                queue.pop_front();
            }
            player.render(&mut chunk[done..]);
            *model_clock = end;
        });
        self.host_clock += out.len() as u64;
    }
}
