//! Perceptual regularisation: the ratings load and match dataset names, every variant's term
//! pulls latent instrument distances toward the human ratings, correlations are right on known
//! cases, and the two-step schedule switches the term on when asked.

use candle_core::{backprop::GradStore, DType, Device, Tensor, Var};
use timbrespace_models::perceptual::{
    pearson, perceptual_score, ranks, PerceptualConfig, PerceptualTargets, PerceptualVariant,
    PERCEPTUAL_RAMP,
};
use timbrespace_models::random::gaussian_vec;
use timbrespace_models::timbre_ratings::{family, RatingsError, TimbreRatings, FAMILIES};

fn ratings() -> TimbreRatings {
    TimbreRatings::embedded().expect("the embedded ratings parse")
}

#[test]
fn ratings_load_and_match_dataset_names() {
    let embedded = ratings();
    assert_eq!(embedded.len(), 12);
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/timbre");
    assert_eq!(TimbreRatings::load(&folder).expect("loads"), embedded);
    for (a, b) in [
        ("French Horn", "FrenchHorn"),
        ("horn", "FrenchHorn"),
        ("cor_anglais", "EnglishHorn"),
        ("alto-sax", "Saxophone"),
        ("Acoustic Grand Piano", "Piano"),
    ] {
        assert_eq!(embedded.index_of(a), embedded.index_of(b), "{a} vs {b}");
        assert!(embedded.index_of(a).is_some(), "{a} should be rated");
    }
    assert_eq!(embedded.index_of("Theremin"), None);
    let named = |name: &str| family(name).map(|f| FAMILIES[f]);
    assert_eq!(named("Trombone"), Some("brass"));
    assert_eq!(named("english horn"), Some("woodwind"));
    assert_eq!(named("Violin"), Some("strings"));
    assert_eq!(named("Theremin"), None);
    // Clarinet and saxophone are rated closer than clarinet and piano.
    let (clarinet, saxophone, piano) = (
        embedded.index_of("Clarinet").expect("rated"),
        embedded.index_of("Saxophone").expect("rated"),
        embedded.index_of("Piano").expect("rated"),
    );
    assert!(embedded.dissimilarity(clarinet, saxophone) < embedded.dissimilarity(clarinet, piano));
}

#[test]
fn corrupt_ratings_are_refused_with_the_file_named() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/timbre");
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    for entry in std::fs::read_dir(&source).expect("lists") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copies");
    }
    let matrix = dir.join("mean_dissimilarity_12x12.csv");
    let text = std::fs::read_to_string(&matrix).expect("reads");
    // Break the symmetry of the first row.
    let broken = text.replacen("0.391355", "0.9", 1);
    std::fs::write(&matrix, broken).expect("writes");
    match TimbreRatings::load(dir) {
        Err(RatingsError::Invalid { file, reason }) => {
            assert_eq!(file, "mean_dissimilarity_12x12.csv");
            assert!(reason.contains("symmetric"), "{reason}");
        }
        other => panic!("expected an invalid-file error, got {other:?}"),
    }
    std::fs::write(&matrix, "# header\n1,2,x\n").expect("writes");
    assert!(TimbreRatings::load(dir).is_err());
    std::fs::remove_file(&matrix).expect("removes");
    assert!(matches!(
        TimbreRatings::load(dir),
        Err(RatingsError::Io { .. })
    ));
}

#[test]
fn correlations_on_known_cases() {
    let a = [1.0, 2.0, 3.0, 4.0, 5.0];
    let cubed: Vec<f64> = a.iter().map(|v: &f64| v.powi(3)).collect();
    assert!((pearson(&ranks(&a), &ranks(&cubed)) - 1.0).abs() < 1e-12);
    assert!(pearson(&a, &cubed) < 0.99);
    let reversed: Vec<f64> = a.iter().rev().copied().collect();
    assert!((pearson(&a, &reversed) + 1.0).abs() < 1e-12);
    assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    assert_eq!(pearson(&a, &[2.0; 5]), 0.0);
}

/// Frames per instrument in the optimisation test.
const PER_INSTRUMENT: usize = 4;
/// Latent size of the optimisation test.
const LATENT: usize = 6;

/// Plain gradient descent on free latent points under ½‖μ‖² (the KL's mean part, which keeps
/// them bounded) plus `weight` × the perceptual term; returns the points before and after.
fn optimise(variant: PerceptualVariant, weight: f64) -> (Vec<f32>, Vec<f32>) {
    let ratings = ratings();
    let frames = ratings.len() * PER_INSTRUMENT;
    let rated: Vec<Option<usize>> = (0..frames).map(|f| Some(f / PER_INSTRUMENT)).collect();
    // Every frame is in every step: the running memory meant for mini-batches is not needed.
    let targets = PerceptualTargets::from_frames(&ratings, rated)
        .expect("12 rated instruments")
        .without_memory();
    let mut rng = fastrand::Rng::with_seed(11);
    let start: Vec<f32> = gaussian_vec(&mut rng, frames * LATENT)
        .into_iter()
        .map(|v| 0.5 * v)
        .collect();
    let mu = Var::from_tensor(
        &Tensor::from_vec(start.clone(), (frames, LATENT), &Device::Cpu).expect("tensor"),
    )
    .expect("var");
    let indices: Vec<usize> = (0..frames).collect();
    for _ in 0..400 {
        let term = targets
            .loss(variant, &indices, mu.as_tensor())
            .expect("computes")
            .expect("every instrument is present");
        let bound = (mu.as_tensor().sqr().expect("sqr").sum_all().expect("sum") * 0.5)
            .and_then(|t| t / frames as f64)
            .expect("bound");
        let loss = (bound + (term * weight).expect("scale")).expect("loss");
        let grads: GradStore = loss.backward().expect("backward");
        let grad = grads.get(mu.as_tensor()).expect("gradient");
        let step = (grad * (0.1 * frames as f64)).expect("step");
        mu.set(&mu.as_tensor().sub(&step).expect("update"))
            .expect("sets");
    }
    let end = mu
        .as_tensor()
        .to_dtype(DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .expect("values");
    (start, end)
}

#[test]
fn every_variant_moves_latent_distances_toward_the_ratings() {
    let ratings = ratings();
    let rated: Vec<Option<usize>> = (0..ratings.len() * PER_INSTRUMENT)
        .map(|f| Some(f / PER_INSTRUMENT))
        .collect();
    for variant in [
        PerceptualVariant::Prior,
        PerceptualVariant::L2,
        PerceptualVariant::Gaussian,
        PerceptualVariant::StudentT,
    ] {
        let (start, end) = optimise(variant, 5.0);
        let before = perceptual_score(&start, LATENT, &rated, &ratings).expect("scores");
        let after = perceptual_score(&end, LATENT, &rated, &ratings).expect("scores");
        assert!(end.iter().all(|v| v.is_finite()), "{variant:?} diverged");
        assert!(
            after.spearman > 0.75 && after.spearman > before.spearman + 0.3,
            "{variant:?}: Spearman {:.3} → {:.3}",
            before.spearman,
            after.spearman
        );
    }
}

#[test]
fn the_two_step_schedule_starts_the_term_late_and_ramps_it() {
    let config = PerceptualConfig {
        variant: PerceptualVariant::StudentT,
        weight: 10.0,
        from_epoch: 20,
    };
    assert_eq!(config.weight_at(0), 0.0);
    assert_eq!(config.weight_at(19), 0.0);
    assert!(config.weight_at(20) > 0.0 && config.weight_at(20) < 10.0);
    assert_eq!(config.weight_at(20 + PERCEPTUAL_RAMP), 10.0);
    assert_eq!(config.settled_epoch(), 20 + PERCEPTUAL_RAMP);
    // Too few rated instruments: no targets.
    let r = ratings();
    assert!(PerceptualTargets::from_frames(&r, vec![Some(0), Some(1), None, Some(1)]).is_none());
}

#[test]
fn the_running_memory_agrees_with_the_batch_when_nothing_moves() {
    let ratings = ratings();
    let frames = ratings.len() * PER_INSTRUMENT;
    let rated: Vec<Option<usize>> = (0..frames).map(|f| Some(f / PER_INSTRUMENT)).collect();
    let with_memory = PerceptualTargets::from_frames(&ratings, rated.clone()).expect("targets");
    let plain = PerceptualTargets::from_frames(&ratings, rated)
        .expect("targets")
        .without_memory();
    let mut rng = fastrand::Rng::with_seed(3);
    let mu = Tensor::from_vec(
        gaussian_vec(&mut rng, frames * LATENT),
        (frames, LATENT),
        &Device::Cpu,
    )
    .expect("tensor");
    let indices: Vec<usize> = (0..frames).collect();
    let value = |t: &PerceptualTargets, mu: &Tensor| {
        t.loss(PerceptualVariant::StudentT, &indices, mu)
            .expect("computes")
            .expect("present")
            .to_scalar::<f32>()
            .expect("scalar")
    };
    let expected = value(&plain, &mu);
    assert!(expected > 0.0);
    for _ in 0..3 {
        assert!((value(&with_memory, &mu) - expected).abs() < 1e-4 * expected.max(1e-3));
    }
    // One batch that fits the ratings well hardly moves the remembered centroids: the term
    // stays near its old value instead of dropping to the batch's own.
    let (_, fitted) = optimise(PerceptualVariant::StudentT, 5.0);
    let other = Tensor::from_vec(fitted, (frames, LATENT), &Device::Cpu).expect("tensor");
    let alone = value(&plain, &other);
    let blended = value(&with_memory, &other);
    assert!(
        alone < 0.5 * expected,
        "the fitted batch fits: {alone} vs {expected}"
    );
    assert!(
        (blended - expected).abs() < 0.2 * (alone - expected).abs(),
        "blended {blended}, alone {alone}, before {expected}"
    );
}
