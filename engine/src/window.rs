//! Analysis windows and the constant γ that ties each to its equivalent Gaussian.

use std::f64::consts::PI;

/// The window families the engine supports. All are periodic (DFT-even) and centred on
/// sample `len / 2`, which is the time origin of the engine's centred phase convention.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowKind {
    /// Periodic Hann; γ = 0.25645·L².
    Hann,
    /// Periodic Hamming; γ = 0.29794·L².
    Hamming,
    /// Periodic Blackman; γ = 0.17954·L².
    Blackman,
    /// Gaussian `exp(-π t² / λ)` truncated to the frame, with λ = `ratio`·L².
    Gaussian {
        /// λ as a fraction of the squared window length; small values truncate less.
        ratio: f32,
    },
}

impl WindowKind {
    /// The truncated Gaussian the engine uses by default: λ = 0.15·L² cuts the tails at −45 dB
    /// and gave the best RTPGHI scores at redundancy 4 and 8 among 0.05–0.25 (`bench-phase`).
    pub const GAUSSIAN: WindowKind = WindowKind::Gaussian { ratio: 0.15 };

    /// γ / L²: the time-frequency spread of the Gaussian the phase-gradient formulas assume.
    pub fn gamma_ratio(&self) -> f64 {
        match self {
            WindowKind::Hann => 0.25645,
            WindowKind::Hamming => 0.29794,
            WindowKind::Blackman => 0.17954,
            WindowKind::Gaussian { ratio } => f64::from(*ratio),
        }
    }

    /// γ for a window of `len` samples, in samples².
    pub fn gamma(&self, len: usize) -> f64 {
        self.gamma_ratio() * (len as f64).powi(2)
    }

    /// The window's `len` samples.
    pub fn samples(&self, len: usize) -> Vec<f32> {
        let n = len as f64;
        (0..len)
            .map(|k| {
                let x = 2.0 * PI * k as f64 / n;
                let v = match self {
                    WindowKind::Hann => 0.5 - 0.5 * x.cos(),
                    WindowKind::Hamming => 0.54 - 0.46 * x.cos(),
                    WindowKind::Blackman => 0.42 - 0.5 * x.cos() + 0.08 * (2.0 * x).cos(),
                    WindowKind::Gaussian { .. } => {
                        let t = k as f64 - n / 2.0;
                        (-PI * t * t / self.gamma(len)).exp()
                    }
                };
                v as f32
            })
            .collect()
    }

    /// The window named `name` (as [`WindowKind::name`] prints it); `gauss` is [`WindowKind::GAUSSIAN`].
    pub fn from_name(name: &str) -> Option<WindowKind> {
        match name {
            "hann" => Some(WindowKind::Hann),
            "hamming" => Some(WindowKind::Hamming),
            "blackman" => Some(WindowKind::Blackman),
            "gauss" => Some(WindowKind::GAUSSIAN),
            _ => None,
        }
    }

    /// A short lowercase name for tables and command lines.
    pub fn name(&self) -> &'static str {
        match self {
            WindowKind::Hann => "hann",
            WindowKind::Hamming => "hamming",
            WindowKind::Blackman => "blackman",
            WindowKind::Gaussian { .. } => "gauss",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_peak_at_the_centre_and_are_symmetric() {
        for kind in [
            WindowKind::Hann,
            WindowKind::Hamming,
            WindowKind::Blackman,
            WindowKind::GAUSSIAN,
        ] {
            let w = kind.samples(512);
            assert!((w[256] - 1.0).abs() < 1e-6, "{kind:?} peak {}", w[256]);
            for k in 1..256 {
                assert!(
                    (w[256 - k] - w[256 + k]).abs() < 1e-6,
                    "{kind:?} asymmetric at {k}"
                );
            }
        }
    }
}
