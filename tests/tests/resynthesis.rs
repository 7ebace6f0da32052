//! The engine's reference check: the bundled note resynthesised by real-time voices, and
//! resampled to a host rate.

use timbrespace_models::audio_import::resample;
use timbrespace_models::resynthesis::{
    reference_config, reference_note, resynthesise, PHASE_MODES,
};
use timbrespace_tests::autocorrelation_pitch;

#[test]
fn every_phase_mode_resynthesises_the_bundled_note() {
    let note = reference_note().expect("bundled note decodes");
    let config = reference_config().expect("valid config");
    for (name, mode) in PHASE_MODES {
        let result = resynthesise(&note, &config, mode);
        assert_eq!(result.audio.samples.len(), note.samples.len(), "{name}");
        assert!(result.sc_db < -25.0, "{name}: {:.1} dB", result.sc_db);
    }
}

#[test]
fn resampled_note_keeps_its_pitch() {
    let note = reference_note().expect("bundled note decodes");
    let at_48k = resample(&note, 48_000).expect("resamples");
    let expected_len = note.samples.len() * 48_000 / 44_100;
    assert!(at_48k.samples.len().abs_diff(expected_len) <= 1);
    let f_in = autocorrelation_pitch(&note.samples[11_025..22_050], 44_100.0);
    let f_out = autocorrelation_pitch(&at_48k.samples[12_000..24_000], 48_000.0);
    // Trumpet C5 is 523.25 Hz.
    assert!((f_in - 523.25).abs() < 5.0, "input {f_in}");
    assert!((f_out - f_in).abs() < 1.0, "{f_in} Hz became {f_out} Hz");
}
