//! The audio thread's side of the instrument, independent of any host: it takes in new
//! instruments from the loader, applies the controls, schedules events, renders, applies the
//! output gain and publishes what the editor shows. Nothing here allocates, locks or blocks.

use std::sync::Arc;

use timbrespace_engine::agent::MAX_DIMS;
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_engine::motif::sequencer::{MotifSequencer, TransportInfo};
use timbrespace_engine::player::NoteEvent;

use crate::instrument::{Instrument, VOICES};
use crate::loader::Handover;
use crate::params::{Controls, PhaseParam, AXIS_SIGMAS};
use crate::shared::{Shared, MAX_LATENT};

/// Output gain glides to a new value with this time constant, in seconds (no zipper noise).
const GAIN_GLIDE: f32 = 0.01;
/// The agent's offset glides to each new position with this time constant, in seconds: its
/// moves are steps, the sound must not be.
const AGENT_GLIDE: f32 = 0.05;

/// Host events one block can pass through beside the motif player; more are dropped (the
/// instrument's own queue holds no more either).
const PASSTHROUGH: usize = 1024;

/// The audio thread's instrument slot.
pub struct Synth {
    /// The instrument playing.
    instrument: Option<Box<Instrument>>,
    /// Queues to and from the loader.
    handover: Handover,
    /// What the editor reads.
    shared: Arc<Shared>,
    /// One block of mono output.
    mono: Vec<f32>,
    /// The gain being applied now (it glides to the control's value).
    gain: f32,
    /// Per-sample glide coefficient at the host rate.
    glide: f32,
    /// The phase mode a rebuild was asked for, until it arrives.
    pending_phase: Option<PhaseParam>,
    /// Scratch for publishing voice positions.
    points: Vec<f32>,
    /// The agent's offset as applied now, σ per axis (gliding to the agent's).
    agent_offset: [f32; MAX_DIMS],
    /// Share of the remaining distance the offset glides per block (set from the last
    /// block's length).
    agent_glide: f32,
    /// The momentary feedback and reset parameters as they were last block (they act when
    /// they turn on).
    held: [bool; 3],
    /// Motif mode's player, built for the host rate at [`Synth::install`] and replaced when
    /// the loader brings another bank's.
    sequencer: Option<Box<MotifSequencer>>,
    /// Whether Motif mode played last block (switching resets what sounds).
    motif_on: bool,
    /// This block's host events that go to the voices beside the motif's notes.
    passthrough: Vec<(u32, NoteEvent)>,
}

impl Synth {
    /// An empty slot; [`Synth::install`] gives it an instrument.
    pub fn new(handover: Handover, shared: Arc<Shared>) -> Self {
        Self {
            instrument: None,
            handover,
            shared,
            mono: Vec::new(),
            gain: 1.0,
            glide: 0.0,
            pending_phase: None,
            points: vec![0.0; VOICES * MAX_LATENT],
            agent_offset: [0.0; MAX_DIMS],
            agent_glide: 0.0,
            held: [false; 3],
            sequencer: None,
            motif_on: false,
            passthrough: Vec::with_capacity(PASSTHROUGH),
        }
    }

    /// Off the audio thread (activation): plays `instrument` from now on, with buffers for
    /// the host's largest block, and `motifs` in Motif mode.
    pub fn install(&mut self, instrument: Box<Instrument>, motifs: Arc<MotifBank>) {
        let host = instrument.host();
        self.mono = vec![0.0; host.max_block.max(1)];
        self.glide = 1.0 - (-1.0 / (GAIN_GLIDE * host.rate.max(1.0))).exp();
        self.pending_phase = None;
        self.sequencer = Some(Box::new(MotifSequencer::new(motifs, host.rate)));
        self.motif_on = false;
        self.instrument = Some(instrument);
    }

    /// The instrument playing.
    pub fn instrument(&self) -> Option<&Instrument> {
        self.instrument.as_deref()
    }

    /// Host-rate latency of the instrument playing.
    pub fn latency_samples(&self) -> u32 {
        self.instrument.as_ref().map_or(0, |i| i.latency_samples())
    }

    /// Starts a block: takes a newly loaded instrument if one is waiting (returns true then:
    /// the latency may have changed), asks for a rebuild if the phase mode changed, and
    /// applies the controls.
    pub fn begin_block(&mut self, controls: &Controls) -> bool {
        let mut swapped = false;
        // Take a new instrument only while the retired queue has room for the old one, so
        // the old one is never dropped here.
        if self.handover.retired.len() < self.handover.retired.capacity() {
            if let Some(new) = self.handover.incoming.pop() {
                let fits = self
                    .instrument
                    .as_ref()
                    .is_none_or(|old| old.host() == new.host());
                if fits {
                    if let Some(old) = self.instrument.replace(new) {
                        let _ = self.handover.retired.push(old);
                    }
                    self.pending_phase = None;
                    swapped = true;
                } else {
                    let _ = self.handover.retired.push(new);
                }
            }
        }
        self.take_motifs();
        let applied = self.with_agent(controls);
        if let Some(instrument) = &mut self.instrument {
            if controls.phase != instrument.phase()
                && self.pending_phase != Some(controls.phase)
                && self.handover.rebuilds.push(controls.phase).is_ok()
            {
                self.pending_phase = Some(controls.phase);
            }
            instrument.set_controls(&applied);
        }
        swapped
    }

    /// Takes a newly loaded bank's motif player if one is waiting (and the retired queue has
    /// room for the old one, which ends its notes first).
    fn take_motifs(&mut self) {
        if self.handover.motifs_retired.len() >= self.handover.motifs_retired.capacity() {
            return;
        }
        let Some(new) = self.handover.motifs_incoming.pop() else {
            return;
        };
        // Boxes are swapped, never made or freed here.
        if let Some(mut old) = self.sequencer.replace(new) {
            if let Some(instrument) = &mut self.instrument {
                for &(offset, event) in old.stop(0) {
                    instrument.schedule(offset, event);
                }
            }
            let _ = self.handover.motifs_retired.push(old);
        }
    }

    /// Exchanges with the agent (the parameters, the sliders, feedback on the rising edge of
    /// "Reward +" / "Reward −" / "Agent reset") and returns `controls` with its offset, gliding,
    /// added to the axes.
    fn with_agent(&mut self, controls: &Controls) -> Controls {
        let link = self.shared.agent.link();
        let agent = controls.agent;
        link.publish(
            agent.on,
            agent.dims,
            agent.period,
            agent.explore,
            &controls.axes[..MAX_DIMS],
        );
        let pressed = [agent.reward_plus, agent.reward_minus, agent.reset];
        let rising: [bool; 3] = std::array::from_fn(|i| pressed[i] && !self.held[i]);
        self.held = pressed;
        if rising[0] {
            link.give_feedback(1.0);
        }
        if rising[1] {
            link.give_feedback(-1.0);
        }
        if rising[2] {
            link.request_reset();
        }
        let mut target = [0.0; MAX_DIMS];
        link.offset(&mut target);
        let mut applied = *controls;
        for ((current, wanted), axis) in self
            .agent_offset
            .iter_mut()
            .zip(target)
            .zip(applied.axes.iter_mut())
        {
            *current += (wanted - *current) * self.agent_glide;
            if current.abs() > 1e-6 {
                *axis = (*axis + *current).clamp(-AXIS_SIGMAS, AXIS_SIGMAS);
            }
        }
        applied
    }

    /// The motif bank Motif mode plays now (`None` before activation).
    pub fn motif_bank(&self) -> Option<&Arc<MotifBank>> {
        self.sequencer.as_ref().map(|s| s.bank())
    }

    /// The agent's offset as the sound has it now, σ per axis.
    pub fn agent_offset(&self) -> &[f32; MAX_DIMS] {
        &self.agent_offset
    }

    /// Schedules a block of `len` samples' host `events` (in time order): as they come, or in
    /// Motif mode (`controls.motif`) through the motif player, whose notes follow `transport`.
    /// Switching the mode ends what sounds, so no note is left hanging.
    pub fn schedule_block(
        &mut self,
        events: impl IntoIterator<Item = (u32, NoteEvent)>,
        controls: &Controls,
        transport: TransportInfo,
        len: usize,
    ) {
        let (Some(instrument), Some(sequencer)) = (&mut self.instrument, &mut self.sequencer)
        else {
            return;
        };
        let motif = controls.motif;
        if motif.is_some() != self.motif_on {
            self.motif_on = motif.is_some();
            for &(offset, event) in sequencer.stop(0) {
                instrument.schedule(offset, event);
            }
            // Keys held before the switch would otherwise never hear their note-off.
            instrument.schedule(0, NoteEvent::AllNotesOff);
        }
        let Some(settings) = motif else {
            for (offset, event) in events {
                instrument.schedule(offset, event);
            }
            return;
        };
        self.passthrough.clear();
        for (offset, event) in events {
            match event {
                NoteEvent::NoteOn { .. } | NoteEvent::NoteOff { .. } => {
                    sequencer.key(offset, event);
                }
                NoteEvent::AllNotesOff => {
                    sequencer.key(offset, event);
                    push_event(&mut self.passthrough, offset, event);
                }
                _ => push_event(&mut self.passthrough, offset, event),
            }
        }
        // Both lists are in time order: merge them (host events first at equal offsets).
        let notes = sequencer.run(len, transport, &settings);
        let (mut a, mut b) = (self.passthrough.iter().peekable(), notes.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.0 <= y.0 => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            if let Some(&(offset, event)) = next {
                instrument.schedule(offset, event);
            }
        }
    }

    /// Silences everything.
    pub fn reset(&mut self) {
        if let Some(instrument) = &mut self.instrument {
            instrument.reset();
        }
    }

    /// Renders the block into every channel of `outputs` (all the same length, at most the
    /// host's largest block; longer blocks are rendered in pieces).
    pub fn render(&mut self, outputs: &mut [&mut [f32]], controls: &Controls) {
        let len = outputs.first().map_or(0, |c| c.len());
        let target = if controls.gain.is_finite() {
            controls.gain.clamp(0.0, 16.0)
        } else {
            1.0
        };
        let Some(instrument) = &mut self.instrument else {
            outputs.iter_mut().for_each(|c| c.fill(0.0));
            return;
        };
        self.agent_glide =
            1.0 - (-(len as f32) / (AGENT_GLIDE * instrument.host().rate.max(1.0))).exp();
        let step = self.mono.len().max(1);
        let mut start = 0;
        while start < len {
            let n = step.min(len - start);
            let mono = &mut self.mono[..n];
            instrument.render(mono);
            for s in mono.iter_mut() {
                self.gain += (target - self.gain) * self.glide;
                // A model that produces garbage must not reach the speakers.
                *s = if s.is_finite() {
                    (*s * self.gain).clamp(-4.0, 4.0)
                } else {
                    0.0
                };
            }
            for channel in outputs.iter_mut() {
                channel[start..start + n].copy_from_slice(mono);
            }
            start += n;
        }
        if self
            .shared
            .editor_open
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            let player = instrument.player();
            let count = player.voice_points(&mut self.points);
            self.shared
                .publish_voices(&self.points, count, player.latent());
            let target = player.target().map_or(f32::NAN, |t| t.value);
            let measured = player.measured(&mut self.points);
            let finite = self.points[..measured].iter().filter(|v| v.is_finite());
            let (sum, n) = finite.fold((0.0, 0), |(s, n), v| (s + v, n + 1));
            self.shared.target_value.set(target);
            self.shared
                .target_reached
                .set(if n > 0 { sum / n as f32 } else { f32::NAN });
            if let Some(first) = outputs.first() {
                self.shared.publish_output(first);
            }
        }
    }
}

/// Adds an event unless the block's list is full.
fn push_event(list: &mut Vec<(u32, NoteEvent)>, offset: u32, event: NoteEvent) {
    if list.len() < list.capacity() {
        list.push((offset, event));
    }
}
