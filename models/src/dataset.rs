//! Datasets of scaled magnitude frames cut from a folder of audio files, with per-file labels
//! and a train/test split by file.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use thiserror::Error;
use timbrespace_engine::model::manifest::{LabelSet, SignalConfig};
use timbrespace_engine::model::Scaling;
use timbrespace_engine::stft::{magnitude_stft, StftConfig};

use crate::audio_import::{is_audio_file, load_audio};
use crate::file_walk::files_under;
use crate::labels::{
    labels_from_path, merge, read_label_csv, FileLabels, LabelError, DYNAMICS, DYNAMICS_MARKS,
    INSTRUMENT, OCTAVE, PITCH,
};
use timbrespace_engine::symbols::PITCH_CLASSES;

/// Which frames of each file become training examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSelection {
    /// Every frame within `threshold_db` of the file's loudest frame.
    Energy,
    /// Only the sustained part of each note: frames within 6 dB of the loudest, after the attack.
    Stationary,
}

impl FrameSelection {
    /// `energy` or `stationary`.
    pub fn name(self) -> &'static str {
        match self {
            FrameSelection::Energy => "energy",
            FrameSelection::Stationary => "stationary",
        }
    }

    /// The selection called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [FrameSelection::Energy, FrameSelection::Stationary]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// How to cut a folder into frames.
#[derive(Debug, Clone)]
pub struct DatasetOptions {
    /// Rate every file is resampled to (the model's rate).
    pub rate: u32,
    /// The STFT frames are cut with.
    pub stft: StftConfig,
    /// Which frames to keep.
    pub selection: FrameSelection,
    /// For [`FrameSelection::Energy`]: keep frames at most this many dB below the file's peak.
    pub threshold_db: f32,
    /// Keep at most this many frames per file, evenly spaced (0 keeps all); long files would
    /// otherwise dominate and slow training.
    pub max_frames_per_file: usize,
    /// Optional label table; its labels must agree with those in file names.
    pub labels_csv: Option<PathBuf>,
}

/// One imported file.
#[derive(Debug, Clone)]
pub struct DatasetFile {
    /// Where it came from.
    pub path: PathBuf,
    /// Class index per label kind (in [`Dataset::label_sets`] order), `None` when unknown.
    pub labels: Vec<Option<usize>>,
    /// Its frames in [`Dataset::frames`].
    pub frames: Range<usize>,
}

/// Frames ready for training.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// What the frames were cut with.
    pub signal: SignalConfig,
    /// How magnitudes were compressed.
    pub scaling: Scaling,
    /// Values per frame.
    pub bins: usize,
    /// Scaled magnitude frames, `frame_count × bins`, file after file.
    pub frames: Vec<f32>,
    /// The files, in path order.
    pub files: Vec<DatasetFile>,
    /// Label kinds and their classes.
    pub label_sets: Vec<LabelSet>,
    /// Files that could not be read, with the reason; training goes on without them.
    pub skipped: Vec<(PathBuf, String)>,
    /// The folder the data came from.
    pub source: PathBuf,
}

/// Why a dataset could not be built.
#[derive(Debug, Error)]
pub enum DatasetError {
    /// The folder does not exist or is not a folder.
    #[error("dataset folder {0} does not exist or is not a folder")]
    NotAFolder(String),
    /// The folder could not be listed.
    #[error("cannot list {path}: {source}")]
    List {
        /// The folder.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// No usable frames.
    #[error("dataset {folder} holds no usable audio ({found} audio files found, {skipped} unreadable); supported: WAV, FLAC, OGG, AIFF")]
    Empty {
        /// The folder.
        folder: String,
        /// Audio files found.
        found: usize,
        /// Of which unreadable.
        skipped: usize,
    },
    /// Contradictory or malformed labels.
    #[error(transparent)]
    Labels(#[from] LabelError),
    /// A train/test split needs two files.
    #[error("a train/test split needs at least two files with frames; {0} has fewer")]
    TooFewFiles(String),
}

/// Frame indices of a split, and which files went where.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training frame indices.
    pub train: Vec<usize>,
    /// Test frame indices.
    pub test: Vec<usize>,
    /// Training file indices.
    pub train_files: Vec<usize>,
    /// Test file indices.
    pub test_files: Vec<usize>,
}

impl Dataset {
    /// Import every audio file under `folder` (recursively).
    pub fn import(folder: &Path, options: &DatasetOptions) -> Result<Self, DatasetError> {
        if !folder.is_dir() {
            return Err(DatasetError::NotAFolder(folder.display().to_string()));
        }
        let paths = files_under(folder, &is_audio_file).map_err(|e| DatasetError::List {
            path: e.folder.display().to_string(),
            source: e.source,
        })?;
        let csv = match &options.labels_csv {
            Some(path) => read_label_csv(path)?,
            None => BTreeMap::new(),
        };
        let mut labels = Vec::with_capacity(paths.len());
        for path in &paths {
            labels.push(file_labels(path, folder, &csv)?);
        }
        let cut = cut_files(&paths, options);
        let scaling = Scaling::for_stft(&options.stft);
        let bins = options.stft.bins();
        let mut dataset = Dataset {
            signal: SignalConfig {
                sample_rate: options.rate,
                n_fft: options.stft.n_fft(),
                hop: options.stft.hop(),
                window: options.stft.window().name().to_string(),
            },
            scaling,
            bins,
            frames: Vec::new(),
            files: Vec::new(),
            label_sets: label_sets(&labels),
            skipped: Vec::new(),
            source: folder.to_path_buf(),
        };
        for ((path, result), file_labels) in paths.iter().zip(cut).zip(&labels) {
            match result {
                Ok(frames) if !frames.is_empty() => {
                    let start = dataset.frame_count();
                    dataset
                        .frames
                        .extend(frames.iter().map(|&m| scaling.compress(m)));
                    let indices = dataset
                        .label_sets
                        .iter()
                        .map(|set| class_index(set, file_labels.get(&set.name)))
                        .collect();
                    dataset.files.push(DatasetFile {
                        path: path.clone(),
                        labels: indices,
                        frames: start..dataset.frame_count(),
                    });
                }
                Ok(_) => dataset.skipped.push((path.clone(), "silent".into())),
                Err(reason) => dataset.skipped.push((path.clone(), reason)),
            }
        }
        if dataset.files.is_empty() {
            return Err(DatasetError::Empty {
                folder: folder.display().to_string(),
                found: paths.len(),
                skipped: dataset.skipped.len(),
            });
        }
        dataset.label_sets.retain(|set| !set.classes.is_empty());
        Ok(dataset)
    }

    /// Number of frames.
    pub fn frame_count(&self) -> usize {
        self.frames.len() / self.bins
    }

    /// One scaled frame.
    pub fn frame(&self, index: usize) -> &[f32] {
        &self.frames[index * self.bins..(index + 1) * self.bins]
    }

    /// The file each frame belongs to.
    pub fn frame_files(&self) -> Vec<usize> {
        let mut owner = vec![0; self.frame_count()];
        for (f, file) in self.files.iter().enumerate() {
            owner[file.frames.clone()].fill(f);
        }
        owner
    }

    /// Split by file, never by frame: about `test_fraction` of the files (at least one, and at
    /// least one left for training) go to the test half, chosen by `seed`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<Split, DatasetError> {
        let n = self.files.len();
        if n < 2 {
            return Err(DatasetError::TooFewFiles(self.source.display().to_string()));
        }
        let mut order: Vec<usize> = (0..n).collect();
        fastrand::Rng::with_seed(seed).shuffle(&mut order);
        let test_count =
            ((n as f64 * test_fraction.clamp(0.0, 1.0)).round() as usize).clamp(1, n - 1);
        let (mut test_files, mut train_files) =
            (order[..test_count].to_vec(), order[test_count..].to_vec());
        test_files.sort_unstable();
        train_files.sort_unstable();
        let frames_of = |files: &[usize]| {
            files
                .iter()
                .flat_map(|&f| self.files[f].frames.clone())
                .collect()
        };
        Ok(Split {
            train: frames_of(&train_files),
            test: frames_of(&test_files),
            train_files,
            test_files,
        })
    }
}

/// A file's labels from its name and folder, merged with its CSV row (looked up by path
/// relative to the dataset folder, then by bare file name).
fn file_labels(
    path: &Path,
    root: &Path,
    csv: &BTreeMap<String, FileLabels>,
) -> Result<FileLabels, LabelError> {
    let mut labels = labels_from_path(path, root)?;
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(row) = csv.get(&relative).or_else(|| csv.get(&name)) {
        for (kind, value) in row {
            merge(&mut labels, &path.display().to_string(), kind, value)?;
        }
    }
    Ok(labels)
}

/// Decode and cut every file into selected magnitude frames, on both cores.
fn cut_files(paths: &[PathBuf], options: &DatasetOptions) -> Vec<Result<Vec<f32>, String>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = paths.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| cut_file(p, options))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec![Err("the importer crashed on this file".to_string())])
            })
            .collect()
    })
}

/// One file's selected raw magnitude frames, concatenated.
fn cut_file(path: &Path, options: &DatasetOptions) -> Result<Vec<f32>, String> {
    let audio = load_audio(path, options.rate).map_err(|e| e.to_string())?;
    let grid = magnitude_stft(&options.stft, &audio.samples);
    let energies: Vec<f32> = (0..grid.frames())
        .map(|j| grid.frame(j).iter().map(|m| m * m).sum())
        .collect();
    let selected = select_frames(&energies, options.selection, options.threshold_db);
    let kept = thin_evenly(&selected, options.max_frames_per_file);
    Ok(kept
        .iter()
        .flat_map(|&j| grid.frame(j).iter().copied())
        .collect())
}

/// Indices of frames to keep given each frame's energy.
pub fn select_frames(energies: &[f32], selection: FrameSelection, threshold_db: f32) -> Vec<usize> {
    let peak = energies.iter().copied().fold(0.0f32, f32::max);
    if peak <= 1e-12 {
        return Vec::new();
    }
    let above = |db: f32| {
        let floor = peak * 10f32.powf(-db.abs() / 10.0);
        move |e: f32| e >= floor
    };
    match selection {
        FrameSelection::Energy => {
            let keep = above(threshold_db);
            (0..energies.len()).filter(|&j| keep(energies[j])).collect()
        }
        FrameSelection::Stationary => {
            let keep = above(6.0);
            let first = energies.iter().position(|&e| keep(e)).unwrap_or(0);
            let last = energies.iter().rposition(|&e| keep(e)).unwrap_or(0);
            // Skip the attack: two frames after the level first reaches the sustain.
            (first + 2..=last).filter(|&j| keep(energies[j])).collect()
        }
    }
}

/// At most `max` items spread evenly over `items` (all of them when `max` is 0).
fn thin_evenly(items: &[usize], max: usize) -> Vec<usize> {
    if max == 0 || items.len() <= max {
        return items.to_vec();
    }
    (0..max).map(|i| items[i * items.len() / max]).collect()
}

/// Label kinds seen in any file, in a fixed order, with their classes in musical order.
fn label_sets(labels: &[FileLabels]) -> Vec<LabelSet> {
    let mut kinds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in labels {
        for (kind, value) in file {
            kinds.entry(kind.clone()).or_default().insert(value.clone());
        }
    }
    let fixed = [PITCH, OCTAVE, DYNAMICS, INSTRUMENT];
    let mut names: Vec<String> = fixed
        .iter()
        .map(|s| s.to_string())
        .filter(|k| kinds.contains_key(k))
        .collect();
    names.extend(
        kinds
            .keys()
            .filter(|k| !fixed.contains(&k.as_str()))
            .cloned(),
    );
    names
        .into_iter()
        .map(|name| {
            let mut classes: Vec<String> = kinds[&name].iter().cloned().collect();
            match name.as_str() {
                PITCH => classes.sort_by_key(|c| PITCH_CLASSES.iter().position(|p| p == c)),
                DYNAMICS => classes.sort_by_key(|c| DYNAMICS_MARKS.iter().position(|p| p == c)),
                _ => classes.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => a.cmp(b),
                }),
            }
            LabelSet { name, classes }
        })
        .collect()
}

/// Index of `value` among `set`'s classes.
fn class_index(set: &LabelSet, value: Option<&String>) -> Option<usize> {
    value.and_then(|v| set.classes.iter().position(|c| c == v))
}

/// The class name of `file`'s label of `kind`, if it has one.
pub fn file_label<'a>(dataset: &'a Dataset, file: usize, kind: &str) -> Option<&'a str> {
    let k = dataset.label_sets.iter().position(|l| l.name == kind)?;
    let c = dataset.files[file].labels[k]?;
    Some(dataset.label_sets[k].classes[c].as_str())
}

/// The MIDI key of `file` from its pitch-class and octave labels.
pub fn file_key(dataset: &Dataset, file: usize) -> Option<i32> {
    let class = |kind: &str| file_label(dataset, file, kind);
    let name = class(PITCH)?;
    let pc = PITCH_CLASSES.iter().position(|&p| p == name)? as i32;
    let octave: i32 = class(OCTAVE)?.parse().ok()?;
    Some(12 * (octave + 1) + pc)
}
