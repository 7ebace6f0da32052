//! The plugin in a real host: checks the WAV that headless Ardour rendered from
//! `tests/host/render.lua` (A4 from 0.5 to 2.5 s, then C4 E4 G4 from 3.5 to 5.5 s).
//! `cargo xtask test` renders it and runs this with `TS_HOST_WAV` set; on its own the test
//! is ignored, since it needs Ardour and a plugin bundle.

use timbrespace_engine::pitch::{cents, pitch_track, YinSettings};
use timbrespace_tests::spectral_peak;

/// The key's equal-tempered frequency.
fn key_hz(key: f32) -> f32 {
    440.0 * 2f32.powf((key - 69.0) / 12.0)
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|s| s * s).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
#[ignore = "needs the WAV rendered by headless Ardour (cargo xtask test)"]
fn ardour_renders_the_notes_in_tune() {
    let path = std::env::var("TS_HOST_WAV").expect("TS_HOST_WAV names the rendered WAV");
    let mut reader = hound::WavReader::open(&path).expect("a WAV file");
    let spec = reader.spec();
    assert_eq!(spec.channels, 2, "a stereo instrument track");
    let rate = spec.sample_rate as f32;
    let scale = 2f32.powi(i32::from(spec.bits_per_sample) - 1);
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .map(|s| s.expect("sample"))
            .collect(),
        hound::SampleFormat::Int => reader
            .samples::<i32>()
            .map(|s| s.expect("sample") as f32 / scale)
            .collect(),
    };
    let left: Vec<f32> = samples.iter().step_by(2).copied().collect();
    let right: Vec<f32> = samples.iter().skip(1).step_by(2).copied().collect();
    let at = |t: f32| ((t * rate) as usize).min(left.len());
    let span = |a: f32, b: f32| &left[at(a)..at(b)];
    assert!(left.len() as f32 > 6.5 * rate, "7 s rendered");
    assert!(
        left.iter().zip(&right).all(|(l, r)| (l - r).abs() < 1e-3),
        "same sound in both channels"
    );

    let (note, before, between) = (span(0.8, 2.3), span(0.0, 0.45), span(3.0, 3.45));
    assert!(rms(note) > 1e-3, "A4 sounds (rms {})", rms(note));
    assert!(
        rms(before) < 0.01 * rms(note),
        "silence before the first note"
    );
    assert!(rms(between) < 0.01 * rms(note), "the note is released");
    let settings = YinSettings {
        fmin: 2.5 * rate / 2048.0,
        ..YinSettings::default()
    };
    let mut f0: Vec<f32> = pitch_track(note, rate, 2048, 512, &settings)
        .into_iter()
        .flatten()
        .collect();
    f0.sort_by(f32::total_cmp);
    let median = f0[f0.len() / 2];
    let error = cents(median, 440.0);
    assert!(
        error.abs() <= 30.0,
        "A4 at {median:.1} Hz ({error:.1} cents)"
    );

    let chord = span(3.8, 5.4);
    for key in [60.0, 64.0, 67.0] {
        let (peak, prominence) = spectral_peak(chord, rate, key_hz(key));
        let error = cents(peak, key_hz(key));
        assert!(
            error.abs() <= 30.0 && prominence > 20.0,
            "key {key}: peak {peak:.1} Hz ({error:.1} cents), {prominence:.1} dB"
        );
    }
}
