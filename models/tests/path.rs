//! Offline descriptor paths: target curves are read (per hop or timed and interpolated, bad
//! files named), and the default model follows a brightness curve inside its reachable range.

use timbrespace_engine::axes::{audible_centre, AxisBasis, DescriptorMap, LatentAxes};
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::model::ModelFile;
use timbrespace_models::path_synthesis::{follow, read_target_curve, PathError, PathSettings};

/// A temporary CSV file holding `text`, removed when dropped.
fn write(name: &str, text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .prefix(&format!("timbrespace-{name}-"))
        .suffix(".csv")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), text).expect("writes");
    file
}

#[test]
fn target_curves_are_read_per_hop_or_interpolated() {
    let per_hop = write("curve-hops", "# brightness\n800\n900\n1000\n");
    assert_eq!(
        read_target_curve(per_hop.path(), 0.01).expect("reads"),
        vec![800.0, 900.0, 1000.0]
    );
    let timed = write("curve-timed", "seconds,value\n0,1000\n0.1,2000\n0.2,2000\n");
    let values = read_target_curve(timed.path(), 0.025).expect("reads");
    assert_eq!(values.len(), 9);
    assert!((values[0] - 1000.0).abs() < 1e-3);
    assert!((values[2] - 1500.0).abs() < 1e-2, "{values:?}");
    assert!((values[8] - 2000.0).abs() < 1e-3);
    for (name, text, expected) in [
        ("curve-empty", "# nothing\n", "no values"),
        ("curve-nan", "1000\nNaN\n", "line 2"),
        ("curve-mixed", "0,1000\n2000\n", "columns"),
        ("curve-backwards", "0.2,1000\n0.1,2000\n", "increase"),
    ] {
        match read_target_curve(write(name, text).path(), 0.01) {
            Err(PathError::Curve { reason, .. }) => {
                assert!(reason.contains(expected), "{name}: {reason}")
            }
            other => panic!("{name}: expected a curve error, got {other:?}"),
        }
    }
    assert!(matches!(
        read_target_curve(std::path::Path::new("/nonexistent/curve.csv"), 0.01),
        Err(PathError::Io { .. })
    ));
}

#[test]
fn the_default_model_follows_a_reachable_brightness_curve() {
    let model = ModelFile::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/default.tsm"
    )))
    .expect("the default model");
    let axes = LatentAxes::new(&model, AxisBasis::Pca).expect("PCA axes");
    let centre = audible_centre(&model).expect("a centre");
    let map = DescriptorMap::around(&model, &axes, &centre, 5, 1.5).expect("a map");
    let mut values = map.values(Descriptor::Centroid);
    values.sort_by(f32::total_cmp);
    let (lo, hi) = (values[5], values[values.len() - 6]);
    // A slow sine between two brightnesses the model makes near its centre.
    let targets: Vec<f32> = (0..300)
        .map(|h| {
            let phase = h as f32 / 300.0 * std::f32::consts::TAU;
            lo + (hi - lo) * (0.5 - 0.5 * phase.cos())
        })
        .collect();
    let settings = PathSettings {
        descriptor: Descriptor::Centroid,
        dims: 4,
        max_step: 0.25,
    };
    let path = follow(&model, &axes, &centre, &targets, settings).expect("follows");
    assert_eq!(path.latents.len(), targets.len());
    let share = path.share_within(0.1);
    assert!(
        share >= 0.9,
        "{:.1} % of hops within 10 % ({lo:.0}–{hi:.0} Hz)",
        100.0 * share
    );
    assert!(matches!(
        follow(&model, &axes, &[0.0; 3], &targets, settings),
        Err(PathError::Start { .. })
    ));
}
