//! Training on a tiny toy set: the loss falls, the VAE beats PCA, runs are reproducible,
//! resuming continues exactly, Ctrl-C saves, and the real-time kernel matches candle.

mod common;

use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use common::*;
use timbrespace_engine::axes::{AxisBasis, DescriptorMap, LatentAxes};
use timbrespace_engine::model::{DecoderKernel, ModelFile};
use timbrespace_models::evaluate::evaluate;
use timbrespace_models::timbre_ratings::TimbreRatings;
use timbrespace_models::train::{train, TrainError, TrainRun};
use timbrespace_models::vae::Vae;

#[test]
fn short_training_reduces_the_loss_and_beats_pca() {
    let scratch = temp_dir("train");
    let dir = scratch.path();
    let dataset = toy_dataset(dir, 400);
    let split = dataset.split(0.25, 1).expect("splits");
    let config = tiny_config(tiny_arch(false, 4), 80);
    let trained = run_training(&dataset, &split, &config, None, false);
    let first = trained.history.first().expect("history");
    let last = trained.history.last().expect("history");
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "{} → {}",
        first.train_loss,
        last.train_loss
    );
    assert!(last.test_recon < first.test_recon);
    let model = model_of(&trained, &dataset, &split, &config);
    let report = evaluate(
        &model,
        &dataset,
        &split,
        &TimbreRatings::embedded().expect("ratings"),
        3,
    )
    .expect("evaluates");
    assert!(
        report.sc_gain_db() > 1.0,
        "VAE {:.2} dB vs PCA {:.2} dB",
        report.vae.spectral_convergence_db,
        report.pca.spectral_convergence_db
    );
    assert!(report.vae.log_spectral_l1 < report.pca.log_spectral_l1);
    // The octave of a tone is plainly visible in its spectrum; a linear probe must find it.
    let octave = &report.probes["octave"];
    assert!(octave.accuracy > octave.chance + 0.2, "{octave:?}");
    // The descriptor maps are stored, match a fresh decode and survive a save and load.
    let (basis, stored) = DescriptorMap::stored(&model)
        .expect("valid")
        .expect("stored maps");
    assert_eq!(basis, AxisBasis::Pca);
    let axes = LatentAxes::new(&model, AxisBasis::Pca).expect("axes");
    let fresh = DescriptorMap::new(&model, &axes, stored.size, stored.span).expect("decodes");
    assert_eq!(stored, fresh);
    let reloaded = ModelFile::from_bytes(&model.to_bytes().expect("saves")).expect("loads");
    assert_eq!(
        DescriptorMap::stored(&reloaded).expect("valid"),
        Some((basis, fresh))
    );
    let mut broken = model.clone();
    if let Some(maps) = &mut broken.manifest.descriptor_maps {
        maps.size += 1;
    }
    assert!(ModelFile::new(broken.manifest, broken.tensors).is_err());
}

#[test]
fn same_seed_same_run_and_resume_continues_exactly() {
    let scratch = temp_dir("resume");
    let dir = scratch.path();
    let dataset = toy_dataset(&dir.join("data"), 40);
    let split = dataset.split(0.25, 1).expect("splits");
    let straight = run_training(
        &dataset,
        &split,
        &tiny_config(tiny_arch(false, 3), 6),
        None,
        false,
    );
    let again = run_training(
        &dataset,
        &split,
        &tiny_config(tiny_arch(false, 3), 6),
        None,
        false,
    );
    let losses = |t: &timbrespace_models::train::Trained| {
        t.history
            .iter()
            .map(|r| (r.train_loss, r.test_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&straight), losses(&again), "same seed, same losses");

    let checkpoint = dir.join("run.ckpt");
    // Ctrl-C before the first batch: the state is saved and training reports the interruption.
    let stop = AtomicBool::new(true);
    let config = tiny_config(tiny_arch(false, 3), 3);
    let run = TrainRun {
        dataset: &dataset,
        split: &split,
        checkpoint: Some(checkpoint.clone()),
        resume: false,
        stop: &stop,
        show_progress: false,
        symbol_targets: None,
        perceptual_targets: None,
    };
    assert!(matches!(
        train(&run, &config),
        Err(TrainError::Interrupted { epochs: 0, .. })
    ));
    assert!(checkpoint.exists());
    // Three epochs, then three more from the checkpoint, equal six in one go.
    run_training(&dataset, &split, &config, Some(checkpoint.clone()), true);
    let resumed = run_training(
        &dataset,
        &split,
        &tiny_config(tiny_arch(false, 3), 6),
        Some(checkpoint.clone()),
        true,
    );
    assert_eq!(losses(&resumed), losses(&straight));

    // A checkpoint of other settings is refused rather than silently mixed in.
    let other = tiny_config(tiny_arch(false, 5), 6);
    let run = TrainRun {
        dataset: &dataset,
        split: &split,
        checkpoint: Some(checkpoint),
        resume: true,
        stop: &AtomicBool::new(false),
        show_progress: false,
        symbol_targets: None,
        perceptual_targets: None,
    };
    assert!(matches!(
        train(&run, &other),
        Err(TrainError::Checkpoint { .. })
    ));
}

#[test]
fn decoder_kernel_matches_candle() {
    let scratch = temp_dir("kernel");
    let dir = scratch.path();
    let dataset = toy_dataset(dir, 24);
    let split = dataset.split(0.25, 1).expect("splits");
    for conv in [false, true] {
        let config = tiny_config(tiny_arch(conv, 4), 2);
        let trained = run_training(&dataset, &split, &config, None, false);
        let model = model_of(&trained, &dataset, &split, &config);
        let vae = Vae::from_tensors(&model.manifest.architecture, &model.tensors).expect("builds");
        let batch = 6;
        let z: Vec<f32> = (0..batch * 4)
            .map(|i| ((i * 37) % 17) as f32 / 4.0 - 2.0)
            .collect();
        let reference = vae
            .decode(&Tensor::from_slice(&z, (batch, 4), &Device::Cpu).expect("tensor"))
            .expect("decodes");
        let reference = reference
            .flatten_all()
            .expect("flat")
            .to_vec1::<f32>()
            .expect("values");
        let mut kernel = DecoderKernel::new(&model, batch).expect("kernel");
        let mut out = vec![0.0; batch * 129];
        kernel.decode_batch(&z, &mut out);
        let worst = reference
            .iter()
            .zip(&out)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "conv={conv}: max difference {worst}");
        assert!(
            reference.iter().any(|v| v.abs() > 1e-3),
            "the decoder must not be trivially zero"
        );
    }
}
