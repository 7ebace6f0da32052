//! Options shared by every command that cuts audio into frames.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args;
use timbrespace_engine::model::manifest::Provenance;
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::stft::StftConfig;
use timbrespace_engine::window::WindowKind;
use timbrespace_models::dataset::{DatasetOptions, FrameSelection};

/// How audio becomes frames.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Model sample rate in Hz; every file is resampled to it.
    #[arg(long, default_value_t = 22_050)]
    pub rate: u32,
    /// FFT size (power of two, 256–8192); the model sees n_fft/2+1 bins.
    #[arg(long, default_value_t = 1024)]
    pub n_fft: usize,
    /// Hop in samples (n_fft/4 or n_fft/8).
    #[arg(long, default_value_t = 256)]
    pub hop: usize,
    /// Window: hann, hamming, blackman or gauss.
    #[arg(long, default_value = "hann")]
    pub window: String,
    /// Which frames to keep: `energy` (all within --threshold-db of each file's peak) or
    /// `stationary` (the sustained part of each note).
    #[arg(long, default_value = "energy")]
    pub frames: String,
    /// For `--frames energy`: dB below each file's loudest frame.
    #[arg(long, default_value_t = 40.0)]
    pub threshold_db: f32,
    /// At most this many frames per file, evenly spaced (0 = all).
    #[arg(long, default_value_t = 32)]
    pub max_frames_per_file: usize,
    /// A CSV of labels with a `file` column (see README); `labels.csv` in the folder is used
    /// when present.
    #[arg(long)]
    pub labels: Option<PathBuf>,
}

impl DataArgs {
    /// Dataset options for `folder`.
    pub fn options(&self, folder: &std::path::Path) -> Result<DatasetOptions> {
        let window = WindowKind::from_name(&self.window).ok_or_else(|| {
            anyhow!(
                "unknown window {:?}; use hann, hamming, blackman or gauss",
                self.window
            )
        })?;
        let selection = FrameSelection::from_name(&self.frames).ok_or_else(|| {
            anyhow!(
                "unknown --frames {:?}; use energy or stationary",
                self.frames
            )
        })?;
        if !(1000..=384_000).contains(&self.rate) {
            anyhow::bail!("--rate {} Hz is outside 1–384 kHz", self.rate);
        }
        Ok(DatasetOptions {
            rate: self.rate,
            stft: StftConfig::new(self.n_fft, self.hop, window)?,
            selection,
            threshold_db: self.threshold_db.abs(),
            max_frames_per_file: self.max_frames_per_file,
            labels_csv: label_table(self.labels.clone(), folder),
        })
    }
}

/// The dataset options a model was trained with, to rebuild its split on the same folder.
pub fn options_of_model(
    model: &ModelFile,
    folder: &std::path::Path,
    labels: Option<PathBuf>,
) -> Result<DatasetOptions> {
    let signal = &model.manifest.signal;
    let Provenance {
        selection,
        threshold_db,
        max_frames_per_file,
        ..
    } = &model.manifest.training;
    Ok(DatasetOptions {
        rate: signal.sample_rate,
        stft: signal.stft()?,
        selection: FrameSelection::from_name(selection).unwrap_or(FrameSelection::Energy),
        threshold_db: *threshold_db,
        max_frames_per_file: *max_frames_per_file,
        labels_csv: label_table(labels, folder),
    })
}

/// The label CSV to use: the one given, else `labels.csv` in the dataset folder if it exists.
fn label_table(given: Option<PathBuf>, folder: &std::path::Path) -> Option<PathBuf> {
    given.or_else(|| Some(folder.join("labels.csv")).filter(|p| p.is_file()))
}
