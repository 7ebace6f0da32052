//! Refined real-time mode: RTPGHI followed by a few consistency iterations over the frames still
//! in flight, in the spirit of RTISI-LA (Zhu, Beauregard, Wyse 2007) and Griffin-Lim.
//!
//! The frames RTPGHI has phased but that have not been played yet (the "active" frames) are
//! overlap-added with the already committed ones, normalised by the window energy actually
//! present, re-analysed, and given back their target magnitudes. The oldest active frame is then
//! committed. Its improved phase also seeds RTPGHI's next frame. With two active frames the mode
//! costs one frame of latency more than RTPGHI with look-ahead.

use realfft::num_complex::Complex32;

use super::rtpghi::{Lookahead, Rtpghi};
use super::FrameReconstructor;
use crate::stft::{FrameAnalyzer, FrameSynthesizer, StftConfig};

/// Tuning of the refined mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefineSettings {
    /// Frames that are iterated together (2 = one extra frame of latency over RTPGHI).
    pub active_frames: usize,
    /// Consistency iterations per hop.
    pub iterations: usize,
    /// Fast Griffin-Lim momentum applied between iterations.
    pub momentum: f32,
}

impl Default for RefineSettings {
    fn default() -> Self {
        Self {
            active_frames: 2,
            iterations: 3,
            momentum: 0.3,
        }
    }
}

/// RTPGHI plus per-hop consistency iterations. All buffers are sized in `new`.
pub struct RefinedRtpghi {
    rtpghi: Rtpghi,
    settings: RefineSettings,
    hop: usize,
    n_fft: usize,
    analyzer: FrameAnalyzer,
    /// Synthesis with the analysis window (w·IFFT), normalised later by the summed w².
    synthesizer: FrameSynthesizer,
    /// Squared analysis window.
    window_sq: Vec<f32>,
    /// Target magnitudes of the active frames, oldest first.
    mags: Vec<Vec<f32>>,
    /// Current spectra of the active frames, oldest first.
    spectra: Vec<Vec<Complex32>>,
    /// The spectra of the previous iteration, for the momentum term.
    previous: Vec<Vec<Complex32>>,
    /// Sum of `w · IFFT` of committed frames over the active segment, which starts at the
    /// first sample of the oldest active frame and spans `n_fft + (active − 1)·hop` samples.
    committed: Vec<f32>,
    /// Sum of w² of committed frames over the same segment.
    committed_energy: Vec<f32>,
    /// 1 / (w² of committed and active frames) over the segment, per hop.
    inverse_energy: Vec<f32>,
    /// Scratch: the segment's signal.
    signal: Vec<f32>,
    /// Scratch: one frame's grain.
    grain: Vec<f32>,
    /// Scratch: one frame's spectrum.
    spectrum: Vec<Complex32>,
    /// The committed spectrum handed out by `process`.
    output: Vec<Complex32>,
}

impl RefinedRtpghi {
    /// A refined reconstructor for `config`.
    pub fn new(config: &StftConfig, settings: RefineSettings) -> Self {
        let settings = RefineSettings {
            active_frames: settings.active_frames.clamp(1, 8),
            iterations: settings.iterations.min(64),
            momentum: settings.momentum.clamp(0.0, 0.99),
        };
        let (n, hop, bins) = (config.n_fft(), config.hop(), config.bins());
        let active = settings.active_frames;
        let segment = n + (active - 1) * hop;
        let spectra = || vec![vec![Complex32::default(); bins]; active];
        Self {
            rtpghi: Rtpghi::new(config, Lookahead::One),
            settings,
            hop,
            n_fft: n,
            analyzer: FrameAnalyzer::new(config),
            synthesizer: FrameSynthesizer::with_analysis_window(config),
            window_sq: config.analysis_window().iter().map(|w| w * w).collect(),
            mags: vec![vec![0.0; bins]; active],
            spectra: spectra(),
            previous: spectra(),
            committed: vec![0.0; segment],
            committed_energy: vec![0.0; segment],
            inverse_energy: vec![0.0; segment],
            signal: vec![0.0; segment],
            grain: vec![0.0; n],
            spectrum: vec![Complex32::default(); bins],
            output: vec![Complex32::default(); bins],
        }
    }

    /// Moves the segment one hop later and takes in RTPGHI's newest frame.
    fn admit(&mut self, mag: &[f32]) {
        let hop = self.hop;
        let last = self.committed.len() - hop;
        self.committed.copy_within(hop.., 0);
        self.committed[last..].fill(0.0);
        self.committed_energy.copy_within(hop.., 0);
        self.committed_energy[last..].fill(0.0);
        self.mags.rotate_left(1);
        self.spectra.rotate_left(1);
        self.previous.rotate_left(1);
        let fresh = self.rtpghi.process(mag);
        let newest = self.settings.active_frames - 1;
        for ((m, s), c) in self.mags[newest]
            .iter_mut()
            .zip(self.spectra[newest].iter_mut())
            .zip(fresh)
        {
            *m = c.norm();
            *s = *c;
        }
        self.previous[newest].copy_from_slice(&self.spectra[newest]);

        self.inverse_energy.copy_from_slice(&self.committed_energy);
        for i in 0..self.settings.active_frames {
            let at = i * hop;
            for (e, &w2) in self.inverse_energy[at..at + self.n_fft]
                .iter_mut()
                .zip(&self.window_sq)
            {
                *e += w2;
            }
        }
        for e in &mut self.inverse_energy {
            *e = if *e > 1e-6 { 1.0 / *e } else { 0.0 };
        }
    }

    /// One consistency iteration over the active frames.
    fn iterate(&mut self) {
        let (hop, n) = (self.hop, self.n_fft);
        self.signal.copy_from_slice(&self.committed);
        for (i, spectrum) in self.spectra.iter().enumerate() {
            self.synthesizer.synthesize(spectrum, &mut self.grain);
            for (s, g) in self.signal[i * hop..i * hop + n]
                .iter_mut()
                .zip(&self.grain)
            {
                *s += g;
            }
        }
        for (s, e) in self.signal.iter_mut().zip(&self.inverse_energy) {
            *s *= e;
        }
        let alpha = self.settings.momentum;
        for i in 0..self.settings.active_frames {
            self.analyzer
                .analyze(&self.signal[i * hop..i * hop + n], &mut self.spectrum);
            for (((c, p), &y), &m) in self.spectra[i]
                .iter_mut()
                .zip(self.previous[i].iter_mut())
                .zip(&self.spectrum)
                .zip(&self.mags[i])
            {
                let norm = y.norm();
                let projected = if norm > 0.0 { y * (m / norm) } else { *p };
                *c = projected + (projected - *p) * alpha;
                *p = projected;
            }
        }
    }

    /// Adds the oldest active frame to the committed sums and copies it to the output.
    fn commit_oldest(&mut self) {
        self.output.copy_from_slice(&self.previous[0]);
        self.synthesizer.synthesize(&self.output, &mut self.grain);
        for ((c, e), (&g, &w2)) in self
            .committed
            .iter_mut()
            .zip(self.committed_energy.iter_mut())
            .zip(self.grain.iter().zip(&self.window_sq))
        {
            *c += g;
            *e += w2;
        }
    }
}

impl FrameReconstructor for RefinedRtpghi {
    fn process(&mut self, mag: &[f32]) -> &[Complex32] {
        self.admit(mag);
        for _ in 0..self.settings.iterations {
            self.iterate();
        }
        let newest = self.settings.active_frames - 1;
        self.rtpghi.set_last_phase(&self.previous[newest]);
        self.commit_oldest();
        &self.output
    }

    fn latency_frames(&self) -> usize {
        self.rtpghi.latency_frames() + self.settings.active_frames - 1
    }

    fn reset(&mut self) {
        self.rtpghi.reset();
        for v in self.spectra.iter_mut().chain(self.previous.iter_mut()) {
            v.fill(Complex32::default());
        }
        for v in &mut self.mags {
            v.fill(0.0);
        }
        self.committed.fill(0.0);
        self.committed_energy.fill(0.0);
    }
}
