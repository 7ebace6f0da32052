//! The factorised motif space on toy melodies: short contours placed at random pitches and
//! steps. With the soft factorisation term, transposing a melody and moving it in time become
//! two directions of its code (the notebook's metrics), which the space without the term does
//! not reach; settings that cannot work are refused.

use timbrespace_models::motifs::piano_roll::PianoRoll;
use timbrespace_models::motifs::space::{
    score_motif_space, train_motif_space, MotifSpaceConfig, MotifSpaceError,
};

const ROWS: usize = 16;
const STEPS: usize = 8;

/// One of four contours (three or four notes) at a random pitch and start step.
fn toy_melodies(count: usize, seed: u64) -> Vec<PianoRoll> {
    let contours: [&[(usize, usize)]; 4] = [
        &[(0, 0), (2, 1), (4, 2)],
        &[(4, 0), (2, 2), (0, 3)],
        &[(0, 0), (5, 1), (3, 3), (7, 4)],
        &[(2, 0), (2, 2), (0, 3)],
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..count)
        .map(|_| {
            let contour = contours[rng.usize(0..contours.len())];
            let (pitch, start) = (rng.usize(3..7), rng.usize(1..3));
            let mut roll = PianoRoll::empty(ROWS, STEPS);
            for &(row, step) in contour {
                roll.set(pitch + row, start + step);
            }
            roll
        })
        .collect()
}

#[test]
fn the_factorisation_term_makes_transposition_and_time_shift_two_directions() {
    let (train, test) = (toy_melodies(384, 1), toy_melodies(48, 2));
    let config = MotifSpaceConfig {
        latent: 6,
        hidden: 128,
        max_pitch: 2,
        max_time: 2,
        epochs: 120,
        batch: 32,
        lr: 3e-3,
        ..MotifSpaceConfig::default()
    };
    let score = |weight: f64| {
        let config = MotifSpaceConfig { weight, ..config };
        let (model, history) = train_motif_space(&train, &config).expect("trains");
        assert_eq!(history.len(), config.epochs);
        score_motif_space(&model, &test, &config, 48, 3).expect("scores")
    };
    let (plain, factored) = (score(0.0), score(10.0));
    let (p, f) = (&plain.geometry, &factored.geometry);
    println!(
        "plain: F1 {:.3}, pitch {:.3} / {:.3}, time {:.3} / {:.3}, |cos| {:.3}, σ₁ {:.3}",
        plain.onsets.f1(),
        p.pitch.same_sign,
        p.pitch.opposite_sign,
        p.time.same_sign,
        p.time.opposite_sign,
        p.pitch_vs_time,
        p.grid_first_singular_share
    );
    println!(
        "factored: F1 {:.3}, pitch {:.3} / {:.3}, time {:.3} / {:.3}, |cos| {:.3}, σ₁ {:.3}",
        factored.onsets.f1(),
        f.pitch.same_sign,
        f.pitch.opposite_sign,
        f.time.same_sign,
        f.time.opposite_sign,
        f.pitch_vs_time,
        f.grid_first_singular_share
    );
    // Both halves: same-way moves align, opposite moves oppose, and pitch is apart from time.
    assert!(
        f.pitch.same_sign > 0.8 && f.pitch.opposite_sign < -0.6,
        "{f:?}"
    );
    assert!(
        f.time.same_sign > 0.8 && f.time.opposite_sign < -0.6,
        "{f:?}"
    );
    assert!(
        f.pitch_vs_time < 0.3 && f.pitch_vs_time < p.pitch_vs_time,
        "{f:?} vs {p:?}"
    );
    assert!(
        f.time.opposite_sign < p.time.opposite_sign - 0.3,
        "{f:?} vs {p:?}"
    );
    // And the codes still hold the melodies.
    assert!(factored.onsets.f1() > 0.8, "F1 {}", factored.onsets.f1());
}

#[test]
fn shapes_and_settings_that_cannot_work_are_refused() {
    let config = MotifSpaceConfig {
        epochs: 1,
        ..MotifSpaceConfig::default()
    };
    assert!(matches!(
        train_motif_space(&[], &config),
        Err(MotifSpaceError::NoWindows)
    ));
    let mixed = [PianoRoll::empty(ROWS, STEPS), PianoRoll::empty(ROWS, 4)];
    assert!(matches!(
        train_motif_space(&mixed, &config),
        Err(MotifSpaceError::Setting(_))
    ));
    let too_far = MotifSpaceConfig {
        max_time: STEPS,
        ..config
    };
    assert!(matches!(
        train_motif_space(&toy_melodies(4, 0), &too_far),
        Err(MotifSpaceError::Setting(_))
    ));
}
