//! The co-exploration agent inside the instrument. A worker thread runs the engine's
//! [`Agent`] on the wall clock: it takes a move every period, learns from the feedback that
//! arrives, and publishes its latent offset. The audio thread only stores and loads atomics
//! and pushes feedback into a lock-free queue; it never waits for the agent.
//!
//! The worker lives from activation to deactivation and is restarted with a fresh agent when
//! the model changes (what it learned is about another sound). Its memory is written to a
//! persisted field twice a second and after every feedback, so the host saves what it learned
//! with the project.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::queue::ArrayQueue;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use timbrespace_engine::agent::memory::AgentMemory;
use timbrespace_engine::agent::{Agent, AgentSettings, AgentStatus, MAX_DIMS};

use crate::shared::AtomicF32;

/// Feedback events waiting for the worker; more are dropped (nobody presses that fast).
const FEEDBACK_QUEUE: usize = 64;
/// How often the worker looks for feedback and for its next move while the agent is on.
const POLL: Duration = Duration::from_millis(5);
/// … and while it is off (only a reset or its being turned on can come).
const IDLE_POLL: Duration = Duration::from_millis(50);
/// Seconds between saves of the agent's memory while it moves.
const SAVE_EVERY: f64 = 0.5;

/// The agent's memory as the plugin persists it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SavedAgent {
    /// Changes with every save by the worker, so that a state the host restores (which
    /// carries another stamp) is told apart from the worker's own last save.
    pub stamp: u64,
    /// What the agent learned.
    pub memory: AgentMemory,
}

/// What the editor shows of the agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentView {
    /// Its recent positions on axes 1–2, oldest first (σ).
    pub path: Vec<[f32; 2]>,
    /// Its last move, value and novelty.
    pub status: AgentStatus,
    /// Dimensions it explores.
    pub dims: usize,
}

/// Everything the audio thread, the editor and the worker exchange.
#[derive(Debug)]
pub struct AgentLink {
    /// Agent → audio: where the agent wants each axis moved from the sliders, σ.
    offset: [AtomicF32; MAX_DIMS],
    /// Audio → agent: the sliders' positions, σ (the agent's state is these plus its offset).
    sliders: [AtomicF32; MAX_DIMS],
    /// Audio and editor → agent: feedback, +1 or −1.
    feedback: ArrayQueue<f32>,
    /// A reset is asked for.
    reset: AtomicBool,
    /// The "Agent on" parameter.
    on: AtomicBool,
    /// Dimensions explored.
    dims: AtomicUsize,
    /// Seconds between moves.
    period: AtomicF32,
    /// Explore ↔ Exploit, 0–1.
    explore: AtomicF32,
    /// What the editor shows (written by the worker, read by the editor; never the audio
    /// thread).
    view: Mutex<AgentView>,
}

impl Default for AgentLink {
    fn default() -> Self {
        let settings = AgentSettings::default();
        let link = Self {
            offset: Default::default(),
            sliders: Default::default(),
            feedback: ArrayQueue::new(FEEDBACK_QUEUE),
            reset: AtomicBool::new(false),
            on: AtomicBool::new(false),
            dims: AtomicUsize::new(settings.dims),
            period: AtomicF32::default(),
            explore: AtomicF32::default(),
            view: Mutex::new(AgentView::default()),
        };
        link.period.set(0.1);
        link.explore.set(settings.explore);
        link
    }
}

impl AgentLink {
    /// Any thread: the musician liked (+1) or disliked (−1) what they heard. Returns false
    /// if the queue was full and the event was dropped.
    pub fn give_feedback(&self, reward: f32) -> bool {
        self.feedback.push(reward).is_ok()
    }

    /// Any thread: the agent should forget what it learned and return to the sliders.
    pub fn request_reset(&self) {
        self.reset.store(true, Ordering::Relaxed);
    }

    /// Audio thread: the parameters and the sliders' positions (`sliders[i]` for axis i).
    pub fn publish(&self, on: bool, dims: usize, period: f32, explore: f32, sliders: &[f32]) {
        self.on.store(on, Ordering::Relaxed);
        self.dims.store(dims, Ordering::Relaxed);
        self.period.set(period);
        self.explore.set(explore);
        for (slot, &v) in self.sliders.iter().zip(sliders) {
            slot.set(v);
        }
    }

    /// Audio thread: the agent's offset, or zeros while it is off.
    pub fn offset(&self, out: &mut [f32; MAX_DIMS]) {
        let on = self.on.load(Ordering::Relaxed);
        for (o, slot) in out.iter_mut().zip(&self.offset) {
            let v = slot.get();
            *o = if on && v.is_finite() { v } else { 0.0 };
        }
    }

    /// Whether the agent is on.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Editor: what to show.
    pub fn view(&self) -> AgentView {
        self.view.lock().clone()
    }

    /// The agent's settings from the parameters.
    fn settings(&self) -> AgentSettings {
        AgentSettings {
            dims: self.dims.load(Ordering::Relaxed),
            explore: self.explore.get(),
            ..AgentSettings::default()
        }
        .sanitised()
    }

    /// Seconds between moves, kept within the parameter's range.
    fn period(&self) -> f64 {
        let p = self.period.get();
        if p.is_finite() {
            f64::from(p).clamp(0.03, 0.5)
        } else {
            0.1
        }
    }

    fn sliders(&self) -> [f32; MAX_DIMS] {
        std::array::from_fn(|i| {
            let v = self.sliders[i].get();
            if v.is_finite() {
                v
            } else {
                0.0
            }
        })
    }

    fn show(&self, agent: &Agent) {
        for (slot, &v) in self.offset.iter().zip(agent.offset()) {
            slot.set(v);
        }
        let mut view = self.view.lock();
        view.path.clear();
        view.path.extend(agent.path());
        view.status = agent.status();
        view.dims = agent.settings().dims;
    }
}

/// A running worker.
#[derive(Debug)]
struct Running {
    /// The model it explores (path and latent size).
    model: String,
    /// Asks it to stop.
    stop: Arc<AtomicBool>,
    /// Asks it to save its memory as it stops.
    save: Arc<AtomicBool>,
    /// The stamp of its last save.
    stamp: Arc<AtomicU64>,
    /// The thread.
    thread: JoinHandle<()>,
}

/// The name a model's agent memory is filed under: its path ("" for the embedded default)
/// and latent size.
pub fn model_identity(path: &str, latent: usize) -> String {
    format!("{path}|{latent}")
}

/// Starts, restarts and stops the agent's worker thread.
#[derive(Debug)]
pub struct AgentHost {
    /// What the audio thread and editor share with it.
    link: Arc<AgentLink>,
    /// The persisted memory.
    saved: Arc<RwLock<SavedAgent>>,
    /// The worker, while the plugin is active.
    running: Mutex<Option<Running>>,
}

impl Default for AgentHost {
    fn default() -> Self {
        Self {
            link: Arc::new(AgentLink::default()),
            saved: Arc::default(),
            running: Mutex::new(None),
        }
    }
}

impl AgentHost {
    /// The link the audio thread and editor use.
    pub fn link(&self) -> &Arc<AgentLink> {
        &self.link
    }

    /// The persisted memory (the parameters' persisted field).
    pub fn saved(&self) -> &Arc<RwLock<SavedAgent>> {
        &self.saved
    }

    /// Activation: runs a worker for `model` (its path and latent size). One already running
    /// for it keeps running, unless the host restored another memory since its last save, which
    /// is then taken up.
    pub fn start(&self, model: &str) {
        let mut running = self.running.lock();
        if let Some(r) = running.as_ref() {
            let restored = self.saved.read().stamp != r.stamp.load(Ordering::Acquire);
            if r.model == model && !restored {
                return;
            }
            if let Some(old) = running.take() {
                Self::join(old, !restored);
            }
        }
        *running = self.spawn(model);
    }

    /// The model changed: a running worker for another model is replaced by a fresh one (a
    /// stopped one stays stopped).
    pub fn model_changed(&self, model: &str) {
        let active = self.running.lock().is_some();
        if active {
            self.start(model);
        }
    }

    /// Deactivation: the worker saves its memory and ends.
    pub fn stop(&self) {
        if let Some(old) = self.running.lock().take() {
            Self::join(old, true);
        }
    }

    /// The model the worker explores, if one runs.
    pub fn running_model(&self) -> Option<String> {
        self.running.lock().as_ref().map(|r| r.model.clone())
    }

    fn join(old: Running, save: bool) {
        old.save.store(save, Ordering::Release);
        old.stop.store(true, Ordering::Release);
        old.thread.thread().unpark();
        let _ = old.thread.join();
    }

    fn spawn(&self, model: &str) -> Option<Running> {
        let stop = Arc::new(AtomicBool::new(false));
        let save = Arc::new(AtomicBool::new(true));
        let stamp = Arc::new(AtomicU64::new(self.saved.read().stamp));
        let worker = Worker {
            link: self.link.clone(),
            saved: self.saved.clone(),
            model: model.to_string(),
            stop: stop.clone(),
            save: save.clone(),
            stamp: stamp.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("timbrespace-agent".into())
            .spawn(move || worker.run())
            .ok()?;
        Some(Running {
            model: model.to_string(),
            stop,
            save,
            stamp,
            thread,
        })
    }
}

impl Drop for AgentHost {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The worker thread's state.
struct Worker {
    /// Shared with the audio thread and editor.
    link: Arc<AgentLink>,
    /// Where its memory is saved.
    saved: Arc<RwLock<SavedAgent>>,
    /// The model it explores.
    model: String,
    /// Set when it should end.
    stop: Arc<AtomicBool>,
    /// Whether to save as it ends.
    save: Arc<AtomicBool>,
    /// The stamp of its last save.
    stamp: Arc<AtomicU64>,
}

impl Worker {
    fn run(self) {
        let settings = self.link.settings();
        let seed = fastrand::u64(..);
        let recalled = Agent::recall(&self.saved.read().memory, &self.model, settings, seed);
        let mut agent = recalled.unwrap_or_else(|| Agent::new(settings, seed));
        self.link.show(&agent);
        let clock = Instant::now();
        let mut next_move = 0.0;
        let mut last_save = 0.0;
        let mut unsaved = false;
        while !self.stop.load(Ordering::Acquire) {
            let now = clock.elapsed().as_secs_f64();
            let on = self.link.is_on();
            let mut happened = false;
            while let Some(reward) = self.link.feedback.pop() {
                // Feedback while the agent is off is about nothing it did.
                if on {
                    agent.feedback(reward, now);
                    happened = true;
                }
            }
            if self.link.reset.swap(false, Ordering::AcqRel) {
                agent.reset();
                happened = true;
            }
            let settings = self.link.settings();
            if settings != agent.settings() {
                agent.set_settings(settings);
                happened = true;
            }
            if on && now >= next_move {
                agent.act(&self.link.sliders(), now);
                next_move = now + self.link.period();
                happened = true;
            }
            if happened {
                self.link.show(&agent);
                unsaved = true;
            }
            if unsaved && now - last_save >= SAVE_EVERY {
                self.save(&agent);
                last_save = now;
                unsaved = false;
            }
            std::thread::park_timeout(if on { POLL } else { IDLE_POLL });
        }
        if self.save.load(Ordering::Acquire) {
            self.save(&agent);
        }
    }

    fn save(&self, agent: &Agent) {
        let stamp = fastrand::u64(1..);
        *self.saved.write() = SavedAgent {
            stamp,
            memory: agent.remember(&self.model),
        };
        self.stamp.store(stamp, Ordering::Release);
    }
}
