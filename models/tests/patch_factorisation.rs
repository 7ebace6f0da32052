//! The multi-frame patch model on a tiny toy set: with the soft factorisation its time moves
//! become one line shared by every sound, its pitch moves stay one, and the two move apart.

mod common;

use common::{options, temp_dir, RATE};
use timbrespace_models::dataset::{Dataset, DatasetOptions};
use timbrespace_models::factorisation::patches::{
    patch_grid, score_patches, train_patches, PatchConfig, PatchSet,
};
use timbrespace_models::toy::{write_toy_set, ToyKind};

#[test]
fn the_factorisation_orders_pitch_and_time_moves() {
    let scratch = temp_dir("patches");
    let dir = scratch.path();
    write_toy_set(ToyKind::Additive, 96, 0.3, RATE, 11, dir).expect("writes the toy set");
    let dataset = Dataset::import(
        dir,
        &DatasetOptions {
            max_frames_per_file: 0,
            ..options()
        },
    )
    .expect("imports");
    let grid = patch_grid(&dataset).expect("a grid fits the toy's STFT");
    let split = dataset.split(0.25, 1).expect("splits");
    let train = PatchSet::new(&dataset, &split.train_files, &grid, 8);
    let test = PatchSet::new(&dataset, &split.test_files, &grid, 8);
    let score = |weight: f64| {
        let config = PatchConfig {
            frames: 8,
            latent: 4,
            hidden: 64,
            weight,
            max_pitch: 6,
            max_time: 2,
            epochs: 60,
            batch: 16,
            lr: 2e-3,
            ..PatchConfig::default()
        };
        let (model, history) = train_patches(&train, &config).expect("trains");
        assert!(history.iter().all(|e| e.elbo.is_finite()), "{history:?}");
        score_patches(&model, &test, &dataset, &grid, &config, 1)
            .expect("scores")
            .0
    };
    let (plain, factored) = (score(0.0), score(20000.0));
    let (p, f) = (&plain.geometry, &factored.geometry);
    let both = format!("without: {plain:#?}\nwith: {factored:#?}");
    // Without the term, moving the patch later or earlier moves its code the same way (the
    // move is mostly "shifted"); with it the two are opposite, and the same across sounds.
    assert!(
        f.time.opposite_sign < -0.4 && f.time.opposite_sign < p.time.opposite_sign - 0.5,
        "{both}"
    );
    assert!(f.time.same_sign > 0.9, "{both}");
    assert!(f.time.across_sounds > p.time.across_sounds + 0.3, "{both}");
    assert!(
        f.pitch.same_sign > 0.9 && f.pitch.opposite_sign < -0.5,
        "{both}"
    );
    assert!(f.pitch_vs_time < p.pitch_vs_time, "{both}");
    assert!(factored.spectral_convergence_db < -3.0, "{both}");
}
