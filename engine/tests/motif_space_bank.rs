//! A hand-made motif-space bank: its decoder ignores hidden units except one that passes the
//! code's first number through, so the decoded motif, the learned moves and the split of a
//! shift between move and rotation are known exactly; damaged banks are refused, never a panic.

use timbrespace_engine::model::{Tensor32, TensorMap};
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_engine::motif::pattern::{MotifSettings, Pattern};
use timbrespace_engine::motif::space::{
    space_bank_bytes, SpaceHeader, CODES, PITCH_MOVES, SPACE_FORMAT, TIME_MOVES,
};

const ROWS: usize = 4;
const STEPS: usize = 8;
const HIDDEN: usize = 3;
const LATENT: usize = 2;

fn header() -> SpaceHeader {
    SpaceHeader {
        format: SPACE_FORMAT,
        lowest_key: 60,
        rows: ROWS,
        steps: STEPS,
        latent: LATENT,
        hidden: HIDDEN,
        max_pitch: 1,
        max_time: 2,
        source: "test".into(),
    }
}

/// The decoder: hidden unit 0 = tanh(tanh(z₀)); the logit of row 1 at step 0 = 40 · that, of
/// every step's rest 0, of every other row −20 (never plays). So the motif is one onset at
/// (row 1, step 0) exactly when z₀ > 0.
fn decoder() -> TensorMap {
    let mut tensors = TensorMap::new();
    let mut add = |name: &str, shape: Vec<usize>, data: Vec<f32>| {
        tensors.insert(name.to_string(), Tensor32::new(shape, data));
    };
    let mut w0 = vec![0.0; HIDDEN * LATENT];
    w0[0] = 1.0;
    add("motif.decoder.0.weight", vec![HIDDEN, LATENT], w0);
    add("motif.decoder.0.bias", vec![HIDDEN], vec![0.0; HIDDEN]);
    let mut w1 = vec![0.0; HIDDEN * HIDDEN];
    w1[0] = 1.0;
    add("motif.decoder.1.weight", vec![HIDDEN, HIDDEN], w1);
    add("motif.decoder.1.bias", vec![HIDDEN], vec![0.0; HIDDEN]);
    // Per step, each row's logit, then the rest's.
    let cells = (ROWS + 1) * STEPS;
    let mut w2 = vec![0.0; cells * HIDDEN];
    w2[HIDDEN] = 40.0;
    add("motif.decoder.2.weight", vec![cells, HIDDEN], w2);
    let mut b2 = vec![-20.0; cells];
    b2[1] = 0.0;
    for step in 0..STEPS {
        b2[step * (ROWS + 1) + ROWS] = 0.0;
    }
    add("motif.decoder.2.bias", vec![cells], b2);
    tensors
}

/// A bank of two motifs (z₀ = −1 and +1); transposing up a semitone or moving a step later
/// adds 2 to z₀, the other way subtracts 2.
fn bytes(header: &SpaceHeader, tensors: TensorMap) -> Vec<u8> {
    let moves = |max: usize| {
        let data = (0..2 * max + 1)
            .flat_map(|i| [2.0 * (i as f32 - max as f32).clamp(-1.0, 1.0), 0.0])
            .collect();
        Tensor32::new(vec![2 * max + 1, LATENT], data)
    };
    space_bank_bytes(
        header,
        tensors,
        Tensor32::new(vec![2, LATENT], vec![-1.0, 0.0, 1.0, 0.0]),
        moves(header.max_pitch),
        moves(header.max_time),
    )
    .expect("bytes")
}

fn onsets(pattern: &Pattern) -> Vec<(usize, usize)> {
    (0..pattern.rows())
        .flat_map(|r| (0..pattern.steps()).map(move |s| (r, s)))
        .filter(|&(r, s)| pattern.plays(r, s))
        .collect()
}

#[test]
fn a_space_bank_decodes_codes_moves_and_rotations() {
    let bank = MotifBank::from_bytes(&bytes(&header(), decoder())).expect("bank");
    assert_eq!((bank.rows(), bank.steps(), bank.len()), (ROWS, STEPS, 2));
    assert_eq!(bank.learned_shifts(), Some((1, 2)));
    let mut pattern = Pattern::new(&bank);
    let mut at = |position: f32, pitch_shift: i32, time_shift: i32| {
        let settings = MotifSettings {
            position,
            pitch_shift,
            time_shift,
            ..MotifSettings::default()
        };
        pattern.update(&bank, &settings);
        onsets(&pattern)
    };
    // Motif 0 (z₀ = −1) is silent, motif 1 plays its one note.
    assert_eq!(at(0.0, 0, 0), vec![]);
    assert_eq!(at(1.0, 0, 0), vec![(1, 0)]);
    // A semitone up is a learned move (+2): motif 0 plays; down silences motif 1.
    assert_eq!(at(0.0, 1, 0), vec![(1, 0)]);
    assert_eq!(at(1.0, -1, 0), vec![]);
    // Five steps later: 2 learned (the move) and 3 by turning the loop.
    assert_eq!(at(0.0, 0, 5), vec![(1, 3)]);
    assert_eq!(at(1.0, 0, -5), vec![]);
    // The player transposes the part of a shift the space did not learn.
    assert_eq!((bank.exact_pitch(7), bank.exact_pitch(-1)), (6, 0));
}

#[test]
fn damaged_space_banks_are_refused() {
    let good = bytes(&header(), decoder());
    let mut cases: Vec<Vec<u8>> = vec![
        good[..good.len() - 10].to_vec(),
        vec![0; 16],
        b"not a bank".to_vec(),
    ];
    // A newer format, an impossible size, a decoder of the wrong shape, a missing layer.
    cases.push(bytes(
        &SpaceHeader {
            format: SPACE_FORMAT + 1,
            ..header()
        },
        decoder(),
    ));
    cases.push(bytes(
        &SpaceHeader {
            rows: 200,
            ..header()
        },
        decoder(),
    ));
    cases.push(bytes(
        &SpaceHeader {
            hidden: HIDDEN + 1,
            ..header()
        },
        decoder(),
    ));
    let mut missing = decoder();
    missing.remove("motif.decoder.1.bias");
    cases.push(bytes(&header(), missing));
    for (i, case) in cases.iter().enumerate() {
        assert!(MotifBank::from_bytes(case).is_err(), "case {i} loaded");
    }
    // Non-finite codes or moves, and moves of the wrong length.
    for name in [CODES, PITCH_MOVES, TIME_MOVES] {
        let mut tensors = timbrespace_engine::model::container::decode(&good)
            .expect("decodes")
            .0;
        let t = tensors.get_mut(name).expect("present");
        t.data[0] = f32::NAN;
        let bank = space_bank_bytes(
            &header(),
            tensors.clone(),
            tensors[CODES].clone(),
            tensors[PITCH_MOVES].clone(),
            tensors[TIME_MOVES].clone(),
        )
        .expect("bytes");
        assert!(
            MotifBank::from_bytes(&bank).is_err(),
            "NaN in {name} loaded"
        );
    }
    let short = space_bank_bytes(
        &header(),
        decoder(),
        Tensor32::new(vec![2, LATENT], vec![-1.0, 0.0, 1.0, 0.0]),
        Tensor32::new(vec![1, LATENT], vec![0.0, 0.0]),
        Tensor32::new(vec![5, LATENT], vec![0.0; 10]),
    )
    .expect("bytes");
    assert!(MotifBank::from_bytes(&short).is_err());
}
