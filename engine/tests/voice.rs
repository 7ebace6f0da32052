//! The voice: block-size invariance, robustness to bad frames, decay to silence, and that
//! what it plays is the reconstruction of the frames it was given.

mod common;

use timbrespace_engine::grid::TfGrid;
use timbrespace_engine::metrics::spectral_convergence_db;
use timbrespace_engine::phase::refined::RefineSettings;
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::stft::{magnitude_stft, StftConfig};
use timbrespace_engine::voice::{PhaseMode, SpectrogramSource, Voice};
use timbrespace_engine::window::WindowKind;

fn config() -> StftConfig {
    StftConfig::new(1024, 256, WindowKind::Hann).expect("valid config")
}

const MODES: [PhaseMode; 3] = [
    PhaseMode::Rtpghi(Lookahead::Zero),
    PhaseMode::Rtpghi(Lookahead::One),
    PhaseMode::Refined(RefineSettings {
        active_frames: 2,
        iterations: 3,
        momentum: 0.3,
    }),
];

fn render(mode: PhaseMode, frames: &TfGrid<f32>, len: usize, block: usize) -> Vec<f32> {
    let cfg = config();
    let mut voice = Voice::new(&cfg, mode);
    let mut source = SpectrogramSource::new(frames, false);
    let mut out = vec![0.0; len];
    for chunk in out.chunks_mut(block) {
        voice.render(chunk, &mut source);
    }
    out
}

#[test]
fn any_block_size_gives_identical_samples() {
    let x = common::vibrato_tone(0.6);
    let frames = magnitude_stft(&config(), &x);
    for mode in MODES {
        let reference = render(mode, &frames, x.len() + 4096, 4096);
        for block in [1, 64, 333] {
            assert_eq!(
                render(mode, &frames, x.len() + 4096, block),
                reference,
                "{mode:?}, block {block}"
            );
        }
        assert!(
            reference.iter().any(|&s| s.abs() > 0.1),
            "{mode:?} is silent"
        );
    }
}

#[test]
fn voice_output_is_the_reconstruction_of_its_frames() {
    let cfg = config();
    let x = common::harmonic_tone(1.0);
    let frames = magnitude_stft(&cfg, &x);
    for mode in MODES {
        let voice = Voice::new(&cfg, mode);
        let latency = voice.latency_samples();
        let out = render(mode, &frames, x.len() + latency + cfg.n_fft(), 512);
        let aligned = &out[latency..latency + x.len()];
        let sc = spectral_convergence_db(&cfg, &frames, aligned);
        assert!(sc < -25.0, "{mode:?}: SC {sc:.1} dB");
    }
}

#[test]
fn nan_and_infinite_frames_play_as_silence_and_never_reach_the_output() {
    let cfg = config();
    let x = common::harmonic_tone(0.5);
    let mut frames = magnitude_stft(&cfg, &x);
    for j in (3..frames.frames()).step_by(7) {
        frames.frame_mut(j)[j % 100] = f32::NAN;
    }
    for j in (5..frames.frames()).step_by(11) {
        frames.frame_mut(j)[40] = f32::INFINITY;
        frames.frame_mut(j)[41] = -3.0;
    }
    for mode in MODES {
        let out = render(mode, &frames, x.len() + 4096, 256);
        assert!(out.iter().all(|s| s.is_finite()), "{mode:?}");
        assert!(out.iter().any(|&s| s.abs() > 0.1), "{mode:?} is silent");
    }
}

#[test]
fn silence_after_sound_decays_to_exact_zeros() {
    let cfg = config();
    let x = common::noise_bursts(0.3);
    let frames = magnitude_stft(&cfg, &x);
    for mode in MODES {
        let out = render(mode, &frames, x.len() + 20 * cfg.n_fft(), 100);
        let tail = &out[x.len() + 8 * cfg.n_fft()..];
        assert!(
            tail.iter().all(|&s| s == 0.0),
            "{mode:?}: tail not exactly silent"
        );
        assert!(
            out.iter().all(|s| !s.is_subnormal()),
            "{mode:?}: subnormal output"
        );
    }
}

#[test]
fn vanishing_magnitudes_produce_no_subnormal_samples() {
    let cfg = config();
    let x = common::harmonic_tone(0.3);
    let frames = magnitude_stft(&cfg, &x).map(|m| m * 1e-36);
    for mode in MODES {
        let out = render(mode, &frames, x.len() + 4096, 64);
        assert!(out.iter().all(|s| !s.is_subnormal()), "{mode:?}");
    }
}

#[test]
fn a_held_frame_keeps_sounding_steadily() {
    let cfg = config();
    let x = common::harmonic_tone(0.4);
    let frames = magnitude_stft(&cfg, &x);
    // Hold a frame from the middle of the tone for a second.
    let mid = TfGrid::from_vec(1, cfg.bins(), frames.frame(frames.frames() / 2).to_vec())
        .expect("one frame");
    for mode in MODES {
        let mut voice = Voice::new(&cfg, mode);
        let mut source = SpectrogramSource::new(&mid, true);
        let mut out = vec![0.0; 44_100];
        voice.render(&mut out, &mut source);
        // After the attack, the level of successive 100 ms windows stays within 1 dB.
        let rms: Vec<f32> = out[8192..]
            .chunks(4410)
            .filter(|c| c.len() == 4410)
            .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).sqrt())
            .collect();
        let (lo, hi) = rms
            .iter()
            .fold((f32::MAX, 0.0f32), |(l, h), &r| (l.min(r), h.max(r)));
        assert!(lo > 0.01, "{mode:?}: too quiet {lo}");
        assert!(
            20.0 * (hi / lo).log10() < 1.0,
            "{mode:?}: level wanders {lo}..{hi}"
        );
    }
}
