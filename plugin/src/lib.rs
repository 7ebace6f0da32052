//! The Timbrespace instrument: a nice-plug CLAP/VST3 plugin (and standalone program) that
//! plays a `.tsm` model in real time. MIDI notes become latent points through the model's
//! symbol encoder (or the latent axes alone, in free mode), the engine's voices turn them into
//! sound, and an egui editor shows the latent map, the voices and what the sound reads as.
//!
//! Host glue lives here; [`session::Session`] holds everything else so tests can drive it
//! without a host.

pub mod agent;
pub mod editor;
pub mod instrument;
pub mod loader;
pub mod midi;
pub mod params;
pub mod session;
pub mod shared;
pub mod synth;

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditor;

use editor::EditorApp;
use instrument::HostConfig;
use params::TimbrespaceParams;
use session::Session;
use timbrespace_engine::motif::sequencer::TransportInfo;

pub use timbrespace_engine as engine;

/// The instrument as the host sees it.
pub struct Timbrespace {
    /// Parameters and persisted fields.
    params: Arc<TimbrespaceParams>,
    /// Everything else.
    session: Session,
    /// The agent's link, for feedback from MIDI controllers.
    agent: Arc<agent::AgentLink>,
    /// Whether each feedback controller is down (a press counts once).
    reward_held: [bool; 2],
}

impl Default for Timbrespace {
    fn default() -> Self {
        let model_path = Arc::new(parking_lot::RwLock::new(String::new()));
        let session = Session::new(model_path.clone());
        let params = TimbrespaceParams::new(
            session.shared().instruments.clone(),
            model_path,
            session.motif_path().clone(),
            session.shared().agent.saved().clone(),
        );
        Self {
            params: Arc::new(params),
            agent: session.shared().agent.link().clone(),
            session,
            reward_held: [false; 2],
        }
    }
}

impl Timbrespace {
    /// The parameters (the host reaches them through [`Plugin::params`]).
    pub fn parameters(&self) -> &Arc<TimbrespaceParams> {
        &self.params
    }
}

impl Plugin for Timbrespace {
    const NAME: &'static str = "Timbrespace";
    const VENDOR: &'static str = "Timbrespace";
    const URL: &'static str = "https://timbrespace.invalid";
    const EMAIL: &'static str = "dev@timbrespace.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];
    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type Editor = EguiEditor<EditorApp>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), &self.session)
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let host = HostConfig {
            rate: config.sample_rate,
            max_block: config.max_buffer_size as usize,
        };
        let ok = self.session.activate(host, self.params.phase.value());
        context.set_latency_samples(self.session.latency_samples());
        ok
    }

    fn reset(&mut self) {
        self.session.synth().reset();
    }

    fn deactivate(&mut self) {
        self.session.deactivate();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let controls = self.params.controls();
        let ccs = (
            self.params.reward_plus_cc.load(Ordering::Relaxed),
            self.params.reward_minus_cc.load(Ordering::Relaxed),
        );
        let host = context.transport();
        let transport = TransportInfo {
            playing: host.playing,
            beat: host.pos_beats(),
            tempo: host.tempo,
        };
        let Self {
            agent,
            reward_held,
            session,
            ..
        } = self;
        let events = std::iter::from_fn(|| context.next_event()).filter_map(|event| {
            if let Some(reward) = midi::reward_press(&event, ccs, reward_held) {
                agent.give_feedback(reward);
            }
            midi::engine_event(&event, controls.bend_range)
        });
        if session.process(&controls, transport, events, buffer.as_slice()) {
            context.set_latency_samples(self.session.latency_samples());
        }
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for Timbrespace {
    const CLAP_ID: &'static str = "invalid.timbrespace.instrument";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Neural spectral synthesizer: play a learned timbre space");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::Synthesizer,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for Timbrespace {
    const VST3_CLASS_ID: [u8; 16] = *b"TimbrespaceInstr";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
}

nice_export_clap!(Timbrespace);
nice_export_vst3!(Timbrespace);
