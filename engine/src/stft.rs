//! STFT configuration, per-frame analysis and synthesis on `realfft`, and offline STFT/ISTFT.
//!
//! Phase convention: every spectrum the engine hands around is *centred*: its phase is measured
//! from the centre of the window (sample `n_fft / 2` of the frame), not from the frame's first
//! sample. The two differ by (−1)^m in bin m; the phase-gradient formulas of PGHI hold for the
//! centred one only, so the conversion lives here and nowhere else.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::EngineError;
use crate::grid::TfGrid;
use crate::window::WindowKind;

/// FFT size, hop and window: everything that fixes the time-frequency lattice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StftConfig {
    n_fft: usize,
    hop: usize,
    window: WindowKind,
}

impl StftConfig {
    /// Checks that `n_fft` is a power of two in 256..=8192 and `hop` is `n_fft/4` or `n_fft/8`.
    pub fn new(n_fft: usize, hop: usize, window: WindowKind) -> Result<Self, EngineError> {
        if !n_fft.is_power_of_two() || !(256..=8192).contains(&n_fft) {
            return Err(EngineError::FftSize(n_fft));
        }
        if hop == 0 || !(hop * 4 == n_fft || hop * 8 == n_fft) {
            return Err(EngineError::Hop { n_fft, hop });
        }
        if let WindowKind::Gaussian { ratio } = window {
            if !(0.02..=0.5).contains(&ratio) {
                return Err(EngineError::GaussianRatio(ratio));
            }
        }
        Ok(Self { n_fft, hop, window })
    }

    /// FFT size (also the window length) in samples.
    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    /// Hop between frames in samples.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Window family.
    pub fn window(&self) -> WindowKind {
        self.window
    }

    /// Number of non-negative frequency bins: `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of centred frames covering `len` samples (frame j is centred on sample j·hop).
    pub fn frames_for(&self, len: usize) -> usize {
        1 + len / self.hop
    }

    /// The analysis window.
    pub fn analysis_window(&self) -> Vec<f32> {
        self.window.samples(self.n_fft)
    }

    /// The canonical dual window `w / Σ_j w²(· + j·hop)`: overlap-adding `dual · IFFT(STFT)`
    /// gives the input back exactly wherever all overlapping frames are present.
    pub fn dual_window(&self) -> Vec<f32> {
        let w = self.analysis_window();
        (0..self.n_fft)
            .map(|k| {
                let norm: f32 = (0..self.n_fft / self.hop)
                    .map(|j| w[(k + j * self.hop) % self.n_fft].powi(2))
                    .sum();
                w[k] / norm
            })
            .collect()
    }
}

/// Multiplies bin m by (−1)^m: converts between frame-start and centred phase conventions.
fn flip_odd_bins(spectrum: &mut [Complex32]) {
    for c in spectrum.iter_mut().skip(1).step_by(2) {
        *c = -*c;
    }
}

/// Windowed forward FFT of one frame, with its plan and buffers made once.
pub struct FrameAnalyzer {
    /// Analysis window, applied before the FFT.
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    /// Windowed copy of the frame; realfft uses its input as scratch.
    buffer: Vec<f32>,
    scratch: Vec<Complex32>,
}

impl FrameAnalyzer {
    /// Plans the FFT and allocates every buffer for `config`.
    pub fn new(config: &StftConfig) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(config.n_fft());
        Self {
            window: config.analysis_window(),
            buffer: fft.make_input_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
        }
    }

    /// Writes the centred spectrum of `frame` (n_fft samples) into `spectrum` (bins values).
    pub fn analyze(&mut self, frame: &[f32], spectrum: &mut [Complex32]) {
        for ((b, &x), &w) in self.buffer.iter_mut().zip(frame).zip(&self.window) {
            *b = x * w;
        }
        // Lengths are fixed at construction, so the FFT cannot fail.
        let _ = self
            .fft
            .process_with_scratch(&mut self.buffer, spectrum, &mut self.scratch);
        flip_odd_bins(spectrum);
    }
}

/// Inverse FFT of one centred spectrum followed by a synthesis window.
pub struct FrameSynthesizer {
    /// Synthesis window, including the 1/n_fft of the inverse FFT.
    window: Vec<f32>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    /// Copy of the spectrum: realfft uses its input as scratch, and we flip signs in it.
    spectrum: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl FrameSynthesizer {
    /// Plans the inverse FFT for `config`; `window` is the synthesis window (n_fft samples).
    pub fn new(config: &StftConfig, window: &[f32]) -> Self {
        let ifft = RealFftPlanner::<f32>::new().plan_fft_inverse(config.n_fft());
        let scale = 1.0 / config.n_fft() as f32;
        Self {
            window: window.iter().map(|w| w * scale).collect(),
            spectrum: ifft.make_input_vec(),
            scratch: ifft.make_scratch_vec(),
            ifft,
        }
    }

    /// A synthesiser whose window is the dual of the analysis window (perfect overlap-add).
    pub fn with_dual_window(config: &StftConfig) -> Self {
        Self::new(config, &config.dual_window())
    }

    /// A synthesiser whose window is the analysis window itself (for normalised overlap-add).
    pub fn with_analysis_window(config: &StftConfig) -> Self {
        Self::new(config, &config.analysis_window())
    }

    /// Writes `window · IFFT(spectrum)` (n_fft samples) into `grain`.
    pub fn synthesize(&mut self, spectrum: &[Complex32], grain: &mut [f32]) {
        self.spectrum.copy_from_slice(spectrum);
        flip_odd_bins(&mut self.spectrum);
        // A real signal has real DC and Nyquist bins.
        let last = self.spectrum.len() - 1;
        self.spectrum[0].im = 0.0;
        self.spectrum[last].im = 0.0;
        let _ = self
            .ifft
            .process_with_scratch(&mut self.spectrum, grain, &mut self.scratch);
        for (g, &w) in grain.iter_mut().zip(&self.window) {
            *g *= w;
        }
    }
}

/// Offline STFT with centred frames: frame j covers samples `j·hop − n_fft/2 ..`, zero-padded
/// outside the signal.
pub fn stft(config: &StftConfig, signal: &[f32]) -> TfGrid<Complex32> {
    let (n, half) = (config.n_fft(), config.n_fft() / 2);
    let frames = config.frames_for(signal.len());
    let mut out = TfGrid::zeros(frames, config.bins());
    let mut analyzer = FrameAnalyzer::new(config);
    let mut frame = vec![0.0; n];
    for j in 0..frames {
        let start = (j * config.hop()) as isize - half as isize;
        for (k, x) in frame.iter_mut().enumerate() {
            let t = start + k as isize;
            *x = if t >= 0 && (t as usize) < signal.len() {
                signal[t as usize]
            } else {
                0.0
            };
        }
        analyzer.analyze(&frame, out.frame_mut(j));
    }
    out
}

/// Magnitudes of the offline STFT of `signal`.
pub fn magnitude_stft(config: &StftConfig, signal: &[f32]) -> TfGrid<f32> {
    stft(config, signal).map(|c| c.norm())
}

/// Offline inverse STFT of `len` samples: overlap-add of `w · IFFT`, divided at each sample by
/// the sum of squared windows actually present there (exact at the signal's edges too).
pub fn istft(config: &StftConfig, spectrogram: &TfGrid<Complex32>, len: usize) -> Vec<f32> {
    let (n, half, hop) = (config.n_fft(), config.n_fft() / 2, config.hop());
    let window = config.analysis_window();
    let mut synth = FrameSynthesizer::with_analysis_window(config);
    let mut acc = vec![0.0f32; len + n];
    let mut norm = vec![0.0f32; len + n];
    let mut grain = vec![0.0; n];
    for j in 0..spectrogram.frames() {
        synth.synthesize(spectrogram.frame(j), &mut grain);
        // acc index i corresponds to signal sample i − half.
        let start = j * hop;
        if start >= len + half {
            break;
        }
        for k in 0..n.min(acc.len() - start) {
            acc[start + k] += grain[k];
            norm[start + k] += window[k] * window[k];
        }
    }
    (0..len)
        .map(|t| {
            let (a, w2) = (acc[t + half], norm[t + half]);
            if w2 > 1e-10 {
                a / w2
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_signal(len: usize) -> Vec<f32> {
        let mut state = 12345u32;
        (0..len)
            .map(|t| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let noise = state as f32 / u32::MAX as f32 - 0.5;
                (t as f32 * 0.05).sin() * 0.5 + noise * 0.3
            })
            .collect()
    }

    fn error_db(a: &[f32], b: &[f32]) -> f64 {
        let err: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
        let energy: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum();
        10.0 * (err / energy).log10()
    }

    #[test]
    fn true_phase_round_trip_is_perfect_for_every_size_hop_and_window() {
        let x = test_signal(20_000);
        for n in [256, 1024, 8192] {
            for hop in [n / 4, n / 8] {
                for window in [WindowKind::Hann, WindowKind::GAUSSIAN] {
                    let cfg = StftConfig::new(n, hop, window).expect("valid config");
                    let y = istft(&cfg, &stft(&cfg, &x), x.len());
                    let db = error_db(&x, &y);
                    assert!(db < -90.0, "n {n} hop {hop} {window:?}: {db:.1} dB");
                }
            }
        }
    }

    #[test]
    fn rejects_unsupported_lattices() {
        assert_eq!(
            StftConfig::new(1000, 250, WindowKind::Hann),
            Err(EngineError::FftSize(1000))
        );
        assert_eq!(
            StftConfig::new(16384, 4096, WindowKind::Hann),
            Err(EngineError::FftSize(16384))
        );
        assert!(StftConfig::new(1024, 512, WindowKind::Hann).is_err());
        assert!(StftConfig::new(1024, 256, WindowKind::Gaussian { ratio: 3.0 }).is_err());
    }

    #[test]
    fn centred_convention_gives_a_centred_impulse_zero_phase() {
        let cfg = StftConfig::new(256, 64, WindowKind::Hann).expect("valid config");
        let mut frame = vec![0.0; 256];
        frame[128] = 1.0;
        let mut spec = vec![Complex32::default(); cfg.bins()];
        FrameAnalyzer::new(&cfg).analyze(&frame, &mut spec);
        for c in &spec {
            assert!((c.re - 1.0).abs() < 1e-5 && c.im.abs() < 1e-5, "{c}");
        }
    }
}
