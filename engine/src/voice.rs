//! A voice: one stream of magnitude frames turned into audio, at any host block size.

use crate::grid::TfGrid;
use crate::phase::refined::{RefineSettings, RefinedRtpghi};
use crate::phase::rtpghi::{Lookahead, Rtpghi};
use crate::phase::FrameReconstructor;
use crate::stft::{FrameSynthesizer, StftConfig};

/// Which phase reconstruction a voice runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhaseMode {
    /// RTPGHI with the given look-ahead.
    Rtpghi(Lookahead),
    /// RTPGHI plus consistency iterations (one more frame of latency).
    Refined(RefineSettings),
}

impl PhaseMode {
    /// Builds the reconstructor for `config`.
    pub fn build(self, config: &StftConfig) -> Box<dyn FrameReconstructor> {
        match self {
            PhaseMode::Rtpghi(lookahead) => Box::new(Rtpghi::new(config, lookahead)),
            PhaseMode::Refined(settings) => Box::new(RefinedRtpghi::new(config, settings)),
        }
    }
}

/// Where a voice gets its magnitude frames: called once per hop, on the audio thread.
pub trait FrameSource {
    /// Writes the next hop's magnitudes (`bins` values) into `frame` and returns true, or
    /// returns false (leaving `frame` alone) to keep playing the previous frame.
    fn next_frame(&mut self, frame: &mut [f32]) -> bool;
}

/// Plays the frames of a spectrogram one per hop; after the last one, either holds it or plays
/// silence. For offline renders and tests: the plugin's sources are decoders.
pub struct SpectrogramSource<'a> {
    frames: &'a TfGrid<f32>,
    /// Index of the next frame to hand out.
    next: usize,
    /// After the last frame: keep it sounding (true) or fall silent (false).
    hold_last: bool,
}

impl<'a> SpectrogramSource<'a> {
    /// A source starting at the first frame of `frames`.
    pub fn new(frames: &'a TfGrid<f32>, hold_last: bool) -> Self {
        Self {
            frames,
            next: 0,
            hold_last,
        }
    }
}

impl FrameSource for SpectrogramSource<'_> {
    fn next_frame(&mut self, frame: &mut [f32]) -> bool {
        let j = self.next;
        self.next = self.next.saturating_add(1);
        if j < self.frames.frames() {
            frame.copy_from_slice(self.frames.frame(j));
            true
        } else if self.hold_last {
            false
        } else {
            frame.fill(0.0);
            true
        }
    }
}

/// Magnitudes smaller than this are treated as zero, so no subnormal number enters the
/// reconstruction (subnormals can cost a hundred times more cycles on x86).
const MAGNITUDE_FLOOR: f32 = 1e-20;
/// Output samples smaller than this are flushed to zero in the overlap-add accumulator.
const SAMPLE_FLOOR: f32 = 1e-30;

/// Turns one magnitude frame per hop into audio. Everything is allocated in `new`; `render`
/// never allocates, locks or blocks, and produces the same samples whatever the block sizes.
pub struct Voice {
    reconstructor: Box<dyn FrameReconstructor>,
    /// IFFT with the dual window: overlap-adding its grains reconstructs exactly.
    synthesizer: FrameSynthesizer,
    hop: usize,
    /// The magnitudes played at the current hop, kept while the source reports no change.
    frame: Vec<f32>,
    /// Where the source writes; copied to `frame` only when clean.
    incoming: Vec<f32>,
    /// Overlap-add accumulator: n_fft samples, the first `hop` of which are complete.
    accumulator: Vec<f32>,
    /// Scratch for one grain.
    grain: Vec<f32>,
    /// Samples of the last hop not yet handed to the host.
    ready: Vec<f32>,
    /// Read position in `ready`; `hop` when it is used up.
    read: usize,
}

impl Voice {
    /// A silent voice for `config` using `mode`.
    pub fn new(config: &StftConfig, mode: PhaseMode) -> Self {
        let (n, hop, bins) = (config.n_fft(), config.hop(), config.bins());
        Self {
            reconstructor: mode.build(config),
            synthesizer: FrameSynthesizer::with_dual_window(config),
            hop,
            frame: vec![0.0; bins],
            incoming: vec![0.0; bins],
            accumulator: vec![0.0; n],
            grain: vec![0.0; n],
            ready: vec![0.0; hop],
            read: hop,
        }
    }

    /// Samples between a frame's centre entering (at the start of its hop) and the same
    /// instant leaving: the reconstructor's look-ahead plus half a window.
    pub fn latency_samples(&self) -> usize {
        self.reconstructor.latency_frames() * self.hop + self.accumulator.len() / 2
    }

    /// Samples `render` can produce before the voice pulls its next frame (0: it pulls at the
    /// very next sample). The player uses it to prepare the frames of every voice that steps
    /// at the same instant together.
    pub fn samples_until_step(&self) -> usize {
        self.hop - self.read
    }

    /// Silences the voice at once and forgets its history.
    pub fn reset(&mut self) {
        self.reconstructor.reset();
        self.frame.fill(0.0);
        self.accumulator.fill(0.0);
        self.read = self.hop;
    }

    /// Fills `out` with the next samples, pulling a frame from `source` at every hop boundary.
    pub fn render(&mut self, out: &mut [f32], source: &mut dyn FrameSource) {
        let mut written = 0;
        while written < out.len() {
            if self.read == self.hop {
                self.step(source);
            }
            let n = (self.hop - self.read).min(out.len() - written);
            out[written..written + n].copy_from_slice(&self.ready[self.read..self.read + n]);
            self.read += n;
            written += n;
        }
    }

    /// Runs one hop: next frame, phase, IFFT, overlap-add.
    fn step(&mut self, source: &mut dyn FrameSource) {
        if source.next_frame(&mut self.incoming) {
            accept_frame(&self.incoming, &mut self.frame);
        }
        let spectrum = self.reconstructor.process(&self.frame);
        self.synthesizer.synthesize(spectrum, &mut self.grain);
        for (a, g) in self.accumulator.iter_mut().zip(&self.grain) {
            *a += g;
        }
        let hop = self.hop;
        self.ready.copy_from_slice(&self.accumulator[..hop]);
        self.accumulator.copy_within(hop.., 0);
        let tail = self.accumulator.len() - hop;
        self.accumulator[tail..].fill(0.0);
        for a in &mut self.accumulator {
            if a.abs() < SAMPLE_FLOOR {
                *a = 0.0;
            }
        }
        self.read = 0;
    }
}

/// Copies a frame from a source, or silence if it holds NaN or infinity. Negative values and
/// values below `MAGNITUDE_FLOOR` become 0.
fn accept_frame(incoming: &[f32], frame: &mut [f32]) {
    if incoming.iter().all(|x| x.is_finite()) {
        for (f, &x) in frame.iter_mut().zip(incoming) {
            *f = if x > MAGNITUDE_FLOOR { x } else { 0.0 };
        }
    } else {
        frame.fill(0.0);
    }
}
