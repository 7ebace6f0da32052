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

/// A real MIDI file fetched by `cargo xtask fetch-midi` into `data/midi/`; panics with the
/// fix when it is missing.
pub fn real_midi(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data/midi")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask fetch-midi` (it downloads the music21 wheel from PyPI)",
        path.display()
    );
    path
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

/// The strongest spectral peak within ±80 cents of `f` in `samples` (Hann window, parabolic
/// interpolation): its frequency and how many dB it stands above the median level of the
/// band 50–2000 Hz. A chord's notes each show as such a peak.
pub fn spectral_peak(samples: &[f32], rate: f32, f: f32) -> (f32, f32) {
    let n = samples.len().next_power_of_two() / 2;
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input: Vec<f32> = samples[..n]
        .iter()
        .enumerate()
        .map(|(i, s)| s * (0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos()))
        .collect();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum)
        .expect("buffers sized by the plan");
    let bin = rate / n as f32;
    let magnitude: Vec<f32> = spectrum.iter().map(|c| c.norm()).collect();
    let (lo, hi) = (
        ((f * 2f32.powf(-80.0 / 1200.0) / bin) as usize).max(1),
        ((f * 2f32.powf(80.0 / 1200.0) / bin) as usize + 1).min(magnitude.len() - 2),
    );
    let (k, peak) = (lo..=hi)
        .map(|k| (k, magnitude[k]))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((lo, 0.0));
    let (a, b, c) = (
        magnitude[k - 1].max(1e-12).ln(),
        peak.max(1e-12).ln(),
        magnitude[k + 1].max(1e-12).ln(),
    );
    let curvature = a - 2.0 * b + c;
    let offset = if curvature.abs() > 1e-12 {
        0.5 * (a - c) / curvature
    } else {
        0.0
    };
    let mut band: Vec<f32> = magnitude[(50.0 / bin) as usize..(2000.0 / bin) as usize].to_vec();
    band.sort_by(f32::total_cmp);
    let median = band[band.len() / 2].max(1e-12);
    ((k as f32 + offset) * bin, 20.0 * (peak / median).log10())
}
