//! Real-time descriptor targets on the default model: held notes (free and notes mode) settle
//! on a target brightness and follow it when it moves, the audio they make has that
//! brightness, clearing the target brings the voices back, and absurd values stay finite.

use timbrespace_engine::axes::audible_centre;
use timbrespace_engine::descriptor_path::within;
use timbrespace_engine::descriptors::{describe, Descriptor, DescriptorSettings};
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::player::{NoteEvent, NotePlayer, PlayMode};
use timbrespace_engine::steering::{Steering, Target};
use timbrespace_engine::stft::magnitude_stft;
use timbrespace_engine::voice::PhaseMode;

fn model() -> ModelFile {
    ModelFile::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/default.tsm"
    )))
    .expect("the default model")
}

fn steered_player(model: &ModelFile, mode: PlayMode) -> NotePlayer {
    let mut player =
        NotePlayer::new(model, PhaseMode::Rtpghi(Lookahead::One), 4, 256).expect("player");
    let centre = audible_centre(model).expect("centre");
    player.set_steering(Steering::new(model, &centre).expect("steering"));
    player.set_mode(mode);
    if mode == PlayMode::Free {
        player.set_control(&centre);
    }
    player
}

/// The default model's index of `name` among its instruments.
fn instrument(model: &ModelFile, name: &str) -> f32 {
    let labels = model
        .manifest
        .labels
        .iter()
        .find(|l| l.name == "instrument");
    let classes = &labels.expect("instrument labels").classes;
    classes
        .iter()
        .position(|c| c == name)
        .expect("a trained instrument") as f32
}

/// Renders `hops` hops, returning the first voice's measured descriptor after each.
fn follow(player: &mut NotePlayer, hop: usize, hops: usize, out: &mut Vec<f32>) -> Vec<f32> {
    let mut measured = Vec::with_capacity(hops);
    let mut block = vec![0.0; hop];
    let mut values = [0.0; 4];
    for _ in 0..hops {
        player.render(&mut block);
        out.extend_from_slice(&block);
        player.measured(&mut values);
        measured.push(values[0]);
    }
    measured
}

fn share_within(values: &[f32], target: f32) -> f64 {
    values.iter().filter(|&&v| within(v, target, 0.1)).count() as f64 / values.len() as f64
}

#[test]
fn held_notes_settle_on_a_target_brightness_and_follow_it() {
    let model = model();
    let hop = model.manifest.signal.hop;
    for mode in [PlayMode::Free, PlayMode::Notes] {
        let mut player = steered_player(&model, mode);
        // Notes mode plays the clarinet: the default model's bassoon and flute E4 top out
        // near 1.9 kHz within the ±3 σ the steering may move them.
        player.set_instrument(instrument(&model, "Clarinet"));
        let steering = player.steering().expect("installed");
        let (bright, dull) = (
            steering.target(Descriptor::Centroid, 0.8),
            steering.target(Descriptor::Centroid, 0.3),
        );
        assert!(bright.value > dull.value);
        player.set_target(Some(bright), 0.2);
        player.handle(NoteEvent::NoteOn {
            channel: 0,
            key: 64,
            velocity: 100,
        });
        let mut audio = Vec::new();
        // 40 hops (≈ 0.5 s) to settle, then 80 hops held.
        follow(&mut player, hop, 40, &mut audio);
        let held = follow(&mut player, hop, 80, &mut audio);
        assert!(
            share_within(&held, bright.value) >= 0.9,
            "{mode:?}: {:.0} % of hops within 10 % of {:.0} Hz: {held:?}",
            100.0 * share_within(&held, bright.value),
            bright.value
        );
        // What comes out has that brightness too.
        let stft = model.manifest.signal.stft().expect("stft");
        let settings = DescriptorSettings::new(&stft, model.manifest.signal.sample_rate as f32);
        let grid = magnitude_stft(&stft, &audio[audio.len() - 40 * hop..]);
        let heard = describe(grid.frame(grid.frames() / 2), &settings).centroid;
        assert!(
            within(heard, bright.value, 0.15),
            "{mode:?}: the audio's centroid {heard:.0} Hz vs target {:.0} Hz",
            bright.value
        );
        // The target moves: the note follows within half a second.
        player.set_target(Some(dull), 0.2);
        follow(&mut player, hop, 40, &mut audio);
        let after = follow(&mut player, hop, 40, &mut audio);
        assert!(
            share_within(&after, dull.value) >= 0.9,
            "{mode:?}: after the move {:.0} % within 10 % of {:.0} Hz: {after:?}",
            100.0 * share_within(&after, dull.value),
            dull.value
        );
    }
}

#[test]
fn extreme_targets_and_steps_stay_finite() {
    let model = model();
    let hop = model.manifest.signal.hop;
    let mut player = steered_player(&model, PlayMode::Free);
    player.handle(NoteEvent::NoteOn {
        channel: 0,
        key: 60,
        velocity: 127,
    });
    let mut audio = Vec::new();
    for descriptor in Descriptor::ALL {
        for (value, step) in [
            (f32::INFINITY, 0.2),
            (-1e12, 1e9),
            (f32::NAN, f32::NAN),
            (1e12, -1.0),
        ] {
            player.set_target(Some(Target { descriptor, value }), step);
            follow(&mut player, hop, 10, &mut audio);
        }
    }
    let target = player
        .steering()
        .expect("installed")
        .target(Descriptor::Loudness, f32::NAN);
    assert!(
        target.value.is_finite(),
        "NaN amounts fall back to the middle"
    );
    player.set_target(None, 0.2);
    follow(&mut player, hop, 40, &mut audio);
    assert!(audio.iter().all(|v| v.is_finite()));
}
