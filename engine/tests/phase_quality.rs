//! Spectral convergence of every phase reconstruction method on deterministic signals.
//! Random or wrongly-conventioned phase scores around −5 dB; the thresholds sit a little above
//! what each method reaches, so a broken gradient, sign or convention fails them.

mod common;

use timbrespace_engine::grid::TfGrid;
use timbrespace_engine::metrics::spectral_convergence_db;
use timbrespace_engine::phase::offline::{fast_griffin_lim, pghi, pghi_fast_griffin_lim};
use timbrespace_engine::phase::refined::{RefineSettings, RefinedRtpghi};
use timbrespace_engine::phase::rtpghi::{Lookahead, Rtpghi};
use timbrespace_engine::phase::{reconstruct_stream, FrameReconstructor, DEFAULT_TOLERANCE};
use timbrespace_engine::stft::{istft, magnitude_stft, StftConfig};
use timbrespace_engine::window::WindowKind;

fn hann(hop: usize) -> StftConfig {
    StftConfig::new(1024, hop, WindowKind::Hann).expect("valid config")
}

fn signals() -> Vec<(&'static str, Vec<f32>)> {
    vec![
        ("harmonic", common::harmonic_tone(1.0)),
        ("chirp", common::chirp(1.0)),
        ("vibrato", common::vibrato_tone(1.0)),
        ("bursts", common::noise_bursts(1.0)),
    ]
}

/// Mean SC over the test signals of a streaming reconstructor built by `make`.
fn streaming_sc(cfg: &StftConfig, make: impl Fn() -> Box<dyn FrameReconstructor>) -> Vec<f64> {
    signals()
        .iter()
        .map(|(_, x)| {
            let target = magnitude_stft(cfg, x);
            let spectra = reconstruct_stream(make().as_mut(), &target);
            spectral_convergence_db(cfg, &target, &istft(cfg, &spectra, x.len()))
        })
        .collect()
}

fn offline_sc(cfg: &StftConfig, method: impl Fn(&TfGrid<f32>, usize) -> Vec<f32>) -> Vec<f64> {
    signals()
        .iter()
        .map(|(_, x)| {
            let target = magnitude_stft(cfg, x);
            spectral_convergence_db(cfg, &target, &method(&target, x.len()))
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn check(label: &str, scores: &[f64], mean_limit: f64, worst_limit: f64) {
    let worst = scores.iter().cloned().fold(f64::MIN, f64::max);
    eprintln!(
        "{label}: {scores:.1?} mean {:.2} worst {worst:.2}",
        mean(scores)
    );
    assert!(
        mean(scores) < mean_limit,
        "{label}: mean SC {:.2} dB ≥ {mean_limit}",
        mean(scores)
    );
    assert!(
        worst < worst_limit,
        "{label}: worst SC {worst:.2} dB ≥ {worst_limit}"
    );
}

#[test]
fn rtpghi_with_lookahead_reconstructs_from_magnitudes() {
    for (hop, mean_limit, worst_limit) in [(256, -30.0, -12.0), (128, -31.5, -14.5)] {
        let cfg = hann(hop);
        let scores = streaming_sc(&cfg, || Box::new(Rtpghi::new(&cfg, Lookahead::One)));
        check(
            &format!("rtpghi la1 hop {hop}"),
            &scores,
            mean_limit,
            worst_limit,
        );
    }
}

#[test]
fn rtpghi_without_lookahead_is_close_behind() {
    let cfg = hann(256);
    let scores = streaming_sc(&cfg, || Box::new(Rtpghi::new(&cfg, Lookahead::Zero)));
    check("rtpghi la0 hop 256", &scores, -26.5, -9.5);
}

#[test]
fn rtpghi_works_with_a_truncated_gaussian_window() {
    let cfg = StftConfig::new(1024, 256, WindowKind::GAUSSIAN).expect("valid config");
    let scores = streaming_sc(&cfg, || Box::new(Rtpghi::new(&cfg, Lookahead::One)));
    check("rtpghi la1 gauss hop 256", &scores, -37.5, -12.0);
}

#[test]
fn refined_mode_beats_rtpghi() {
    let cfg = hann(256);
    let plain = mean(&streaming_sc(&cfg, || {
        Box::new(Rtpghi::new(&cfg, Lookahead::One))
    }));
    let scores = streaming_sc(&cfg, || {
        Box::new(RefinedRtpghi::new(&cfg, RefineSettings::default()))
    });
    check("refined hop 256", &scores, -37.0, -15.5);
    assert!(
        mean(&scores) < plain - 3.0,
        "refined {:.2} vs rtpghi {plain:.2}",
        mean(&scores)
    );
}

#[test]
fn offline_methods_reach_their_reference_quality() {
    let cfg = hann(256);
    let pghi_scores = offline_sc(&cfg, |s, len| {
        istft(&cfg, &pghi(&cfg, s, DEFAULT_TOLERANCE), len)
    });
    check("offline pghi", &pghi_scores, -30.0, -12.5);
    let fgla = offline_sc(&cfg, |s, len| {
        fast_griffin_lim(&cfg, s, None, 60, 0.99, len)
    });
    check("fgla 60 it", &fgla, -23.5, -20.0);
    let both = offline_sc(&cfg, |s, len| pghi_fast_griffin_lim(&cfg, s, 60, len));
    check("pghi + fgla 60 it", &both, -45.0, -24.0);
}

#[test]
fn plain_griffin_lim_is_worse_than_fast_griffin_lim() {
    let cfg = hann(256);
    let plain = mean(&offline_sc(&cfg, |s, len| {
        fast_griffin_lim(&cfg, s, None, 30, 0.0, len)
    }));
    let fast = mean(&offline_sc(&cfg, |s, len| {
        fast_griffin_lim(&cfg, s, None, 30, 0.99, len)
    }));
    assert!(fast < plain - 2.0, "fast {fast:.2} vs plain {plain:.2}");
}
