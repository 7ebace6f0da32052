//! Helpers for Timbrespace's cross-crate integration tests (the tests live in `tests/`).

use std::path::PathBuf;

use timbrespace_models::soundfont::NoteRenderer;

/// The soundfont the tests render real notes from: `$TIMBRESPACE_SOUNDFONT`, or
/// `data/soundfonts/FluidR3_GM.sf2` in the workspace (`cargo xtask fetch-soundfont`).
pub fn soundfont_path() -> PathBuf {
    std::env::var_os("TIMBRESPACE_SOUNDFONT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/soundfonts/FluidR3_GM.sf2")
        })
}

/// A renderer on the test soundfont at 44.1 kHz; panics with the fix when it is missing.
pub fn renderer() -> NoteRenderer {
    let path = soundfont_path();
    NoteRenderer::open(&path, 44_100).unwrap_or_else(|e| {
        panic!("{e}\nThe real-note tests need FluidR3_GM.sf2: run `cargo xtask fetch-soundfont`.")
    })
}

/// Fundamental frequency of `x` (Hz) by normalised autocorrelation over 50–2000 Hz.
pub fn autocorrelation_pitch(x: &[f32], rate: f32) -> f32 {
    let (min_lag, max_lag) = ((rate / 2000.0) as usize, (rate / 50.0) as usize);
    let energy: f32 = x.iter().map(|s| s * s).sum();
    let score = |lag: usize| -> f32 {
        let c: f32 = x[..x.len() - lag]
            .iter()
            .zip(&x[lag..])
            .map(|(a, b)| a * b)
            .sum();
        c / energy
    };
    let scores: Vec<f32> = (min_lag..=max_lag).map(score).collect();
    let best = scores.iter().cloned().fold(f32::MIN, f32::max);
    // The first peak within 10 % of the best avoids octave errors (peaks at 2T, 3T…): find
    // where the scores first come that close, then climb to that peak's top.
    let mut first = scores
        .iter()
        .position(|&s| s > 0.9 * best)
        .unwrap_or_default();
    while first + 1 < scores.len() && scores[first + 1] >= scores[first] {
        first += 1;
    }
    // Parabolic interpolation around the chosen lag for sub-sample precision.
    let lag = first + min_lag;
    let (a, b, c) = (
        score(lag.saturating_sub(1).max(1)),
        score(lag),
        score(lag + 1),
    );
    let shift = if a - 2.0 * b + c != 0.0 {
        0.5 * (a - c) / (a - 2.0 * b + c)
    } else {
        0.0
    };
    rate / (lag as f32 + shift)
}
