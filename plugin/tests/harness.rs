//! The instrument's processing driven without a host, as a host would drive it: notes come
//! out in tune, chords keep every pitch, timing is sample-accurate, every parameter extreme
//! stays finite, model swaps are clean and state round-trips; Motif mode follows the host's beat
//! grid, transposes with the held key, leaves no note hanging and loads banks like models.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    cents_from_key, median_f0, note_off, note_on, render, render_at, rms, session, Grid, RATE,
};
use nice_plug::prelude::Plugin;
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::motif::bank::{CodeEntry, MotifBankFile, BANK_FORMAT};
use timbrespace_engine::motif::pattern::MotifSettings;
use timbrespace_engine::pitch::cents;
use timbrespace_engine::player::{NoteEvent, PlayMode};
use timbrespace_plugin::instrument::HostConfig;
use timbrespace_plugin::loader::default_model;
use timbrespace_plugin::params::{Controls, PhaseParam};
use timbrespace_plugin::session::Session;
use timbrespace_plugin::Timbrespace;
use timbrespace_tests::spectral_peak;

/// Seconds → samples at the test rate.
fn at(seconds: f32) -> usize {
    (seconds * RATE) as usize
}

/// Controls playing `name` (the default model's instruments are spread over 0–1).
fn playing(session: &Session, name: &str) -> Controls {
    let names = session.shared().instruments.read().clone();
    let index = names.iter().position(|n| n == name).expect("instrument");
    Controls {
        instrument: index as f32 / (names.len() - 1) as f32,
        ..Controls::default()
    }
}

#[test]
fn notes_play_in_tune_at_small_and_large_blocks() {
    for block in [64, 512] {
        let (mut s, _) = session(block);
        let controls = playing(&s, "Clarinet");
        for key in [57u8, 64, 69] {
            let out = render(
                &mut s,
                &controls,
                &[(at(0.05), note_on(key, 90)), (at(1.3), note_off(key))],
                at(1.8),
                block,
            );
            let f0 = median_f0(&out[at(0.4)..at(1.2)]).expect("a pitched note");
            let error = cents_from_key(f0, f32::from(key));
            assert!(
                error.abs() <= 30.0,
                "key {key}, block {block}: {error:.1} cents"
            );
            assert!(
                rms(&out[at(1.75)..]) < 0.05 * rms(&out[at(0.4)..at(1.2)]),
                "the note ends after its release"
            );
        }
    }
}

#[test]
fn a_chord_sounds_all_three_pitches() {
    let (mut s, _) = session(256);
    let controls = playing(&s, "Clarinet");
    let chord = [60u8, 64, 67];
    let events: Vec<(usize, NoteEvent)> =
        chord.iter().map(|&k| (at(0.05), note_on(k, 90))).collect();
    let out = render(&mut s, &controls, &events, at(1.6), 256);
    let held = &out[at(0.5)..at(1.6)];
    for key in chord {
        let f = 440.0 * 2f32.powf((f32::from(key) - 69.0) / 12.0);
        let (peak, prominence) = spectral_peak(held, RATE, f);
        let error = cents_from_key(peak, f32::from(key));
        assert!(
            error.abs() <= 30.0 && prominence > 20.0,
            "key {key}: peak at {peak:.1} Hz ({error:.1} cents), {prominence:.1} dB above the floor"
        );
    }
}

#[test]
fn note_timing_is_sample_accurate() {
    let onset = |offset: usize| {
        let (mut s, _) = session(512);
        let controls = playing(&s, "Clarinet");
        let out = render(
            &mut s,
            &controls,
            &[(offset, note_on(69, 100))],
            at(0.5),
            512,
        );
        let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        out.iter()
            .position(|x| x.abs() > 0.05 * peak)
            .expect("sound")
    };
    let (a, b) = (onset(1000), onset(1237));
    let shift = b as i64 - a as i64;
    assert!(
        (shift - 237).abs() <= 2,
        "onsets moved by {shift} samples, not 237"
    );
}

#[test]
fn pitch_bend_moves_the_pitch_by_its_range() {
    let (mut s, _) = session(256);
    let controls = Controls {
        bend_range: 2.0,
        ..playing(&s, "Clarinet")
    };
    let bend = NoteEvent::PitchBend {
        channel: 0,
        semitones: 2.0,
    };
    let out = render(
        &mut s,
        &controls,
        &[(at(0.05), note_on(64, 90)), (at(0.6), bend)],
        at(1.6),
        256,
    );
    let before = median_f0(&out[at(0.3)..at(0.6)]).expect("pitched");
    let after = median_f0(&out[at(0.9)..at(1.5)]).expect("pitched");
    assert!(cents_from_key(before, 64.0).abs() <= 30.0);
    assert!(
        cents_from_key(after, 66.0).abs() <= 30.0,
        "bent to {after:.1} Hz"
    );
}

#[test]
fn free_mode_plays_the_axes_and_midi_only_gates() {
    let (mut s, _) = session(256);
    let free = Controls {
        mode: PlayMode::Free,
        ..Controls::default()
    };
    let silent = render(&mut s, &free, &[], at(0.3), 256);
    assert!(rms(&silent) < 1e-6, "no note, no sound");
    let play = |s: &mut Session, controls: &Controls, velocity: u8| {
        s.synth().reset();
        let out = render(s, controls, &[(0, note_on(60, velocity))], at(0.8), 256);
        out[at(0.4)..].to_vec()
    };
    let centre = play(&mut s, &free, 100);
    let quiet = play(&mut s, &free, 30);
    assert!(rms(&centre) > 1e-3, "a note gates the sound on");
    assert!(
        rms(&quiet) < 0.6 * rms(&centre),
        "velocity scales the level"
    );
    let mut moved = free;
    moved.axes[0] = 2.5;
    let elsewhere = play(&mut s, &moved, 100);
    let difference: Vec<f32> = centre.iter().zip(&elsewhere).map(|(a, b)| a - b).collect();
    assert!(
        rms(&difference) > 0.2 * rms(&centre),
        "axis 1 changes the sound"
    );
}

#[test]
fn voices_follow_a_descriptor_target() {
    use std::sync::atomic::Ordering;
    use timbrespace_engine::descriptor_path::within;
    use timbrespace_engine::descriptors::{describe, Descriptor, DescriptorSettings};
    use timbrespace_engine::stft::{magnitude_stft, StftConfig};
    use timbrespace_engine::window::WindowKind;

    let block = 512;
    let (mut s, _) = session(block);
    s.shared().editor_open.store(true, Ordering::Relaxed);
    for (mode, amount) in [(PlayMode::Free, 0.8), (PlayMode::Notes, 0.3)] {
        let controls = Controls {
            mode,
            target: Some(Descriptor::Centroid),
            target_amount: amount,
            ..playing(&s, "Clarinet")
        };
        s.synth().reset();
        // Half a second to settle, then one value per block for 1.5 s.
        let settle = render(&mut s, &controls, &[(0, note_on(64, 100))], at(0.5), block);
        let target = s.shared().target_value.get();
        assert!(
            target.is_finite() && target > 0.0,
            "{mode:?}: target {target}"
        );
        let mut on_target = 0;
        let mut audio = settle;
        let blocks = at(1.5) / block;
        for _ in 0..blocks {
            audio.extend(render(&mut s, &controls, &[], block, block));
            if within(s.shared().target_reached.get(), target, 0.1) {
                on_target += 1;
            }
        }
        println!("{mode:?}: {on_target} of {blocks} blocks within 10 % of {target:.0} Hz");
        assert!(
            on_target as f64 >= 0.9 * blocks as f64,
            "{mode:?}: {on_target} of {blocks} blocks within 10 % of {target:.0} Hz"
        );
        let stft = StftConfig::new(2048, 512, WindowKind::Hann).expect("stft");
        let settings = DescriptorSettings::new(&stft, RATE);
        let grid = magnitude_stft(&stft, &audio[at(1.0)..at(1.8)]);
        let heard = describe(grid.frame(grid.frames() / 2), &settings).get(Descriptor::Centroid);
        println!("{mode:?}: the output's centroid is {heard:.0} Hz");
        assert!(
            within(heard, target, 0.15),
            "{mode:?}: the output's centroid is {heard:.0} Hz for a target of {target:.0} Hz"
        );
    }
}

#[test]
fn every_parameter_extreme_gives_finite_sound() {
    let plugin = Timbrespace::default();
    let params = plugin.params();
    let (mut s, _) = session(128);
    for (id, ptr, _) in params.param_map() {
        for value in [0.0f32, 1.0] {
            // SAFETY: the pointer comes from the live parameter object it points into.
            unsafe { ptr._internal_set_normalized_value(value) };
            let controls = plugin_controls(&plugin);
            s.synth().reset();
            let out = render(
                &mut s,
                &controls,
                &[
                    (0, note_on(60, 127)),
                    (300, note_on(72, 1)),
                    (at(0.2), note_off(60)),
                ],
                at(0.3),
                128,
            );
            assert!(
                out.iter().all(|x| x.is_finite() && x.abs() <= 4.0),
                "{id} at {value}"
            );
            // SAFETY: as above.
            unsafe { ptr._internal_set_normalized_value(ptr.default_normalized_value()) };
        }
    }
}

/// The controls of a plugin instance.
fn plugin_controls(plugin: &Timbrespace) -> Controls {
    plugin.parameters().controls()
}

/// A copy of the default model without its symbols: an audio-only model.
fn audio_only_model() -> ModelFile {
    let model = default_model();
    let mut manifest = model.manifest.clone();
    manifest.symbols = None;
    let tensors = model
        .tensors
        .iter()
        .filter(|(name, _)| !name.starts_with("symbols."))
        .map(|(n, t)| (n.clone(), t.clone()))
        .collect();
    ModelFile::new(manifest, tensors).expect("an audio-only model validates")
}

/// Processes blocks until `done` holds (the loader works in the background), at most 10 s.
fn play_until(s: &mut Session, controls: &Controls, done: impl Fn(&Session) -> bool) -> Vec<f32> {
    let start = Instant::now();
    let mut out = Vec::new();
    while !done(s) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the loader answered"
        );
        out.extend(render(s, controls, &[], 256, 256));
        std::thread::sleep(Duration::from_millis(2));
    }
    out.extend(render(s, controls, &[], at(0.3), 256));
    out
}

#[test]
fn models_swap_during_playback_and_bad_files_keep_the_current_one() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let audio_only = dir.join("audio-only.tsm");
    audio_only_model().save(&audio_only).expect("writes");
    let junk = dir.join("junk.tsm");
    std::fs::write(&junk, b"not a model at all").expect("writes");

    let (mut s, path) = session(256);
    let controls = playing(&s, "Clarinet");
    let sounding = render(&mut s, &controls, &[(0, note_on(62, 100))], at(0.3), 256);
    assert!(rms(&sounding[at(0.15)..]) > 1e-3);

    // A damaged file: an error for the editor, the model keeps playing.
    assert!(s.load(junk.clone()));
    let out = play_until(&mut s, &controls, |s| {
        s.shared().status.lock().message.is_some()
    });
    let message = s.shared().status.lock().message.clone().expect("a message");
    assert!(message.contains("junk.tsm"), "{message}");
    assert!(path.read().is_empty(), "the saved path is unchanged");
    assert!(
        rms(&out[out.len() - at(0.2)..]) > 1e-3,
        "the note still sounds"
    );

    // A good file mid-note: swapped in without NaN; audio-only models play in free mode.
    assert!(s.load(audio_only.clone()));
    let shown = audio_only.display().to_string();
    let out = play_until(&mut s, &controls, |s| {
        s.instrument().is_some_and(|i| i.path() == shown)
    });
    assert!(out.iter().all(|x| x.is_finite()));
    assert_eq!(
        *path.read(),
        shown,
        "the loaded path is saved with the project"
    );
    assert!(s.shared().status.lock().message.is_none());
    let after = render(&mut s, &controls, &[(0, note_on(62, 100))], at(0.5), 256);
    assert!(after.iter().all(|x| x.is_finite()) && rms(&after[at(0.3)..]) > 1e-4);
}

#[test]
fn state_round_trips_and_a_missing_model_falls_back_to_the_default() {
    let plugin = Timbrespace::default();
    let params = plugin.params();
    let map = params.param_map();
    for (i, (_, ptr, _)) in map.iter().enumerate() {
        // SAFETY: pointers into the live parameter object.
        unsafe { ptr._internal_set_normalized_value((i as f32 * 0.37).fract()) };
    }
    *plugin.parameters().model_path.write() = "/nowhere/gone.tsm".into();
    plugin.parameters().editor.write().colour_by = "instrument".into();
    let values: Vec<(String, f32)> = map
        .iter()
        .map(|(id, ptr, _)| (id.clone(), unsafe { ptr.unmodulated_normalized_value() }))
        .collect();
    let fields = params.serialize_fields();
    let saved = serde_json::to_string(&(values.clone(), fields)).expect("serialises");

    let restored = Timbrespace::default();
    let (values, fields): (
        Vec<(String, f32)>,
        std::collections::BTreeMap<String, String>,
    ) = serde_json::from_str(&saved).expect("parses");
    let target = restored.params();
    let target_map = target.param_map();
    for (id, value) in &values {
        let (_, ptr, _) = target_map
            .iter()
            .find(|(i, _, _)| i == id)
            .expect("same ids");
        // SAFETY: as above.
        unsafe { ptr._internal_set_normalized_value(*value) };
    }
    target.deserialize_fields(&fields);
    for ((id, a), (_, ptr, _)) in values.iter().zip(&target_map) {
        let b = unsafe { ptr.unmodulated_normalized_value() };
        assert!((a - b).abs() < 1e-6, "{id}: {a} → {b}");
    }
    // Skewed ranges map a normalised value back to a plain one within float rounding.
    let rounded = |p: &Timbrespace| format!("{:.5?}", plugin_controls(p));
    assert_eq!(rounded(&plugin), rounded(&restored));
    assert_eq!(restored.parameters().editor.read().colour_by, "instrument");

    // Activation with a saved model that is gone: the default plays, and the editor says so.
    let path = restored.parameters().model_path.clone();
    assert_eq!(*path.read(), "/nowhere/gone.tsm");
    let mut s = Session::new(path.clone());
    assert!(s.activate(
        HostConfig {
            rate: RATE,
            max_block: 256
        },
        PhaseParam::Rtpghi,
    ));
    let message = s.shared().status.lock().message.clone().expect("a message");
    assert!(
        message.contains("gone.tsm") && message.contains("default"),
        "{message}"
    );
    assert_eq!(
        *path.read(),
        "/nowhere/gone.tsm",
        "the user's path is not forgotten"
    );
    let controls = playing(&s, "Clarinet");
    let out = render(&mut s, &controls, &[(0, note_on(69, 100))], at(0.6), 256);
    assert!(rms(&out[at(0.3)..]) > 1e-3, "the default model plays");
}

/// Controls for Motif mode with the embedded bank, playing the clarinet.
fn motif_controls(s: &Session) -> Controls {
    Controls {
        motif: Some(MotifSettings {
            position: 0.5,
            ..MotifSettings::default()
        }),
        ..playing(s, "Clarinet")
    }
}

/// The first sample louder than 5 % of the peak.
fn first_sound(out: &[f32]) -> usize {
    let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    out.iter()
        .position(|x| x.abs() > 0.05 * peak)
        .expect("sound")
}

#[test]
fn motif_mode_follows_the_hosts_beat_grid_to_the_sample() {
    // The same key pressed at sample 0, the host's grid 1237 samples later: the motif waits
    // for the grid and sounds 1237 samples later (a motif on its own clock would not move).
    let tempo = 120.0;
    let onset = |delay: usize| {
        let (mut s, _) = session(512);
        let controls = motif_controls(&s);
        let events = [(0, note_on(60, 100)), (at(1.9), note_off(60))];
        let out = render_at(&mut s, &controls, &events, at(2.0), 512, None);
        assert!(
            rms(&out) > 1e-3,
            "the motif plays with the transport stopped"
        );
        // The transport plays with beat 0 at sample `delay` (negative positions before it).
        let (mut s, _) = session(512);
        let grid = Grid {
            tempo,
            beat_zero: delay,
        };
        first_sound(&render_at(
            &mut s,
            &controls,
            &events,
            at(2.0),
            512,
            Some(grid),
        ))
    };
    let (a, b) = (onset(0), onset(1237));
    let shift = b as i64 - a as i64;
    assert!(
        (shift - 1237).abs() <= 2,
        "the motif moved by {shift} samples, not 1237"
    );
}

#[test]
fn motif_mode_transposes_with_the_held_key_and_leaves_nothing_hanging() {
    let f0 = |key: u8| {
        let (mut s, _) = session(256);
        let controls = motif_controls(&s);
        let out = render_at(
            &mut s,
            &controls,
            &[(0, note_on(key, 100)), (at(4.0), note_off(key))],
            at(4.0),
            256,
            Some(Grid {
                tempo: 100.0,
                beat_zero: 0,
            }),
        );
        median_f0(&out[at(0.2)..]).expect("a pitched motif")
    };
    let (low, high) = (f0(60), f0(63));
    let interval = cents(high, low);
    assert!(
        (interval - 300.0).abs() <= 50.0,
        "keys 3 semitones apart gave motifs {interval:.0} cents apart ({low:.1} / {high:.1} Hz)"
    );
    // Switching back to notes mode with the key still down ends the motif's notes.
    let (mut s, _) = session(256);
    let motif = motif_controls(&s);
    let held = [(0, note_on(60, 100))];
    let beat_zero = Grid {
        tempo: 120.0,
        beat_zero: 0,
    };
    let out = render_at(&mut s, &motif, &held, at(4.0), 256, Some(beat_zero));
    assert!(rms(&out[at(2.0)..]) > 1e-3, "the motif plays");
    let notes = Controls {
        motif: None,
        ..motif
    };
    let out = render_at(&mut s, &notes, &[], at(2.0), 256, Some(beat_zero));
    assert!(
        rms(&out[at(1.5)..]) < 1e-4,
        "silence after the switch and the release: {}",
        rms(&out[at(1.5)..])
    );
}

/// A one-motif bank: C3 (at root C4) on every beat of a 4-beat loop.
fn beat_bank() -> String {
    let rows = 12;
    let mut atoms = vec![0.0; rows * rows];
    for r in 0..rows {
        atoms[r * rows + r] = 20.0;
    }
    let file = MotifBankFile {
        format: BANK_FORMAT,
        lowest_key: 48,
        rows,
        steps: 16,
        maps: rows,
        atom_steps: 1,
        atoms,
        bias: vec![-10.0; rows],
        motifs: vec![(0..16)
            .step_by(4)
            .map(|step| CodeEntry {
                map: 0,
                step,
                value: 1.0,
            })
            .collect()],
        source: "test".into(),
    };
    serde_json::to_string(&file).expect("json")
}

#[test]
fn motif_banks_load_off_the_audio_thread_and_bad_ones_keep_the_current_one() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let good = dir.join("beats.tsmotif");
    std::fs::write(&good, beat_bank()).expect("writes");
    let junk = dir.join("junk.tsmotif");
    std::fs::write(&junk, b"{\"format\": 1}").expect("writes");

    let (mut s, _) = session(256);
    let controls = motif_controls(&s);
    let embedded = s.shared().motifs.read().clone();
    // A damaged bank: an error for the editor, the embedded bank stays.
    assert!(s.load_motifs(junk));
    play_until(&mut s, &controls, |s| {
        s.shared().status.lock().message.is_some()
    });
    let message = s.shared().status.lock().message.clone().expect("a message");
    assert!(message.contains("junk.tsmotif"), "{message}");
    assert!(
        s.motif_path().read().is_empty(),
        "the saved path is unchanged"
    );
    assert!(Arc::ptr_eq(&embedded, &s.shared().motifs.read()));

    // A good bank: played from then on, and saved with the project.
    assert!(s.load_motifs(good.clone()));
    play_until(&mut s, &controls, |s| {
        s.shared().status.lock().motifs_name == "beats"
    });
    assert_eq!(*s.motif_path().read(), good.display().to_string());
    let grid = Grid {
        tempo: 120.0,
        beat_zero: 0,
    };
    let out = render_at(
        &mut s,
        &controls,
        &[(0, note_on(60, 100)), (at(2.0), note_off(60))],
        at(2.0),
        256,
        Some(grid),
    );
    let f0 = median_f0(&out[at(0.2)..]).expect("the bank's notes");
    let error = cents_from_key(f0, 48.0);
    assert!(error.abs() <= 50.0, "the bank's C3 plays: {f0:.1} Hz");

    // A project whose bank is gone: the embedded bank plays, the path is kept for later.
    let (mut restored, _) = session(256);
    let gone = dir.join("gone.tsmotif").display().to_string();
    *restored.motif_path().write() = gone.clone();
    assert!(restored.activate(
        HostConfig {
            rate: RATE,
            max_block: 256,
        },
        PhaseParam::Rtpghi,
    ));
    let message = restored
        .shared()
        .status
        .lock()
        .message
        .clone()
        .expect("a message");
    assert!(message.contains("gone.tsmotif"), "{message}");
    assert!(restored
        .shared()
        .status
        .lock()
        .motifs_name
        .contains("embedded"));
    assert_eq!(*restored.motif_path().read(), gone);
}
