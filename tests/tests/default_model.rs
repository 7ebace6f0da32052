//! The embedded default model end to end: it loads, its morph renders cleanly through the
//! engine, a real soundfont note played through it (cross-synthesis) keeps its pitch, it reads
//! real notes back as symbols, and the main job's MIDI phrase comes out in tune.

use std::path::{Path, PathBuf};

use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::audio_file::write_wav;
use timbrespace_models::audio_file::MonoAudio;
use timbrespace_models::audio_import::resample;
use timbrespace_models::demo::{default_model, morph_ends, DEMO_INSTRUMENT, DEMO_PHRASE};
use timbrespace_models::labels::midi_to_note;
use timbrespace_models::midi::parse_midi;
use timbrespace_models::midi_render::{pitch_agreement, render_score};
use timbrespace_models::notes::{find_instrument, key_frequency, Dynamics};
use timbrespace_models::resynthesis::phase_mode;
use timbrespace_models::soundfont::{NoteRenderer, NoteTiming};
use timbrespace_models::synth::{encode_sound, morph, render_latents};
use timbrespace_models::transcribe::transcribe;
use timbrespace_tests::{autocorrelation_pitch, soundfont_path};

const MODE: PhaseMode = PhaseMode::Rtpghi(Lookahead::One);

/// Render `key` on the soundfont's `name` at mf into `dir/name.wav`.
fn write_soundfont_note(renderer: &NoteRenderer, name: &str, key: u8, dir: &Path) -> PathBuf {
    let instrument = find_instrument(name).expect("instrument");
    let note = renderer
        .render(
            &instrument,
            key,
            Dynamics::Mf.velocity(),
            NoteTiming::default(),
        )
        .expect("renders");
    let path = dir.join(format!("{name}.wav"));
    write_wav(&path, &note).expect("writes");
    path
}

#[test]
fn default_morph_renders_cleanly() {
    let model = default_model().expect("the embedded model validates");
    let (a, b, _) = morph_ends(&model).expect("morph ends");
    assert_ne!(a, b);
    let rendering = render_latents(&model, &morph(&a, &b, 200), MODE).expect("renders");
    let samples = &rendering.audio.samples;
    assert!(samples.iter().all(|s| s.is_finite() && s.abs() < 4.0));
    let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt();
    // Soundfont notes are rendered without gain, so the model's level is modest, but far above
    // silence (−80 dBFS).
    assert!(rms > 1e-4, "the morph is audible (rms {rms})");
    // Decoded spectra are not consistent STFTs; the refined mode's iterations must bring the
    // audio's STFT much closer to them than RTPGHI alone.
    let refined = render_latents(
        &model,
        &morph(&a, &b, 200),
        phase_mode("refined").expect("mode"),
    )
    .expect("renders");
    assert!(
        refined.consistency_db < -10.0 && refined.consistency_db < rendering.consistency_db - 3.0,
        "refined {:.1} dB, RTPGHI {:.1} dB",
        refined.consistency_db,
        rendering.consistency_db
    );
}

#[test]
fn notes_played_through_the_default_model_keep_their_pitch() {
    let model = default_model().expect("the embedded model validates");
    let rate = model.manifest.signal.sample_rate;
    let renderer = NoteRenderer::open(&soundfont_path(), rate)
        .expect("soundfont (cargo xtask fetch-soundfont)");
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    for (name, key) in [("Trumpet", 67u8), ("Cello", 48), ("Flute", 76)] {
        let path = write_soundfont_note(&renderer, name, key, dir);
        let latents = encode_sound(&model, &path).expect("encodes");
        let out = render_latents(&model, &latents, MODE)
            .expect("renders")
            .audio;
        let r = rate as usize;
        let pitch = autocorrelation_pitch(&out.samples[r / 4..3 * r / 4], rate as f32);
        let expected = key_frequency(key) as f32;
        let cents = 1200.0 * (pitch / expected).log2();
        assert!(
            cents.abs() < 50.0,
            "{name} key {key}: expected {expected:.1} Hz, got {pitch:.1} Hz"
        );
    }
}

#[test]
fn the_main_job_plays_the_demo_phrase_in_tune() {
    let model = default_model().expect("the embedded model validates");
    let score = parse_midi(DEMO_PHRASE, "demo phrase").expect("the phrase parses");
    assert_eq!(score.notes.len(), 18);
    let rendering = render_score(&model, &score, MODE, Some(DEMO_INSTRUMENT)).expect("renders");
    assert!(rendering.warnings.is_empty(), "{:?}", rendering.warnings);
    assert!(rendering.audio.iter().all(|s| s.is_finite()));
    let agreement =
        pitch_agreement(&score, &rendering.audio, rendering.rate, 50.0).expect("monophonic part");
    assert!(
        agreement >= 0.9,
        "pitch matches the score {:.1} % of the time",
        100.0 * agreement
    );
    // The main job resamples to 44.1 kHz; 48 kHz must keep the pitch as well.
    let audio = MonoAudio {
        samples: rendering.audio,
        rate: rendering.rate,
    };
    let at_48k = resample(&audio, 48_000).expect("resamples");
    let agreement_48k =
        pitch_agreement(&score, &at_48k.samples, 48_000, 50.0).expect("monophonic part");
    assert!(
        agreement_48k >= 0.9,
        "at 48 kHz: {:.1} %",
        100.0 * agreement_48k
    );
    // The final chord (three notes under the pedal) sounds after its keys are released.
    let chord_end = score.notes.iter().map(|n| n.end).fold(0.0, f64::max);
    let pedal_up = score.duration();
    assert!(pedal_up > chord_end);
    let r = f64::from(rendering.rate);
    let held = &audio_slice(&at_48k.samples, 48_000.0, chord_end + 0.1, pedal_up - 0.05);
    let rms = (held.iter().map(|s| s * s).sum::<f32>() / held.len().max(1) as f32).sqrt();
    assert!(
        rms > 1e-4,
        "the pedal holds the chord (rms {rms}, model rate {r})"
    );
}

#[test]
fn the_default_model_transcribes_real_notes() {
    let model = default_model().expect("the embedded model validates");
    let rate = model.manifest.signal.sample_rate;
    let renderer = NoteRenderer::open(&soundfont_path(), rate)
        .expect("soundfont (cargo xtask fetch-soundfont)");
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let mut right = 0;
    let cases = [
        ("Trumpet", 67u8),
        ("Cello", 48),
        ("Flute", 76),
        ("Clarinet", 62),
        ("Piano", 60),
    ];
    for (name, key) in cases {
        let path = write_soundfont_note(&renderer, name, key, dir);
        let t = transcribe(&model, &path).expect("transcribes");
        let read: Vec<&str> = t.note.iter().map(|r| r.class.as_str()).collect();
        let (pc, octave) = midi_to_note(key);
        println!("{name} {key}: read {read:?}");
        right += usize::from(read[0] == pc && read[1] == octave.to_string());
    }
    assert!(
        right >= 4,
        "pitch and octave right for {right} of {}",
        cases.len()
    );
}

/// Samples between two times.
fn audio_slice(samples: &[f32], rate: f64, from: f64, to: f64) -> Vec<f32> {
    let a = ((from * rate) as usize).min(samples.len());
    let b = ((to * rate) as usize).clamp(a, samples.len());
    samples[a..b].to_vec()
}
