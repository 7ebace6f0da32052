//! The soft pitch factorisation on a tiny toy set: the trained model stores a pitch direction,
//! and free-mode MIDI keys played through the engine's note player move along it so that the
//! rendered pitch rises with the key.

mod common;

use common::{model_of, run_training, temp_dir, tiny_arch, tiny_config, toy_dataset, RATE};
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::pitch::{cents, pitch_track, YinSettings};
use timbrespace_engine::player::{NoteEvent, NotePlayer, PlayMode, DEFAULT_ROOT_KEY};
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::export::file_centre;
use timbrespace_models::factorisation::FactoriseConfig;
use timbrespace_models::sps::{Markings, ScaleSet, SpsError};
use timbrespace_models::transposition::transposition_score;
use timbrespace_models::vae::Vae;

/// Lowest root pitch measured: below it the toy's harmonics are too close for its bins.
const LOWEST_RESOLVED_HZ: f32 = 150.0;
/// Sounds measured.
const SOUNDS: usize = 8;

/// Median YIN pitch of `key` played in free mode at `centre` (None when unvoiced).
fn played_pitch(player: &mut NotePlayer, centre: &[f32], key: u8) -> Option<f32> {
    player.reset();
    player.set_control(centre);
    player.handle(NoteEvent::NoteOn {
        channel: 0,
        key,
        velocity: 100,
    });
    let latency = player.latency_samples();
    let mut audio = vec![0.0; latency + RATE as usize];
    player.render(&mut audio);
    let held = &audio[latency + RATE as usize / 4..];
    let mut f: Vec<f32> = pitch_track(held, RATE as f32, 1024, 256, &YinSettings::default())
        .into_iter()
        .flatten()
        .collect();
    f.sort_by(f32::total_cmp);
    f.get(f.len() / 2).copied()
}

#[test]
fn free_mode_keys_transpose_along_the_learned_direction() {
    let scratch = temp_dir("pitch-direction");
    let dir = scratch.path();
    let dataset = toy_dataset(dir, 320);
    let split = dataset.split(0.25, 1).expect("split");
    let mut config = tiny_config(tiny_arch(false, 8), 100);
    config.factorise = Some(FactoriseConfig {
        weight: 30.0,
        max_shift: 8,
        bins_per_octave: 24,
        decode_weight: 0.5,
    });
    let trained = run_training(&dataset, &split, &config, None, false);
    let model = model_of(&trained, &dataset, &split, &config);
    let direction = model
        .manifest
        .pitch_direction
        .clone()
        .expect("a factorised model stores its pitch direction");
    println!("explained by the direction: {:.3}", direction.explained);
    let vae = Vae::from_tensors(&model.manifest.architecture, &model.tensors).expect("vae");
    let mut player =
        NotePlayer::new(&model, PhaseMode::Rtpghi(Lookahead::One), 2, 256).expect("player");
    assert!(player.has_pitch_direction());
    player.set_mode(PlayMode::Free);
    let keys: Vec<u8> = (-4i8..=4)
        .map(|n| (DEFAULT_ROOT_KEY as i8 + n) as u8)
        .collect();
    let (mut measured, mut all_steps) = (0, Vec::new());
    for &file in split.test_files.iter().step_by(3) {
        let centre = file_centre(&vae, &dataset, file).expect("encodes");
        // Only sounds whose harmonics the toy's 31 Hz bins resolve have a pitch to follow.
        let root = played_pitch(&mut player, &centre, DEFAULT_ROOT_KEY);
        if !root.is_some_and(|f| f >= LOWEST_RESOLVED_HZ) {
            continue;
        }
        let pitches: Vec<f32> = keys
            .iter()
            .map(|&k| played_pitch(&mut player, &centre, k).unwrap_or(f32::NAN))
            .collect();
        let steps: Vec<f32> = pitches.windows(2).map(|w| cents(w[1], w[0])).collect();
        println!("{pitches:.0?} steps {steps:.0?}");
        measured += 1;
        all_steps.extend(steps);
        if measured == SOUNDS {
            break;
        }
    }
    assert!(measured >= 4, "only {measured} sounds had a resolved pitch");
    // Every key up raises the pitch (YIN's occasional octave slips and unvoiced frames
    // aside), and a key is a semitone: the median step is 100 cents give or take a quarter
    // tone.
    let rising = all_steps.iter().filter(|&&c| c > 0.0).count();
    assert!(
        rising * 5 >= all_steps.len() * 4,
        "only {rising} of {} key steps raise the pitch",
        all_steps.len()
    );
    all_steps.sort_by(f32::total_cmp);
    let median = all_steps[all_steps.len() / 2];
    assert!((median - 100.0).abs() < 50.0, "median step {median} cents");
    let score = transposition_score(&model, &dataset, &split, 8)
        .expect("measures")
        .expect("has a direction");
    println!("{score:?}");
    assert!(score.sounds > 0);
}

#[test]
fn sps_scales_need_instrument_labels() {
    let scratch = temp_dir("sps-labels");
    let dir = scratch.path();
    let dataset = toy_dataset(dir, 24);
    let frame = |f: usize| Some(dataset.files[f].frames.start);
    let err = ScaleSet::build(&dataset, &frame, Markings::Same).err();
    assert!(matches!(err, Some(SpsError::Unlabelled)), "{err:?}");
    assert!(err.is_some_and(|e| e.to_string().contains("instrument")));
}
