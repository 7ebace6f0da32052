//! The `.tsm` model file: exact round trips, atomic saves, and a typed error for every kind of
//! damaged file; the decoder kernel's batching.

mod common;

use std::collections::HashMap;

use common::tiny_model::{tiny_model, LATENT};
use timbrespace_engine::model::container::{decode, encode};
use timbrespace_engine::model::manifest::PitchDirection;
use timbrespace_engine::model::{DecoderKernel, ModelFile, ModelFileError};

fn decode_all(model: &ModelFile, latents: &[f32]) -> Vec<f32> {
    let mut kernel = DecoderKernel::new(model, 8).expect("kernel");
    let mut out = vec![0.0; latents.len() / LATENT * kernel.bins()];
    kernel.decode_batch(latents, &mut out);
    out
}

fn probe_latents() -> Vec<f32> {
    (0..8 * LATENT)
        .map(|i| ((i * 7919) % 13) as f32 / 6.0 - 1.0)
        .collect()
}

/// Rewrite a model's bytes through `edit`, which may change its tensors and metadata.
fn tampered(
    model: &ModelFile,
    edit: impl FnOnce(&mut timbrespace_engine::model::TensorMap, &mut HashMap<String, String>),
) -> Vec<u8> {
    let (mut tensors, mut metadata) = decode(&model.to_bytes().expect("bytes")).expect("decodes");
    edit(&mut tensors, &mut metadata);
    encode(&tensors, metadata).expect("encodes")
}

#[test]
fn save_and_load_round_trip_bit_identically() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    for conv in [false, true] {
        let model = tiny_model(conv, 1);
        let path = dir.join("model.tsm");
        model.save(&path).expect("saves");
        let loaded = ModelFile::load(&path).expect("loads");
        assert_eq!(loaded, model);
        let (a, b) = (
            decode_all(&model, &probe_latents()),
            decode_all(&loaded, &probe_latents()),
        );
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "conv={conv}"
        );
        // Saving again over the file leaves no temporary file behind.
        loaded.save(&path).expect("overwrites");
        let names: Vec<_> = std::fs::read_dir(dir)
            .expect("lists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.tsm")]);
    }
}

#[test]
fn damaged_files_give_typed_errors() {
    let model = tiny_model(false, 2);
    let bytes = model.to_bytes().expect("bytes");

    let truncated = ModelFile::from_bytes(&bytes[..bytes.len() - 100]);
    assert!(
        matches!(truncated, Err(ModelFileError::Truncated(_))),
        "{truncated:?}"
    );
    assert!(matches!(
        ModelFile::from_bytes(&bytes[..5]),
        Err(ModelFileError::Truncated(_))
    ));
    assert!(matches!(
        ModelFile::from_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt a wave file, not a model"),
        Err(ModelFileError::NotAModel(_) | ModelFileError::Truncated(_))
    ));

    let foreign = tampered(&model, |_, meta| {
        meta.remove("format");
    });
    assert!(matches!(
        ModelFile::from_bytes(&foreign),
        Err(ModelFileError::NotAModel(_))
    ));

    let newer = tampered(&model, |_, meta| {
        let manifest = meta["manifest"].replace("\"version\":1", "\"version\":7");
        meta.insert("manifest".into(), manifest);
    });
    assert_eq!(
        ModelFile::from_bytes(&newer),
        Err(ModelFileError::Version {
            found: 7,
            supported: 1
        })
    );

    let missing = tampered(&model, |tensors, _| {
        tensors.remove("decoder.dense0.bias");
    });
    assert_eq!(
        ModelFile::from_bytes(&missing),
        Err(ModelFileError::MissingTensor("decoder.dense0.bias".into()))
    );

    let misshaped = tampered(&model, |tensors, _| {
        let t = tensors.get_mut("decoder.dense1.weight").expect("exists");
        t.shape = vec![t.shape[1], t.shape[0]];
    });
    assert!(
        matches!(ModelFile::from_bytes(&misshaped), Err(ModelFileError::Shape { name, .. }) if name == "decoder.dense1.weight")
    );

    let diverged = tampered(&model, |tensors, _| {
        tensors
            .get_mut("encoder.dense0.weight")
            .expect("exists")
            .data[3] = f32::NAN;
    });
    assert_eq!(
        ModelFile::from_bytes(&diverged),
        Err(ModelFileError::NonFinite("encoder.dense0.weight".into()))
    );

    let bad_label = tampered(&model, |tensors, _| {
        tensors.get_mut("points.labels").expect("exists").data[0] = 5.0;
    });
    assert!(matches!(
        ModelFile::from_bytes(&bad_label),
        Err(ModelFileError::Manifest(_))
    ));

    let bad_stft = tampered(&model, |_, meta| {
        let manifest = meta["manifest"].replace("\"hop\":64", "\"hop\":100");
        meta.insert("manifest".into(), manifest);
    });
    assert!(matches!(
        ModelFile::from_bytes(&bad_stft),
        Err(ModelFileError::Manifest(_))
    ));

    let missing_file = ModelFile::load(std::path::Path::new("/nonexistent/model.tsm"));
    assert!(matches!(missing_file, Err(ModelFileError::Io(_))));
    let unwritable = model.save(std::path::Path::new("/nonexistent/dir/model.tsm"));
    assert!(matches!(unwritable, Err(ModelFileError::Io(_))));
}

#[test]
fn batched_decoding_matches_one_at_a_time() {
    for conv in [false, true] {
        let model = tiny_model(conv, 3);
        let latents = probe_latents();
        let batched = decode_all(&model, &latents);
        let mut kernel = DecoderKernel::new(&model, 1).expect("kernel");
        let bins = kernel.bins();
        for (b, z) in latents.chunks_exact(LATENT).enumerate() {
            let mut one = vec![0.0; bins];
            kernel.decode_batch(z, &mut one);
            assert_eq!(
                one,
                batched[b * bins..(b + 1) * bins],
                "conv={conv}, example {b}"
            );
        }
        // Magnitudes are the expanded decoder output and never negative.
        let mut magnitudes = vec![0.0; bins];
        kernel.decode_magnitudes(&latents[..LATENT], &mut magnitudes);
        let scaling = model.manifest.scaling;
        for (m, y) in magnitudes.iter().zip(&batched[..bins]) {
            assert!(*m >= 0.0);
            assert!((m - scaling.expand(*y)).abs() <= 1e-6 * m.max(1.0));
        }
    }
}

#[test]
fn a_pitch_direction_round_trips_and_a_broken_one_is_refused() {
    let mut model = tiny_model(false, 2);
    let latent = model.manifest.architecture.latent;
    let direction = PitchDirection {
        per_semitone: (0..latent).map(|i| 0.1 * i as f32 - 0.05).collect(),
        explained: 0.9,
    };
    model.manifest.pitch_direction = Some(direction.clone());
    let back = ModelFile::from_bytes(&model.to_bytes().expect("bytes")).expect("loads");
    assert_eq!(back.manifest.pitch_direction, Some(direction));
    let broken = [
        vec![0.1; latent + 1],
        vec![0.0; latent],
        vec![f32::NAN; latent],
    ];
    for per_semitone in broken {
        let mut bad = model.manifest.clone();
        bad.pitch_direction = Some(PitchDirection {
            per_semitone,
            explained: 0.9,
        });
        let err = ModelFile::new(bad, model.tensors.clone()).err();
        assert!(
            matches!(&err, Some(ModelFileError::Manifest(m)) if m.contains("pitch direction")),
            "{err:?}"
        );
    }
}
