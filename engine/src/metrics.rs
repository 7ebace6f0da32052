//! Quality measures for phase reconstruction.

use crate::grid::TfGrid;
use crate::stft::{magnitude_stft, StftConfig};

/// Spectral convergence in dB: `20·log10(‖S − |STFT(y)|‖_F / ‖S‖_F)`, with `STFT(y)` taken
/// with the same configuration and truncated to `target`'s frame count. Lower is better;
/// random phase scores around −5 dB, good reconstructions below −25 dB.
pub fn spectral_convergence_db(config: &StftConfig, target: &TfGrid<f32>, signal: &[f32]) -> f64 {
    let actual = magnitude_stft(config, signal);
    let frames = target.frames().min(actual.frames());
    let (mut err, mut energy) = (0.0f64, 0.0f64);
    for j in 0..target.frames() {
        for (b, &s) in target.frame(j).iter().enumerate() {
            let y = if j < frames { actual.frame(j)[b] } else { 0.0 };
            err += f64::from(s - y).powi(2);
            energy += f64::from(s).powi(2);
        }
    }
    if energy == 0.0 {
        return if err == 0.0 { f64::NEG_INFINITY } else { 0.0 };
    }
    10.0 * (err / energy).log10()
}
