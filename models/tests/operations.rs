//! Operational latent spaces: the stargate ring task learned with a FiLMR operator, and its
//! refusal of settings that cannot make a ring; a mixing projector that turns a non-additive
//! toy encoder's mixes into sums, and mixes of sound files cut where both sounds play.

use timbrespace_models::audio_file::{write_wav, MonoAudio};
use timbrespace_models::demo::default_model;
use timbrespace_models::operations::mixing::{
    mix_frames, MixFrames, MixingConfig, MixingError, MixingProjector,
};
use timbrespace_models::operations::stargate::{train_stargate, Operator, StargateConfig};

#[test]
fn filmr_walks_a_small_ring_point_by_point() {
    let config = StargateConfig {
        points: 6,
        hidden: 32,
        iterations: 3000,
        restarts: 2,
        ..StargateConfig::default()
    };
    let scores = train_stargate(&config, Operator::FilmRotation).expect("train");
    assert!(scores.worst_error < 0.05, "{scores:?}");
    // A six-point ring in order is walked by a rotation of a multiple of 60°.
    let angle = scores.angle_degrees.expect("FiLMR has an angle");
    let turns = angle / 60.0;
    assert!((turns - turns.round()).abs() < 0.1, "{angle}°");
    assert!(
        scores.decoding_error < 0.5,
        "the codes keep the points apart: {scores:?}"
    );
}

#[test]
fn a_ring_that_cannot_move_is_refused() {
    for config in [
        StargateConfig {
            points: 2,
            ..StargateConfig::default()
        },
        StargateConfig {
            step: 12,
            ..StargateConfig::default()
        },
        StargateConfig {
            dims: 1,
            ..StargateConfig::default()
        },
    ] {
        assert!(
            train_stargate(&config, Operator::Matrix).is_err(),
            "{config:?}"
        );
    }
}

/// Mixes of toy sounds: each sound is 4 non-negative source energies, a mix adds them, and the
/// "encoder" is a fixed non-linear map (tanh of a mix of log energies), so mixing is not
/// addition on its codes.
fn toy_mixes(count: usize, seed: u64) -> MixFrames {
    let weights = [
        [0.9, -0.4, 0.3, 0.1],
        [0.2, 0.8, -0.5, 0.3],
        [-0.3, 0.2, 0.7, 0.6],
        [0.5, 0.5, 0.1, -0.7],
        [0.1, -0.6, -0.2, 0.8],
        [0.4, 0.3, 0.6, 0.2],
    ];
    let encode = |s: &[f32; 4]| -> Vec<f32> {
        weights
            .iter()
            .map(|w| {
                let x: f32 = w.iter().zip(s).map(|(w, e)| w * (1.0 + e).ln()).sum();
                (0.5 * x).tanh()
            })
            .collect()
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut frames = MixFrames {
        latent: weights.len(),
        ..MixFrames::default()
    };
    for _ in 0..count {
        let a: [f32; 4] = std::array::from_fn(|_| 3.0 * rng.f32());
        let b: [f32; 4] = std::array::from_fn(|_| 3.0 * rng.f32());
        let m: [f32; 4] = std::array::from_fn(|i| a[i] + b[i]);
        frames.a.extend(encode(&a));
        frames.b.extend(encode(&b));
        frames.mix.extend(encode(&m));
    }
    frames
}

#[test]
fn a_mixing_projector_makes_mixes_sums_and_keeps_the_codes() {
    let config = MixingConfig {
        dims: 8,
        hidden: 64,
        iterations: 2500,
        batch: 128,
        ..MixingConfig::default()
    };
    let (projector, history) = MixingProjector::train(&toy_mixes(2000, 1), &config).expect("train");
    assert!(history.last() < history.first(), "{history:?}");
    let scores = projector.score(&toy_mixes(400, 2)).expect("score");
    assert!(
        scores.latent_error > 0.3,
        "the toy's codes do not add: {scores:?}"
    );
    assert!(
        scores.improvement() > 3.0,
        "mixing must be far closer to addition in h-space: {scores:?}"
    );
    assert!(
        scores.inverse_error < 0.15,
        "g∘h keeps the codes: {scores:?}"
    );
    // The shapes: one h-space point per code, and back.
    let points = projector.project(&[0.1; 12]).expect("project");
    assert_eq!((points.len(), points[0].len()), (2, 8));
    let back = projector.unproject(&points).expect("unproject");
    assert_eq!((back.len(), back[0].len()), (2, 6));
}

/// A one-second tone (or silence for frequency 0) at the default model's rate, as a WAV file.
fn tone(dir: &std::path::Path, name: &str, frequency: f32) -> std::path::PathBuf {
    let rate = 22_050;
    let samples = (0..rate)
        .map(|i| 0.3 * (std::f32::consts::TAU * frequency * i as f32 / rate as f32).sin())
        .collect();
    let path = dir.join(name);
    write_wav(&path, &MonoAudio { samples, rate }).expect("write");
    path
}

#[test]
fn mixes_are_cut_where_both_sounds_play_and_refused_where_they_cannot_be() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let model = default_model().expect("model");
    let (a, b) = (tone(dir, "a.wav", 220.0), tone(dir, "b.wav", 330.0));
    let frames = mix_frames(&model, &[a.clone(), b.clone()], 3, 2, 0).expect("mix");
    let latent = model.manifest.architecture.latent;
    assert_eq!((frames.len(), frames.latent), (6, latent));
    assert_eq!(frames.mix.len(), 6 * latent);
    // The mix's magnitudes hold both tones' peaks.
    let bins = frames.mix_magnitudes.len() / 6;
    let bin = |f: f32| (f * 2.0 * (bins - 1) as f32 / 22_050.0).round() as usize;
    let first = &frames.mix_magnitudes[..bins];
    let floor = first.iter().copied().fold(0.0f32, f32::max) * 0.1;
    assert!(first[bin(220.0)] > floor && first[bin(330.0)] > floor);
    // Silence never sounds with anything; one sound cannot be mixed.
    let silent = tone(dir, "silent.wav", 0.0);
    assert!(matches!(
        mix_frames(&model, &[a.clone(), silent], 3, 2, 0),
        Err(MixingError::NoFrames)
    ));
    assert!(matches!(
        mix_frames(&model, &[a], 3, 2, 0),
        Err(MixingError::TooFewSounds(1))
    ));
}
