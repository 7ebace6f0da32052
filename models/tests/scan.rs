//! Signal–symbol translation on a tiny labelled toy set (additive tones whose f0 gives pitch
//! and octave symbols): the loss terms, joint training, transcription and rendered pitch.

mod common;

use candle_core::{Device, Tensor};
use common::{model_of, run_training, temp_dir, tiny_arch, tiny_config, toy_dataset, RATE};
use timbrespace_engine::model::manifest::SymbolSpec;
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::pitch::{cents, pitch_track, YinSettings};
use timbrespace_engine::player::{NoteEvent, NotePlayer};
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::scan::{gaussian_kl, symbol_kinds};
use timbrespace_models::symbol_eval::evaluate_symbols;
use timbrespace_models::trajectory::template_frames;

#[test]
fn gaussian_kl_is_zero_only_for_equal_posteriors() {
    let t = |v: Vec<f32>| Tensor::from_vec(v, (2, 2), &Device::Cpu).expect("tensor");
    let scalar = |x: Tensor| x.to_scalar::<f32>().expect("scalar");
    let mu = t(vec![0.5, -1.0, 2.0, 0.0]);
    let logvar = t(vec![0.0, -1.0, 0.5, 0.2]);
    assert!(scalar(gaussian_kl(&mu, &logvar, &mu, &logvar).expect("kl")).abs() < 1e-6);
    // KL(N(1, 1) ‖ N(0, 1)) = ½ per dimension; two dimensions, mean over two rows.
    let ones = t(vec![1.0; 4]);
    let zeros = t(vec![0.0; 4]);
    let kl = scalar(gaussian_kl(&ones, &zeros, &zeros, &zeros).expect("kl"));
    assert!((kl - 1.0).abs() < 1e-5, "{kl}");
    // A wider target costs less than a narrower one for the same mean gap.
    let wide = scalar(gaussian_kl(&ones, &zeros, &zeros, &t(vec![1.0; 4])).expect("kl"));
    assert!(wide < kl);
}

#[test]
fn joint_training_transcribes_and_plays_the_right_pitch() {
    let scratch = temp_dir("scan");
    let dir = scratch.path();
    let dataset = toy_dataset(dir, 320);
    let kinds = symbol_kinds(&dataset.label_sets);
    assert_eq!(kinds, ["pitch", "octave"]);
    let split = dataset.split(0.25, 1).expect("split");
    let (attack_frames, release_frames) = template_frames(RATE, 64);
    let mut config = tiny_config(tiny_arch(false, 8), 60);
    config.symbols = Some(SymbolSpec {
        kinds,
        hidden: vec![64],
        alpha: 10.0,
        reading: 1.0,
        trajectory_kinds: Vec::new(),
        attack_frames,
        release_frames,
        levels: true,
    });
    let trained = run_training(&dataset, &split, &config, None, false);
    assert!(trained.symbols.is_some());
    let last = trained.history.last().expect("epochs");
    assert!(last.test_symbols > 0.0 && last.test_symbols.is_finite());
    let model = model_of(&trained, &dataset, &split, &config);
    let report = evaluate_symbols(&model, &dataset, &split, 3)
        .expect("evaluates")
        .expect("has symbols");
    let pitch = &report.accuracy["pitch"];
    let octave = &report.accuracy["octave"];
    println!(
        "pitch {pitch:?}\noctave {octave:?}\nrendered {:?}",
        report.pitch
    );
    // Chance is 1/12 for pitch classes and about 1/4 for octaves.
    assert!(pitch.notes > 0.4, "pitch-class accuracy {}", pitch.notes);
    assert!(octave.notes > 0.7, "octave accuracy {}", octave.notes);

    // Symbol → sound: a few well-resolved notes come out at their pitch.
    let mode = PhaseMode::Rtpghi(Lookahead::One);
    let mut player = NotePlayer::new(&model, mode, 2, 256).expect("player");
    let latency = player.latency_samples();
    let mut in_tune = 0;
    for key in [67u8, 69, 72, 76, 79] {
        player.reset();
        player.handle(NoteEvent::NoteOn {
            channel: 0,
            key,
            velocity: 100,
        });
        let mut audio = vec![0.0; latency + RATE as usize / 2];
        player.render(&mut audio);
        let track = pitch_track(
            &audio[latency + 800..],
            RATE as f32,
            1024,
            128,
            &YinSettings::default(),
        );
        let mut errors: Vec<f32> = track
            .iter()
            .flatten()
            .map(|&f| cents(f, 440.0 * 2f32.powf((f32::from(key) - 69.0) / 12.0)).abs())
            .collect();
        errors.sort_by(f32::total_cmp);
        let median = errors
            .get(errors.len() / 2)
            .copied()
            .unwrap_or(f32::INFINITY);
        println!(
            "key {key}: median error {median:.1} cents over {} voiced frames",
            errors.len()
        );
        in_tune += usize::from(median < 50.0);
    }
    assert!(in_tune >= 4, "{in_tune} of 5 notes in tune");
}
