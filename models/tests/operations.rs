//! Operational latent spaces: the stargate ring task learned with a FiLMR operator, and its
//! refusal of settings that cannot make a ring.

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
