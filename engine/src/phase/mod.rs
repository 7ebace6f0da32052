//! Phase reconstruction from STFT magnitudes: real-time RTPGHI and its refined mode, and the
//! offline references (PGHI, Fast Griffin-Lim, PGHI-initialised Fast Griffin-Lim).

mod gradient;
mod integrate;
pub mod offline;
mod queue;
pub mod refined;
pub mod rtpghi;

use realfft::num_complex::Complex32;

/// Relative tolerance below which a coefficient gets random phase, as in the RTPGHI paper:
/// coefficients more than 100 dB under the loudest nearby one carry no usable gradient.
pub const DEFAULT_TOLERANCE: f32 = 1e-5;

/// Writes `mag · e^{iφ}` for each bin into `out`. DC and Nyquist must be real for a real
/// signal, so there the phase is rounded to 0 or π instead of dropping the imaginary part.
pub(crate) fn polar_spectrum(mag: &[f32], phase: &[f32], out: &mut [Complex32]) {
    for ((o, &r), &p) in out.iter_mut().zip(mag).zip(phase) {
        *o = Complex32::from_polar(r, p);
    }
    let last = out.len() - 1;
    for m in [0, last] {
        out[m] = Complex32::new(out[m].re.signum() * mag[m], 0.0);
    }
}

/// A streaming phase reconstructor: magnitude frames in, complex frames out, a fixed number
/// of frames later. Implementations allocate nothing in `process`.
pub trait FrameReconstructor: Send {
    /// Pushes the next magnitude frame and returns the spectrum of the frame
    /// `latency_frames()` pushes earlier (centred phase convention).
    fn process(&mut self, mag: &[f32]) -> &[Complex32];
    /// Frames between a push and its output.
    fn latency_frames(&self) -> usize;
    /// Forgets all history.
    fn reset(&mut self);
}

/// Runs a streaming reconstructor over a whole magnitude spectrogram (flushing its latency with
/// silent frames) and returns the spectrogram it produced, aligned with the input.
pub fn reconstruct_stream(
    reconstructor: &mut dyn FrameReconstructor,
    mags: &crate::grid::TfGrid<f32>,
) -> crate::grid::TfGrid<Complex32> {
    let (frames, bins) = (mags.frames(), mags.bins());
    let latency = reconstructor.latency_frames();
    let silence = vec![0.0; bins];
    let mut out = crate::grid::TfGrid::zeros(frames, bins);
    for j in 0..frames + latency {
        let input = if j < frames { mags.frame(j) } else { &silence };
        let spectrum = reconstructor.process(input);
        if j >= latency {
            out.frame_mut(j - latency).copy_from_slice(spectrum);
        }
    }
    out
}
