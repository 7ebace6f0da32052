//! Band-limited resampling of a mono stream from the model's rate to the host's, on rubato's
//! synchronous FFT resampler, with every buffer allocated up front.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::EngineError;

/// Resamples a mono stream pulled in fixed chunks from a source, handing out any block size.
/// Equal rates pass straight through.
pub struct StreamResampler {
    /// None when the rates are equal.
    resampler: Option<Fft<f32>>,
    /// One chunk of source samples at the input rate.
    input: Vec<f32>,
    /// Resampled samples of the last chunk.
    output: Vec<f32>,
    /// Valid samples in `output`.
    available: usize,
    /// Read position in `output`.
    read: usize,
}

/// Chunks the resampler may swallow without output before we give up and play silence.
const MAX_SILENT_CHUNKS: usize = 64;

/// Upper bound of sample rates the engine accepts.
const MAX_RATE: usize = 768_000;

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz that pulls `chunk` input samples at a time.
    pub fn new(from: usize, to: usize, chunk: usize) -> Result<Self, EngineError> {
        for rate in [from, to] {
            if rate == 0 || rate > MAX_RATE {
                return Err(EngineError::SampleRate(rate));
            }
        }
        let chunk = chunk.max(1);
        let resampler = if from == to {
            None
        } else {
            Some(
                Fft::<f32>::new(from, to, chunk, 1, FixedSync::Input).map_err(|e| {
                    EngineError::Resampler {
                        from,
                        to,
                        reason: e.to_string(),
                    }
                })?,
            )
        };
        let out_len = resampler.as_ref().map_or(chunk, |r| r.output_frames_max());
        Ok(Self {
            resampler,
            input: vec![0.0; chunk],
            output: vec![0.0; out_len],
            available: 0,
            read: 0,
        })
    }

    /// Output samples by which the resampler delays the stream (0 when passing through).
    pub fn delay(&self) -> usize {
        self.resampler.as_ref().map_or(0, |r| r.output_delay())
    }

    /// Fills `out` with resampled audio, calling `fill` for a new chunk of source samples
    /// whenever the previous chunk is used up.
    pub fn render(&mut self, out: &mut [f32], fill: &mut dyn FnMut(&mut [f32])) {
        let mut written = 0;
        while written < out.len() {
            if self.read == self.available {
                self.refill_until_output(fill);
            }
            let n = (self.available - self.read).min(out.len() - written);
            out[written..written + n].copy_from_slice(&self.output[self.read..self.read + n]);
            self.read += n;
            written += n;
        }
    }

    /// Pulls chunks until the resampler yields output (it may buffer a chunk or two first).
    fn refill_until_output(&mut self, fill: &mut dyn FnMut(&mut [f32])) {
        for _ in 0..MAX_SILENT_CHUNKS {
            self.refill(fill);
            if self.available > 0 {
                return;
            }
        }
        self.silence_chunk();
    }

    fn refill(&mut self, fill: &mut dyn FnMut(&mut [f32])) {
        fill(&mut self.input);
        self.read = 0;
        self.available = match &mut self.resampler {
            None => {
                self.output.copy_from_slice(&self.input);
                self.input.len()
            }
            Some(resampler) => {
                let frames_in = self.input.len();
                let frames_out = self.output.len();
                let result = match (
                    InterleavedSlice::new(&self.input[..], 1, frames_in),
                    InterleavedSlice::new_mut(&mut self.output[..], 1, frames_out),
                ) {
                    (Ok(input), Ok(mut output)) => {
                        resampler.process_into_buffer(&input, &mut output, None)
                    }
                    _ => return self.silence_chunk(),
                };
                match result {
                    Ok((_, produced)) => produced,
                    Err(_) => return self.silence_chunk(),
                }
            }
        };
    }

    /// Buffers shaped at construction cannot be rejected; should it happen anyway, play a
    /// chunk of silence rather than fail on the audio thread.
    fn silence_chunk(&mut self) {
        let n = self.output.len().min(self.input.len()).max(1);
        self.output[..n].fill(0.0);
        self.available = n;
        self.read = 0;
    }
}
