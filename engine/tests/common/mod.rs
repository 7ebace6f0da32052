//! Deterministic test signals shared by the engine's integration tests.
#![allow(dead_code)]

pub mod tiny_model;

use std::f32::consts::TAU;

/// Sample rate of the test signals.
pub const RATE: f32 = 44_100.0;

/// A 220 Hz tone with 12 partials decaying by 3 dB each, with a 50 ms fade in and out.
pub fn harmonic_tone(seconds: f32) -> Vec<f32> {
    let n = (seconds * RATE) as usize;
    (0..n)
        .map(|t| {
            let time = t as f32 / RATE;
            let tone: f32 = (1..=12)
                .map(|l| 0.7f32.powi(l) * (TAU * 220.0 * l as f32 * time + l as f32).sin())
                .sum();
            tone * fade(t, n)
        })
        .collect()
}

/// A linear chirp from 200 Hz to 4 kHz.
pub fn chirp(seconds: f32) -> Vec<f32> {
    let n = (seconds * RATE) as usize;
    let rate = (4000.0 - 200.0) / seconds;
    (0..n)
        .map(|t| {
            let time = t as f32 / RATE;
            0.5 * (TAU * (200.0 * time + 0.5 * rate * time * time)).sin() * fade(t, n)
        })
        .collect()
}

/// A 440 Hz tone with 6 Hz, ±30 Hz vibrato and three partials.
pub fn vibrato_tone(seconds: f32) -> Vec<f32> {
    let n = (seconds * RATE) as usize;
    let mut phase = 0.0f32;
    (0..n)
        .map(|t| {
            let time = t as f32 / RATE;
            let f = 440.0 + 30.0 * (TAU * 6.0 * time).sin();
            phase = (phase + TAU * f / RATE) % TAU;
            let s = (phase).sin() + 0.5 * (2.0 * phase).sin() + 0.25 * (3.0 * phase).sin();
            0.4 * s * fade(t, n)
        })
        .collect()
}

/// Seeded white noise in 100 ms bursts separated by 150 ms of silence.
pub fn noise_bursts(seconds: f32) -> Vec<f32> {
    let n = (seconds * RATE) as usize;
    let mut rng = fastrand::Rng::with_seed(7);
    (0..n)
        .map(|t| {
            let within = t % (0.25 * RATE) as usize;
            if within < (0.1 * RATE) as usize {
                rng.f32() - 0.5
            } else {
                0.0
            }
        })
        .collect()
}

fn fade(t: usize, n: usize) -> f32 {
    let ramp = (0.05 * RATE) as usize;
    (t.min(n - 1 - t) as f32 / ramp as f32).min(1.0)
}
