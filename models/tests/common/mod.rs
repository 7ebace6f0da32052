//! A tiny toy dataset and training run shared by the models tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use timbrespace_engine::model::manifest::{ArchKind, Architecture, ConvShape};
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::stft::StftConfig;
use timbrespace_engine::window::WindowKind;
use timbrespace_models::dataset::{Dataset, DatasetOptions, FrameSelection, Split};
use timbrespace_models::export::{build_model_file, DataRecipe};
use timbrespace_models::objective::Regularizer;
use timbrespace_models::scan::{vocabulary, SymbolTargets};
use timbrespace_models::toy::{write_toy_set, ToyKind};
use timbrespace_models::train::{train, TrainConfig, TrainRun, Trained};

/// Rate of the tiny toy sets (small FFTs keep the tests fast).
pub const RATE: u32 = 8_000;

/// A fresh temporary folder for one test, removed when dropped (also when the test fails).
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("timbrespace-{name}-"))
        .tempdir()
        .expect("temp dir")
}

/// Options for the tiny sets: n_fft 256 (129 bins), 4 frames per file.
pub fn options() -> DatasetOptions {
    DatasetOptions {
        rate: RATE,
        stft: StftConfig::new(256, 64, WindowKind::Hann).expect("stft"),
        selection: FrameSelection::Energy,
        threshold_db: 30.0,
        max_frames_per_file: 4,
        labels_csv: None,
    }
}

/// `count` additive toy sounds in `dir`, imported with their labels.
pub fn toy_dataset(dir: &std::path::Path, count: usize) -> Dataset {
    write_toy_set(ToyKind::Additive, count, 0.3, RATE, 7, dir).expect("writes the toy set");
    let options = DatasetOptions {
        labels_csv: Some(dir.join("labels.csv")),
        ..options()
    };
    Dataset::import(dir, &options).expect("imports")
}

/// A small MLP or conv architecture for 129 bins.
pub fn tiny_arch(conv: bool, latent: usize) -> Architecture {
    Architecture {
        kind: if conv { ArchKind::Conv } else { ArchKind::Mlp },
        bins: 129,
        latent,
        hidden: vec![96],
        conv: conv.then_some(ConvShape {
            channels: 4,
            kernel: 5,
            stages: 2,
        }),
        sigma: 0.1,
    }
}

/// Training settings for the tiny runs.
pub fn tiny_config(arch: Architecture, epochs: usize) -> TrainConfig {
    TrainConfig {
        arch,
        regularizer: Regularizer::Kl {
            beta: 1.0,
            warmup: 5,
        },
        epochs,
        batch: 32,
        lr: 2e-3,
        patience: 50,
        seed: 3,
        symbols: None,
        perceptual: None,
        factorise: None,
    }
}

/// Train quietly, optionally with a checkpoint.
pub fn run_training(
    dataset: &Dataset,
    split: &Split,
    config: &TrainConfig,
    checkpoint: Option<PathBuf>,
    resume: bool,
) -> Trained {
    let stop = AtomicBool::new(false);
    let targets = config.symbols.as_ref().map(|spec| {
        let vocabulary = vocabulary(&spec.kinds, &dataset.label_sets).expect("vocabulary");
        SymbolTargets::new(dataset, &vocabulary)
    });
    let run = TrainRun {
        dataset,
        split,
        checkpoint,
        resume,
        stop: &stop,
        show_progress: false,
        symbol_targets: targets.as_ref(),
        perceptual_targets: None,
    };
    train(&run, config).expect("trains")
}

/// The model file of a finished tiny run.
pub fn model_of(
    trained: &Trained,
    dataset: &Dataset,
    split: &Split,
    config: &TrainConfig,
) -> ModelFile {
    let options = options();
    let recipe = DataRecipe {
        dataset,
        options: &options,
        split,
        test_fraction: 0.25,
    };
    build_model_file(trained, &recipe, config).expect("exports")
}
