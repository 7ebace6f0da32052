//! Model loading off the audio thread. A loader thread reads and validates `.tsm` files and
//! builds complete [`Instrument`]s; they reach the audio thread through a lock-free queue, and
//! the instruments the audio thread retires come back through another to be dropped here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam::channel::{bounded, Receiver, RecvTimeoutError, Sender};
use crossbeam::queue::ArrayQueue;
use parking_lot::{Mutex, RwLock};
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_engine::motif::sequencer::MotifSequencer;

use crate::instrument::{HostConfig, Instrument};
use crate::params::PhaseParam;
use crate::shared::Shared;

/// The embedded default model.
static DEFAULT_MODEL: &[u8] = include_bytes!("../../assets/default.tsm");
/// The embedded motif bank (a motif space of the music21 folk-song corpus; see the README).
static DEFAULT_MOTIFS: &[u8] = include_bytes!("../../assets/motifs.tsmotif");
/// How often the loader looks for retired instruments and rebuild requests.
const POLL: Duration = Duration::from_millis(20);
/// Instruments in flight in either direction.
const QUEUE: usize = 4;

/// The embedded default model, parsed and validated.
pub fn default_model() -> Arc<ModelFile> {
    // The file is built into the binary and checked by the test suite; should it ever fail
    // to parse, there is nothing to fall back to, so say so loudly at start-up.
    Arc::new(ModelFile::from_bytes(DEFAULT_MODEL).expect("the embedded default model is valid"))
}

/// The embedded motif bank, parsed and checked.
pub fn default_motifs() -> Arc<MotifBank> {
    // Built into the binary and checked by the test suite, like the default model.
    Arc::new(MotifBank::from_bytes(DEFAULT_MOTIFS).expect("the embedded motif bank is valid"))
}

/// Reads and checks the motif bank at `path`.
pub fn load_motif_bank(path: &Path) -> Result<MotifBank, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    MotifBank::from_bytes(&bytes).map_err(|e| e.to_string())
}

/// The audio thread's ends of the hand-over queues.
pub struct Handover {
    /// New instruments, ready to play.
    pub incoming: Arc<ArrayQueue<Box<Instrument>>>,
    /// Retired instruments, to be dropped off the audio thread.
    pub retired: Arc<ArrayQueue<Box<Instrument>>>,
    /// Phase modes the audio thread wants the current model rebuilt with.
    pub rebuilds: Arc<ArrayQueue<PhaseParam>>,
    /// Motif players of newly loaded banks.
    pub motifs_incoming: Arc<ArrayQueue<Box<MotifSequencer>>>,
    /// Motif players the audio thread replaced, to be dropped off it.
    pub motifs_retired: Arc<ArrayQueue<Box<MotifSequencer>>>,
}

/// What the loader builds for: the current model and the host's configuration.
#[derive(Clone)]
struct Target {
    /// The model playing (or about to).
    model: Arc<ModelFile>,
    /// Its path (empty for the default).
    path: String,
    /// The host's configuration.
    host: HostConfig,
    /// The voices' phase mode.
    phase: PhaseParam,
}

/// Jobs for the loader thread.
enum Job {
    /// Load a model file and play it.
    Load(PathBuf),
    /// Load a motif bank and play it in Motif mode.
    LoadMotifs(PathBuf),
}

/// The loader thread and its queues (plugin side).
pub struct Loader {
    /// Jobs to the thread (dropping the sender stops it).
    jobs: Option<Sender<Job>>,
    /// The thread.
    thread: Option<JoinHandle<()>>,
    /// What it builds for.
    target: Arc<Mutex<Option<Target>>>,
    /// Queues shared with the audio thread.
    incoming: Arc<ArrayQueue<Box<Instrument>>>,
    /// Retired instruments.
    retired: Arc<ArrayQueue<Box<Instrument>>>,
    /// Rebuild requests.
    rebuilds: Arc<ArrayQueue<PhaseParam>>,
    /// New motif players.
    motifs_incoming: Arc<ArrayQueue<Box<MotifSequencer>>>,
    /// Retired motif players.
    motifs_retired: Arc<ArrayQueue<Box<MotifSequencer>>>,
}

impl Loader {
    /// Starts the loader thread; `model_path` and `motif_path` are the persisted fields it
    /// records loaded paths in.
    pub fn start(
        shared: Arc<Shared>,
        model_path: Arc<RwLock<String>>,
        motif_path: Arc<RwLock<String>>,
    ) -> Self {
        let (jobs, rx) = bounded(QUEUE);
        let target = Arc::new(Mutex::new(None));
        let incoming = Arc::new(ArrayQueue::new(QUEUE));
        let retired = Arc::new(ArrayQueue::new(QUEUE));
        let rebuilds = Arc::new(ArrayQueue::new(QUEUE));
        let motifs_incoming = Arc::new(ArrayQueue::new(QUEUE));
        let motifs_retired = Arc::new(ArrayQueue::new(QUEUE));
        let worker = Worker {
            jobs: rx,
            shared,
            model_path,
            motif_path,
            target: target.clone(),
            incoming: incoming.clone(),
            retired: retired.clone(),
            rebuilds: rebuilds.clone(),
            motifs_incoming: motifs_incoming.clone(),
            motifs_retired: motifs_retired.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("timbrespace-loader".into())
            .spawn(move || worker.run())
            .ok();
        Self {
            jobs: Some(jobs),
            thread,
            target,
            incoming,
            retired,
            rebuilds,
            motifs_incoming,
            motifs_retired,
        }
    }

    /// The audio thread's ends of the queues.
    pub fn handover(&self) -> Handover {
        Handover {
            incoming: self.incoming.clone(),
            retired: self.retired.clone(),
            rebuilds: self.rebuilds.clone(),
            motifs_incoming: self.motifs_incoming.clone(),
            motifs_retired: self.motifs_retired.clone(),
        }
    }

    /// Records what later loads build for (called at activation, off the audio thread).
    /// Instruments still queued for an older configuration are discarded.
    pub fn set_target(
        &self,
        model: Arc<ModelFile>,
        path: String,
        host: HostConfig,
        phase: PhaseParam,
    ) {
        *self.target.lock() = Some(Target {
            model,
            path,
            host,
            phase,
        });
        while self.incoming.pop().is_some() {}
        while self.retired.pop().is_some() {}
        while self.motifs_incoming.pop().is_some() {}
        while self.motifs_retired.pop().is_some() {}
    }

    /// Asks for `path` to be loaded; the result shows in [`Shared::status`]. Returns false
    /// when the loader is busy with too many requests or not running.
    pub fn request(&self, path: PathBuf) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| jobs.try_send(Job::Load(path)).is_ok())
    }

    /// Asks for the motif bank at `path` to be loaded, like [`Loader::request`].
    pub fn request_motifs(&self, path: PathBuf) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| jobs.try_send(Job::LoadMotifs(path)).is_ok())
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The loader thread's state.
struct Worker {
    /// Incoming jobs.
    jobs: Receiver<Job>,
    /// Status and the current model for the editor.
    shared: Arc<Shared>,
    /// The persisted model path.
    model_path: Arc<RwLock<String>>,
    /// The persisted motif bank path.
    motif_path: Arc<RwLock<String>>,
    /// What to build for.
    target: Arc<Mutex<Option<Target>>>,
    /// Finished instruments to the audio thread.
    incoming: Arc<ArrayQueue<Box<Instrument>>>,
    /// Retired instruments from the audio thread.
    retired: Arc<ArrayQueue<Box<Instrument>>>,
    /// Rebuild requests from the audio thread.
    rebuilds: Arc<ArrayQueue<PhaseParam>>,
    /// New motif players to the audio thread.
    motifs_incoming: Arc<ArrayQueue<Box<MotifSequencer>>>,
    /// Retired motif players from the audio thread.
    motifs_retired: Arc<ArrayQueue<Box<MotifSequencer>>>,
}

impl Worker {
    fn run(self) {
        loop {
            match self.jobs.recv_timeout(POLL) {
                Ok(Job::Load(path)) => self.load(&path),
                Ok(Job::LoadMotifs(path)) => self.load_motifs(&path),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Some(phase) = self.rebuilds.pop() {
                self.rebuild(phase);
            }
            while self.retired.pop().is_some() {}
            while self.motifs_retired.pop().is_some() {}
        }
    }

    /// Loads the motif bank at `path`; on success Motif mode plays it, on failure the current
    /// bank keeps playing and the editor shows why.
    fn load_motifs(&self, path: &Path) {
        let shown = path.display().to_string();
        let rate = self.target.lock().as_ref().map(|t| t.host.rate);
        let result = match rate {
            Some(rate) => load_motif_bank(path).map(|bank| (Arc::new(bank), rate)),
            None => Err("the plugin is not active yet".into()),
        };
        match result {
            Ok((bank, rate)) => {
                let player = Box::new(MotifSequencer::new(bank.clone(), rate));
                // A newer bank replaces one the audio thread has not picked up yet.
                if let Err(player) = self.motifs_incoming.push(player) {
                    while self.motifs_incoming.pop().is_some() {}
                    let _ = self.motifs_incoming.push(player);
                }
                self.shared.show_motifs(bank, &shown);
                self.shared.status.lock().message = None;
                *self.motif_path.write() = shown;
            }
            Err(e) => {
                self.shared.status.lock().message =
                    Some(format!("could not load the motif bank {shown}: {e}"));
            }
        }
    }

    /// Loads `path`; on success it becomes the target and plays, on failure the current
    /// model keeps playing and the editor shows why.
    fn load(&self, path: &Path) {
        self.shared.status.lock().loading = true;
        let shown = path.display().to_string();
        let result = ModelFile::load(path)
            .map_err(|e| e.to_string())
            .and_then(|model| self.build(Arc::new(model), shown.clone(), None));
        let mut status = self.shared.status.lock();
        status.loading = false;
        match result {
            Ok(()) => {
                status.message = None;
                drop(status);
                *self.model_path.write() = shown;
            }
            Err(e) => status.message = Some(format!("could not load {shown}: {e}")),
        }
    }

    /// Rebuilds the current model with another phase mode.
    fn rebuild(&self, phase: PhaseParam) {
        let Some(target) = self.target.lock().clone() else {
            return;
        };
        if let Err(e) = self.build(target.model, target.path, Some(phase)) {
            self.shared.status.lock().message = Some(format!("could not switch phase mode: {e}"));
        }
    }

    /// Builds an instrument of `model` for the current target (with `phase` if given), makes
    /// it the target, queues it for the audio thread and shows it in the editor.
    fn build(
        &self,
        model: Arc<ModelFile>,
        path: String,
        phase: Option<PhaseParam>,
    ) -> Result<(), String> {
        let Some(mut target) = self.target.lock().clone() else {
            return Err("the plugin is not active yet".into());
        };
        let phase = phase.unwrap_or(target.phase);
        let instrument = Instrument::new(model.clone(), path.clone(), target.host, phase)
            .map_err(|e| e.to_string())?;
        self.shared.show_model(model.clone(), &path);
        target.model = model;
        target.path = path;
        target.phase = phase;
        *self.target.lock() = Some(target);
        // A newer instrument replaces one the audio thread has not picked up yet.
        if let Err(instrument) = self.incoming.push(Box::new(instrument)) {
            while self.incoming.pop().is_some() {}
            let _ = self.incoming.push(instrument);
        }
        Ok(())
    }
}
