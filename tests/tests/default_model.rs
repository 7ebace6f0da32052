//! The embedded default model end to end: it loads, its morph renders cleanly through the
//! engine, and a real soundfont note played through it (cross-synthesis) keeps its pitch.

use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::audio_file::write_wav;
use timbrespace_models::demo::{default_model, morph_ends};
use timbrespace_models::notes::{find_instrument, key_frequency, Dynamics};
use timbrespace_models::resynthesis::phase_mode;
use timbrespace_models::soundfont::{NoteRenderer, NoteTiming};
use timbrespace_models::synth::{encode_sound, morph, render_latents};
use timbrespace_tests::{autocorrelation_pitch, soundfont_path};

const MODE: PhaseMode = PhaseMode::Rtpghi(Lookahead::One);

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
    let dir = std::env::temp_dir().join(format!("timbrespace-default-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, key) in [("Trumpet", 67u8), ("Cello", 48), ("Flute", 76)] {
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
    std::fs::remove_dir_all(&dir).expect("cleans up");
}
