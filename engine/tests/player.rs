//! The polyphonic note player: notes start and end, the pedal holds them, bends move them,
//! voices are stolen when all are busy, and silence after the last note is exact.

mod common;

use common::tiny_model::{tiny_model, tiny_symbol_model, ATTACK_FRAMES, RELEASE_FRAMES};
use timbrespace_engine::model::manifest::PitchDirection;
use timbrespace_engine::model::{ModelFile, Tensor32};
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::player::{NoteEvent, NotePlayer, PlayerError, DEFAULT_ROOT_KEY};
use timbrespace_engine::symbols::trajectory::{ATTACK_LEVEL_TENSOR, RELEASE_LEVEL_TENSOR};
use timbrespace_engine::voice::PhaseMode;

const MODE: PhaseMode = PhaseMode::Rtpghi(Lookahead::One);

fn player(voices: usize) -> NotePlayer {
    NotePlayer::new(&tiny_symbol_model(7), MODE, voices, 256).expect("player")
}

fn on(key: u8) -> NoteEvent {
    NoteEvent::NoteOn {
        channel: 0,
        key,
        velocity: 90,
    }
}

fn off(key: u8) -> NoteEvent {
    NoteEvent::NoteOff { channel: 0, key }
}

fn rms(p: &mut NotePlayer, samples: usize) -> f32 {
    let mut out = vec![0.0; samples];
    p.render(&mut out);
    assert!(out.iter().all(|v| v.is_finite()));
    (out.iter().map(|v| v * v).sum::<f32>() / samples as f32).sqrt()
}

/// Renders until every voice is free (bounded), returning the samples rendered.
fn ring_out(p: &mut NotePlayer) -> usize {
    let mut n = 0;
    while p.active_voices() > 0 && n < 100_000 {
        rms(p, 64);
        n += 64;
    }
    n
}

#[test]
fn a_note_sounds_then_releases_to_exact_silence() {
    let mut p = player(4);
    assert_eq!(rms(&mut p, 2048), 0.0);
    p.handle(on(60));
    assert_eq!(p.active_voices(), 1);
    assert!(rms(&mut p, 4096) > 0.0);
    p.handle(off(60));
    let tail = ring_out(&mut p);
    assert_eq!(p.active_voices(), 0);
    assert!(tail < 64 * 40, "release took {tail} samples");
    let mut out = vec![1.0; 1024];
    p.render(&mut out);
    assert!(out.iter().all(|&v| v == 0.0));
}

#[test]
fn the_sustain_pedal_holds_released_keys() {
    let mut p = player(4);
    p.handle(NoteEvent::Sustain {
        channel: 0,
        down: true,
    });
    p.handle(on(62));
    rms(&mut p, 1024);
    p.handle(off(62));
    rms(&mut p, 8192);
    assert_eq!(p.active_voices(), 1, "the pedal keeps the note");
    p.handle(NoteEvent::Sustain {
        channel: 0,
        down: false,
    });
    ring_out(&mut p);
    assert_eq!(p.active_voices(), 0);
}

#[test]
fn voices_overlap_and_are_stolen_when_all_are_busy() {
    let mut p = player(3);
    for key in [60, 64, 67] {
        p.handle(on(key));
        rms(&mut p, 300);
    }
    assert_eq!(p.active_voices(), 3);
    p.handle(on(72));
    assert_eq!(p.active_voices(), 3);
    // The stolen voice was the oldest (60): its note-off changes nothing audible any more,
    // while 72's note-off releases it.
    p.handle(NoteEvent::AllNotesOff);
    ring_out(&mut p);
    assert_eq!(p.active_voices(), 0);
}

#[test]
fn bends_and_bad_values_stay_finite() {
    let mut p = player(2);
    p.handle(on(60));
    for semitones in [0.5, 2.0, -12.0, f32::NAN, f32::INFINITY] {
        p.handle(NoteEvent::PitchBend {
            channel: 0,
            semitones,
        });
        rms(&mut p, 512);
    }
    p.set_instrument(f32::NAN);
    rms(&mut p, 512);
    p.reset();
    assert_eq!(p.active_voices(), 0);
}

#[test]
fn audio_only_models_are_refused_clearly() {
    let err = NotePlayer::for_notes(&tiny_model(false, 1), MODE, 4, 256).err();
    assert!(matches!(err, Some(PlayerError::NoSymbols)));
    assert!(err.is_some_and(|e| e.to_string().contains("without symbols")));
}

/// Plays `keys` (note i starts in block i / 2, note 1 is released in block 40; `None` rests)
/// over 60 blocks of 100 samples.
fn staggered(keys: &[Option<u8>]) -> Vec<f32> {
    let mut p = player(8);
    let (mut out, mut block) = (Vec::new(), vec![0.0; 100]);
    for b in 0..60 {
        for (i, k) in keys.iter().enumerate() {
            match k {
                Some(k) if b == i / 2 => p.handle(on(*k)),
                Some(k) if b == 40 && i == 1 => p.handle(off(*k)),
                _ => {}
            }
        }
        p.render(&mut block);
        out.extend_from_slice(&block);
    }
    out
}

#[test]
fn a_chord_decoded_in_one_batch_equals_its_notes_played_alone() {
    // Staggered onsets and a release mid-way: voices step at different instants, some
    // together (batched), some alone; the mix must equal the sum of solo renderings.
    let keys = [Some(60u8), Some(64), Some(67), Some(72)];
    let together = staggered(&keys);
    let mut alone = vec![0.0f32; together.len()];
    for i in 0..keys.len() {
        let mut solo = [None; 4];
        solo[i] = keys[i];
        alone
            .iter_mut()
            .zip(staggered(&solo))
            .for_each(|(a, s)| *a += s);
    }
    let peak = together.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let error = together
        .iter()
        .zip(&alone)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(peak > 1e-3, "the chord sounds");
    assert!(
        error <= 1e-4 * peak,
        "batched mix differs by {error} (peak {peak})"
    );
}

/// `key` played alone for 40 blocks of 100 samples with `setup` applied first.
fn played(model: &ModelFile, key: u8, setup: &dyn Fn(&mut NotePlayer)) -> Vec<f32> {
    let mut p = NotePlayer::new(model, MODE, 2, 256).expect("player");
    setup(&mut p);
    p.handle(on(key));
    let mut out = vec![0.0; 4000];
    for block in out.chunks_mut(100) {
        p.render(block);
    }
    out
}

/// The tiny symbol model whose attack templates fall 10 dB a hop (0 to −40 dB), releases at
/// 0 dB.
fn model_with_levels() -> ModelFile {
    let ModelFile {
        mut manifest,
        mut tensors,
    } = tiny_symbol_model(7);
    let spec = manifest.symbols.as_mut().expect("a symbol model");
    spec.levels = true;
    let groups = spec.trajectory_groups(&manifest.labels);
    let attack = (0..groups).flat_map(|_| (0..ATTACK_FRAMES).map(|t| -10.0 * t as f32));
    tensors.insert(
        ATTACK_LEVEL_TENSOR.into(),
        Tensor32::new(vec![groups, ATTACK_FRAMES], attack.collect()),
    );
    tensors.insert(
        RELEASE_LEVEL_TENSOR.into(),
        Tensor32::new(
            vec![groups, RELEASE_FRAMES],
            vec![0.0; groups * RELEASE_FRAMES],
        ),
    );
    ModelFile::new(manifest, tensors).expect("the levels fit the templates")
}

#[test]
fn held_notes_follow_their_template_levels() {
    let none = |_: &mut NotePlayer| {};
    let tail_rms = |x: &[f32]| (x[3000..].iter().map(|v| v * v).sum::<f32>() / 1000.0).sqrt();
    let plain = played(&tiny_symbol_model(7), 64, &none);
    let levelled = played(&model_with_levels(), 64, &none);
    // Past the attack the note holds the template's last level, −40 dB, on the same spectra.
    let drop_db = 20.0 * (tail_rms(&levelled) / tail_rms(&plain)).log10();
    assert!((drop_db + 40.0).abs() < 3.0, "held level {drop_db:.1} dB");

    let ModelFile {
        manifest,
        mut tensors,
    } = model_with_levels();
    tensors.remove(ATTACK_LEVEL_TENSOR);
    assert!(
        ModelFile::new(manifest, tensors).is_err(),
        "a model promising levels must carry them"
    );
}

/// The tiny audio-only model with a pitch direction along its first latent axis.
fn model_with_direction() -> ModelFile {
    let mut model = tiny_model(false, 3);
    let latent = model.manifest.architecture.latent;
    let mut per_semitone = vec![0.0; latent];
    per_semitone[0] = 0.3;
    model.manifest.pitch_direction = Some(PitchDirection {
        per_semitone,
        explained: 1.0,
    });
    model
}

#[test]
fn free_mode_keys_move_along_the_pitch_direction_from_the_root_key() {
    let model = model_with_direction();
    let none = |_: &mut NotePlayer| {};
    // The root key plays the control point itself: the same as a model without direction.
    let mut plain = model.clone();
    plain.manifest.pitch_direction = None;
    let root = played(&model, DEFAULT_ROOT_KEY, &none);
    assert_eq!(root, played(&plain, DEFAULT_ROOT_KEY, &none));
    // Other keys move; without a direction every key plays the same point.
    let up = played(&model, DEFAULT_ROOT_KEY + 2, &none);
    assert_ne!(up, root);
    assert_eq!(played(&plain, DEFAULT_ROOT_KEY + 2, &none), root);
    // Transpose, a bend and a lower root key are the same move as a higher key.
    let transposed = played(&model, DEFAULT_ROOT_KEY, &|p| p.set_transpose(2.0));
    assert_eq!(transposed, up);
    let rooted = played(&model, DEFAULT_ROOT_KEY, &|p| {
        p.set_root_key(f32::from(DEFAULT_ROOT_KEY) - 2.0)
    });
    assert_eq!(rooted, up);
    let bent = played(&model, DEFAULT_ROOT_KEY, &|p| {
        p.handle(NoteEvent::PitchBend {
            channel: 0,
            semitones: 2.0,
        })
    });
    assert_eq!(bent, up);
    // Absurd values fall back to no transposition and the default root.
    let absurd = played(&model, DEFAULT_ROOT_KEY, &|p| {
        p.set_transpose(f32::NAN);
        p.set_root_key(f32::INFINITY);
    });
    assert_eq!(absurd, root);
}

#[test]
fn notes_mode_transpose_is_the_same_as_playing_another_key() {
    let model = tiny_symbol_model(7);
    let transposed = played(&model, 60, &|p| p.set_transpose(3.0));
    assert_eq!(transposed, played(&model, 63, &|_| {}));
    assert_ne!(transposed, played(&model, 60, &|_| {}));
}
