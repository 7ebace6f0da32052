//! What the audio thread, the loader and the editor share. The audio thread only stores to
//! atomics here; the mutexes are taken by the loader and the editor alone.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_engine::symbols::SymbolVocabulary;

use crate::agent::{model_identity, AgentHost};
use crate::instrument::VOICES;

/// Latent dimensions the voice read-out can hold.
pub const MAX_LATENT: usize = 64;
/// Output samples kept for the editor's spectrum.
pub const SCOPE: usize = 2048;

/// An f32 in an atomic.
#[derive(Debug, Default)]
pub struct AtomicF32(AtomicU32);

impl AtomicF32 {
    /// Stores `v`.
    pub fn set(&self, v: f32) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Loads the value.
    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// What the loader reports to the editor.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The model now playing: its display name.
    pub model_name: String,
    /// Its path (empty for the embedded default).
    pub model_path: String,
    /// The last problem (a file that would not load, a model missing at restore), if any.
    pub message: Option<String>,
    /// A load is in progress.
    pub loading: bool,
    /// The motif bank Motif mode plays: its display name.
    pub motifs_name: String,
}

/// Shared between the plugin, its audio thread, the loader thread and the editor.
#[derive(Debug)]
pub struct Shared {
    /// The model now playing (the editor draws its training points); set by the loader
    /// and at activation.
    pub model: RwLock<Arc<ModelFile>>,
    /// Loader status for the editor.
    pub status: Mutex<Status>,
    /// The current model's instrument names (the Instrument parameter shows them).
    pub instruments: Arc<RwLock<Vec<String>>>,
    /// Latent points of the sounding voices, `voices × MAX_LATENT`.
    voice_points: Vec<AtomicF32>,
    /// How many voices `voice_points` holds.
    voice_count: AtomicUsize,
    /// The last output samples, a ring for the spectrum display.
    scope: Vec<AtomicF32>,
    /// Next write position in `scope`.
    scope_write: AtomicUsize,
    /// The host's sample rate in Hz (for the spectrum's frequency axis).
    pub host_rate: AtomicUsize,
    /// The editor is open (the audio thread skips publishing otherwise).
    pub editor_open: AtomicBool,
    /// The descriptor target's value (NaN when no target is on).
    pub target_value: AtomicF32,
    /// The mean of that descriptor over the sounding voices (NaN when none sounds).
    pub target_reached: AtomicF32,
    /// The co-exploration agent's worker and its link with the audio thread.
    pub agent: AgentHost,
    /// The motif bank Motif mode plays (the editor previews it); set at activation and by the
    /// loader.
    pub motifs: RwLock<Arc<MotifBank>>,
}

impl Shared {
    /// Shared state starting with `model` and `motifs` (the embedded defaults).
    pub fn new(model: Arc<ModelFile>, motifs: Arc<MotifBank>) -> Self {
        let shared = Self {
            model: RwLock::new(model.clone()),
            status: Mutex::new(Status::default()),
            instruments: Arc::new(RwLock::new(Vec::new())),
            voice_points: (0..VOICES * MAX_LATENT)
                .map(|_| AtomicF32::default())
                .collect(),
            voice_count: AtomicUsize::new(0),
            scope: (0..SCOPE).map(|_| AtomicF32::default()).collect(),
            scope_write: AtomicUsize::new(0),
            host_rate: AtomicUsize::new(48_000),
            editor_open: AtomicBool::new(false),
            target_value: AtomicF32::default(),
            target_reached: AtomicF32::default(),
            agent: AgentHost::default(),
            motifs: RwLock::new(motifs.clone()),
        };
        shared.show_model(model, "");
        shared.show_motifs(motifs, "");
        shared
    }

    /// Loader and activation: `motifs`, loaded from `path` ("" for the embedded bank), is the
    /// bank Motif mode plays.
    pub fn show_motifs(&self, motifs: Arc<MotifBank>, path: &str) {
        self.status.lock().motifs_name = Path::new(path).file_stem().map_or_else(
            || "folk-song melodies (embedded)".into(),
            |s| s.to_string_lossy().into_owned(),
        );
        *self.motifs.write() = motifs;
    }

    /// Loader and activation: `model`, loaded from `path` ("" for the embedded default), is
    /// the one playing; the editor and the Instrument parameter show its name and instruments,
    /// and a running agent starts afresh if the model is another one.
    pub fn show_model(&self, model: Arc<ModelFile>, path: &str) {
        *self.instruments.write() = SymbolVocabulary::from_manifest(&model.manifest)
            .ok()
            .flatten()
            .map(|v| v.instruments().to_vec())
            .unwrap_or_default();
        let name = Path::new(path)
            .file_stem()
            .map_or_else(|| "Default".into(), |s| s.to_string_lossy().into_owned());
        {
            let mut status = self.status.lock();
            status.model_name = format!("{name} (latent {})", model.manifest.architecture.latent);
            status.model_path = path.to_string();
        }
        self.agent
            .model_changed(&model_identity(path, model.manifest.architecture.latent));
        *self.model.write() = model;
    }

    /// Audio thread: publish the sounding voices' latent points (`latent` values each).
    pub fn publish_voices(&self, points: &[f32], count: usize, latent: usize) {
        let latent = latent.min(MAX_LATENT);
        let count = count.min(VOICES);
        for v in 0..count {
            for j in 0..latent {
                let value = points.get(v * latent + j).copied().unwrap_or(0.0);
                self.voice_points[v * MAX_LATENT + j].set(value);
            }
        }
        self.voice_count.store(count, Ordering::Release);
    }

    /// Audio thread: append output samples to the scope ring.
    pub fn publish_output(&self, samples: &[f32]) {
        let mut w = self.scope_write.load(Ordering::Relaxed);
        for &s in samples {
            self.scope[w % SCOPE].set(s);
            w = (w + 1) % SCOPE;
        }
        self.scope_write.store(w, Ordering::Release);
    }

    /// Editor: the sounding voices' latent points (`latent` values each).
    pub fn voices(&self, latent: usize) -> Vec<Vec<f32>> {
        let latent = latent.min(MAX_LATENT);
        let count = self.voice_count.load(Ordering::Acquire).min(VOICES);
        (0..count)
            .map(|v| {
                (0..latent)
                    .map(|j| self.voice_points[v * MAX_LATENT + j].get())
                    .collect()
            })
            .collect()
    }

    /// Editor: the last `SCOPE` output samples, oldest first.
    pub fn scope(&self) -> Vec<f32> {
        let w = self.scope_write.load(Ordering::Acquire);
        (0..SCOPE)
            .map(|i| self.scope[(w + i) % SCOPE].get())
            .collect()
    }
}
