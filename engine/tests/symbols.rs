//! The symbol side of a model: vocabulary, symbol encoder (with continuous symbol points),
//! symbol decoder, trajectories, and validation of symbol tensors.

mod common;

use common::tiny_model::{tiny_symbol_model, LATENT};
use timbrespace_engine::model::{ModelFile, ModelFileError};
use timbrespace_engine::symbols::{SymbolEncoder, SymbolPoint, SymbolReader};

fn encoder() -> SymbolEncoder {
    SymbolEncoder::new(&tiny_symbol_model(1))
        .expect("valid")
        .expect("has symbols")
}

#[test]
fn one_hots_encode_and_decode() {
    let enc = encoder();
    let v = enc.vocabulary();
    assert_eq!(v.width(), 12 + 3 + 2 + 2);
    let mut y = vec![0.0; v.width()];
    v.one_hot(&[Some(9), Some(1), None, Some(1)], &mut y);
    assert_eq!(y.iter().filter(|&&x| x == 1.0).count(), 3);
    assert_eq!(y.iter().sum::<f32>(), 3.0);
    for (g, class) in [(0, 9), (1, 1), (3, 1)] {
        assert_eq!(v.best(g, &y), (class, 1.0));
    }
    // A4 is pitch class A (9) in octave 4 (index 1); C6 is out of range and borrows octave 5.
    let a4 = v.key_symbols(69);
    assert_eq!((a4.pitch, a4.octave, a4.in_range), (Some(9), Some(1), true));
    let c6 = v.key_symbols(84);
    assert_eq!(
        (c6.pitch, c6.octave, c6.in_range),
        (Some(0), Some(2), false)
    );
    let c1 = v.key_symbols(24);
    assert_eq!((c1.octave, c1.in_range), (Some(0), false));
    // Velocity maps onto p (48) … f (100), clamped, monotonic.
    assert_eq!(v.dynamics_position(10.0), 0.0);
    assert_eq!(v.dynamics_position(48.0), 0.0);
    assert!((v.dynamics_position(74.0) - 0.5).abs() < 1e-6);
    assert_eq!(v.dynamics_position(127.0), 1.0);
    assert!(v.velocity_gain(24.0) < 1.0 && v.velocity_gain(127.0) > 1.0);
    assert_eq!(v.velocity_gain(80.0), 1.0);
    assert_eq!(v.instruments(), ["Reed", "String"]);
}

#[test]
fn symbol_points_move_continuously_between_symbols() {
    let mut enc = encoder();
    let point = |key: f32, dynamics: f32, instrument: f32| SymbolPoint {
        key,
        dynamics,
        instrument,
    };
    let centre = |enc: &mut SymbolEncoder, p: SymbolPoint| {
        let mut z = vec![0.0; LATENT];
        enc.centre(p, &mut z);
        z
    };
    // On a symbol the centre is that symbol's posterior mean.
    let mut mu = vec![0.0; LATENT];
    let mut sigma = vec![0.0; LATENT];
    enc.posterior(&[Some(0), Some(1), Some(1), Some(0)], &mut mu, &mut sigma);
    assert!(sigma.iter().all(|s| *s > 0.0));
    let c4 = centre(&mut enc, point(60.0, 1.0, 0.0));
    assert!(c4.iter().zip(&mu).all(|(a, b)| (a - b).abs() < 1e-5));
    // Bending, morphing dynamics or instruments: a straight path between neighbours.
    let d4 = centre(&mut enc, point(61.0, 1.0, 0.0));
    let steps = 50;
    let mut previous = c4.clone();
    let mut largest_step = 0.0f32;
    for i in 1..=steps {
        let t = i as f32 / steps as f32;
        let z = centre(&mut enc, point(60.0 + t, 1.0, 0.0));
        for j in 0..LATENT {
            let expected = c4[j] + t * (d4[j] - c4[j]);
            assert!((z[j] - expected).abs() < 1e-4, "bend {t}: {z:?}");
        }
        let step: f32 = z
            .iter()
            .zip(&previous)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt();
        largest_step = largest_step.max(step);
        previous = z;
    }
    let jump: f32 = c4
        .iter()
        .zip(&d4)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f32>()
        .sqrt();
    assert!(largest_step <= jump / steps as f32 * 1.01 + 1e-6);
    let reed = centre(&mut enc, point(64.0, 0.0, 0.0));
    let string = centre(&mut enc, point(64.0, 0.0, 1.0));
    let between = centre(&mut enc, point(64.0, 0.0, 0.25));
    for j in 0..LATENT {
        assert!((between[j] - (0.75 * reed[j] + 0.25 * string[j])).abs() < 1e-4);
    }
    // Absurd inputs stay finite.
    let z = centre(&mut enc, point(f32::NAN, f32::INFINITY, -1e9));
    assert!(z.iter().all(|v| v.is_finite()));
}

#[test]
fn the_symbol_decoder_gives_a_distribution_per_group() {
    let model = tiny_symbol_model(2);
    let mut reader = SymbolReader::new(&model).expect("valid").expect("symbols");
    let mut p = vec![0.0; reader.vocabulary().width()];
    reader.probabilities(&[0.5, -1.0, 2.0, 0.1], &mut p);
    for g in &reader.vocabulary().groups {
        let sum: f32 = p[g.offset..g.offset + g.classes.len()].iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{}: {sum}", g.name);
    }
}

#[test]
fn symbol_models_round_trip_and_validate() {
    let model = tiny_symbol_model(3);
    let bytes = model.to_bytes().expect("encode");
    let back = ModelFile::from_bytes(&bytes).expect("decode");
    assert_eq!(back.manifest, model.manifest);
    assert_eq!(back.tensors, model.tensors);

    let mut missing = model.tensors.clone();
    missing.remove("symbols.release");
    assert!(matches!(
        ModelFile::new(model.manifest.clone(), missing),
        Err(ModelFileError::MissingTensor(name)) if name == "symbols.release"
    ));
    let mut bad_kind = model.manifest.clone();
    if let Some(spec) = &mut bad_kind.symbols {
        spec.kinds.push("timbre".into());
    }
    assert!(matches!(
        ModelFile::new(bad_kind, model.tensors.clone()),
        Err(ModelFileError::Manifest(_))
    ));
    // Audio-only models have no symbol side, and say so.
    let audio_only = common::tiny_model::tiny_model(false, 3);
    assert!(SymbolEncoder::new(&audio_only).expect("valid").is_none());
}
