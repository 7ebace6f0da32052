//! Descriptor-based path synthesis on the default model: the follower reaches a brightness the
//! model can make, follows a ramp between two reachable values, and stays put (finite) when
//! the target is absurd.

use timbrespace_engine::axes::{audible_centre, AxisBasis, DescriptorMap, LatentAxes};
use timbrespace_engine::descriptor_path::{within, PathFollower};
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::model::ModelFile;

fn model() -> ModelFile {
    ModelFile::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/default.tsm"
    )))
    .expect("the default model")
}

/// Brightness at two reachable points of the plane of PCA axes 1–2, ±1.5 σ from the centre.
fn reachable(model: &ModelFile, axes: &LatentAxes) -> (f32, f32) {
    let map = DescriptorMap::new(model, axes, 5, 1.5).expect("a map");
    let values = map.values(Descriptor::Centroid);
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, 0.0f32), |(a, b), &c| (a.min(c), b.max(c)));
    assert!(
        hi > 1.3 * lo,
        "the map spans brightness: {lo:.0}–{hi:.0} Hz"
    );
    // Keep inside the extremes, which may be single corners.
    (lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo))
}

#[test]
fn the_follower_reaches_and_tracks_reachable_brightness() {
    let model = model();
    let axes = LatentAxes::new(&model, AxisBasis::Pca).expect("PCA axes");
    let (low, high) = reachable(&model, &axes);
    let mut follower =
        PathFollower::new(&model, &axes, 4, Descriptor::Centroid, 0.25).expect("a follower");
    let start = audible_centre(&model).expect("a centre");
    let mut z = start.clone();
    let mut last = f32::NAN;
    for _ in 0..60 {
        last = follower.step(&mut z, high).achieved;
    }
    assert!(
        within(last, high, 0.1),
        "reached {last:.0} Hz for a target of {high:.0} Hz"
    );
    assert!(
        (follower.measure(&z) - last).abs() < 1e-3 * last.abs().max(1.0),
        "the reported value is the sound's"
    );
    // A slow ramp down to the other reachable value, then back up.
    let hops = 240;
    let mut on_target = 0;
    for h in 0..hops {
        let phase = h as f32 / (hops - 1) as f32;
        let target = if phase < 0.5 {
            high + (low - high) * 2.0 * phase
        } else {
            low + (high - low) * (2.0 * phase - 1.0)
        };
        if within(follower.step(&mut z, target).achieved, target, 0.1) {
            on_target += 1;
        }
    }
    assert!(
        on_target as f64 >= 0.9 * hops as f64,
        "{on_target} of {hops} hops within 10 % ({low:.0}–{high:.0} Hz)"
    );
}

#[test]
fn absurd_targets_keep_the_point_finite() {
    let model = model();
    let axes = LatentAxes::new(&model, AxisBasis::Pca).expect("PCA axes");
    let mut follower =
        PathFollower::new(&model, &axes, 2, Descriptor::Flatness, 3.0).expect("a follower");
    let mut z = audible_centre(&model).expect("a centre");
    let before = z.clone();
    let stay = follower.step(&mut z, f32::NAN);
    assert_eq!(stay.probe, 0);
    assert_eq!(z, before, "a NaN target does not move the point");
    for target in [1e9, -1e9, 0.0] {
        for _ in 0..20 {
            let step = follower.step(&mut z, target);
            assert!(step.achieved.is_finite());
        }
        assert!(z.iter().all(|v| v.is_finite()));
    }
}
