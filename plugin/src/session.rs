//! One instance of the instrument without the host glue: the shared state, the loader thread
//! and the audio-thread synth, with activation (which restores the saved model) and the
//! per-block processing. The plugin wraps it; tests drive it directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_engine::motif::sequencer::TransportInfo;
use timbrespace_engine::player::NoteEvent;

use crate::agent::model_identity;
use crate::editor::LoadRequester;
use crate::instrument::{HostConfig, Instrument};
use crate::loader::{default_model, default_motifs, load_motif_bank, Loader};
use crate::params::{Controls, PhaseParam};
use crate::shared::Shared;
use crate::synth::Synth;

/// A playing instance.
pub struct Session {
    /// What the editor reads.
    shared: Arc<Shared>,
    /// The persisted model path ("" = embedded default).
    model_path: Arc<RwLock<String>>,
    /// Background loading (shared with the editor's load button).
    loader: Arc<Loader>,
    /// The audio thread's part.
    synth: Synth,
    /// The embedded default model.
    default: Arc<ModelFile>,
    /// The persisted motif bank path ("" = the embedded bank).
    motif_path: Arc<RwLock<String>>,
    /// The embedded motif bank.
    default_motifs: Arc<MotifBank>,
}

impl Session {
    /// A session that will play the default model once activated; `model_path` is the
    /// persisted field holding the user's model.
    pub fn new(model_path: Arc<RwLock<String>>) -> Self {
        let default = default_model();
        let default_motifs = default_motifs();
        let shared = Arc::new(Shared::new(default.clone(), default_motifs.clone()));
        let motif_path = Arc::new(RwLock::new(String::new()));
        let loader = Arc::new(Loader::start(
            shared.clone(),
            model_path.clone(),
            motif_path.clone(),
        ));
        let synth = Synth::new(loader.handover(), shared.clone());
        Self {
            shared,
            model_path,
            loader,
            synth,
            default,
            motif_path,
            default_motifs,
        }
    }

    /// The persisted motif bank path ("" = the embedded bank); the plugin saves it with the
    /// project.
    pub fn motif_path(&self) -> &Arc<RwLock<String>> {
        &self.motif_path
    }

    /// Off the audio thread: the saved motif bank, or the embedded one (with a message for the
    /// editor) when the saved one is missing or damaged. The saved path is kept, so the
    /// project finds the bank again once it is back.
    fn saved_motifs(&self) -> (Arc<MotifBank>, String) {
        let wanted = self.motif_path.read().clone();
        if wanted.is_empty() {
            return (self.default_motifs.clone(), wanted);
        }
        match load_motif_bank(Path::new(&wanted)) {
            Ok(bank) => (Arc::new(bank), wanted),
            Err(e) => {
                self.shared.status.lock().message = Some(format!(
                    "the saved motif bank {wanted} could not be loaded ({e}); playing the embedded motifs"
                ));
                (self.default_motifs.clone(), String::new())
            }
        }
    }

    /// What the editor reads.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Off the audio thread: prepares to play at `host` with `phase` and starts the agent's
    /// worker (with the memory the project saved, if it is for this model). The saved model path
    /// and motif bank are loaded now (so a restored project plays them from the first note); a
    /// model or bank that is missing or damaged falls back to the default, with a message for
    /// the editor.
    /// Returns false if not even the default can play at this configuration.
    pub fn activate(&mut self, host: HostConfig, phase: PhaseParam) -> bool {
        let wanted = self.model_path.read().clone();
        let current = self
            .synth
            .instrument()
            .map(|i| (i.path().to_string(), i.model().clone()));
        let (path, model, message) = match current {
            Some((path, model)) if path == wanted => (path, model, None),
            _ if wanted.is_empty() => (String::new(), self.default.clone(), None),
            _ => match ModelFile::load(&PathBuf::from(&wanted)) {
                Ok(model) => (wanted.clone(), Arc::new(model), None),
                Err(e) => (
                    String::new(),
                    self.default.clone(),
                    Some(format!(
                        "the saved model {wanted} could not be loaded ({e}); playing the default model"
                    )),
                ),
            },
        };
        let built = Instrument::new(model.clone(), path.clone(), host, phase).or_else(|e| {
            Instrument::new(self.default.clone(), String::new(), host, phase).inspect(|_| {
                self.shared.status.lock().message = Some(format!(
                    "{path} cannot play here ({e}); playing the default model"
                ));
            })
        });
        let Ok(instrument) = built else {
            return false;
        };
        let (path, model) = (instrument.path().to_string(), instrument.model().clone());
        self.loader
            .set_target(model.clone(), path.clone(), host, phase);
        let identity = model_identity(&path, model.manifest.architecture.latent);
        self.shared.show_model(model, &path);
        self.shared.agent.start(&identity);
        if message.is_some() {
            self.shared.status.lock().message = message;
        }
        self.shared.host_rate.store(
            host.rate.round() as usize,
            std::sync::atomic::Ordering::Relaxed,
        );
        let (motifs, motif_path) = self.saved_motifs();
        self.shared.show_motifs(motifs.clone(), &motif_path);
        self.synth.install(Box::new(instrument), motifs);
        true
    }

    /// Off the audio thread: the host stopped the plugin; the agent saves what it learned and
    /// its worker ends.
    pub fn deactivate(&mut self) {
        self.shared.agent.stop();
    }

    /// Asks the loader for `path` (from the editor); see [`Shared::status`] for the outcome.
    pub fn load(&self, path: PathBuf) -> bool {
        self.loader.request(path)
    }

    /// Asks the loader for the motif bank at `path` (from the editor).
    pub fn load_motifs(&self, path: PathBuf) -> bool {
        self.loader.request_motifs(path)
    }

    /// A function the editor calls to ask for a motif bank.
    pub fn motif_requester(&self) -> LoadRequester {
        let loader = self.loader.clone();
        Arc::new(move |path| loader.request_motifs(path))
    }

    /// A function the editor calls to ask for a model.
    pub fn load_requester(&self) -> LoadRequester {
        let loader = self.loader.clone();
        Arc::new(move |path| loader.request(path))
    }

    /// Host-rate latency.
    pub fn latency_samples(&self) -> u32 {
        self.synth.latency_samples()
    }

    /// The instrument playing.
    pub fn instrument(&self) -> Option<&Instrument> {
        self.synth.instrument()
    }

    /// The audio-thread part.
    pub fn synth(&mut self) -> &mut Synth {
        &mut self.synth
    }

    /// Processes one block with `events` (offset in the block, event, in time order) at the
    /// host's `transport`, as the plugin does: returns true when the latency may have changed.
    pub fn process(
        &mut self,
        controls: &Controls,
        transport: TransportInfo,
        events: impl IntoIterator<Item = (u32, NoteEvent)>,
        outputs: &mut [&mut [f32]],
    ) -> bool {
        let swapped = self.synth.begin_block(controls);
        let len = outputs.first().map_or(0, |c| c.len());
        self.synth.schedule_block(events, controls, transport, len);
        self.synth.render(outputs, controls);
        swapped
    }
}
