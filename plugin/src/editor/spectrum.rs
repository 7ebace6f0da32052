//! A live spectrum of the instrument's output, from the samples the audio thread publishes.

use std::sync::Arc;

use egui::{Color32, Pos2, Sense, Stroke, Ui, Vec2};
use realfft::{RealFftPlanner, RealToComplex};

use crate::shared::SCOPE;

/// Lowest level shown, dB.
const FLOOR_DB: f32 = -96.0;

/// The FFT and its buffers (GUI thread only).
pub struct Spectrum {
    /// The forward FFT of `SCOPE` samples.
    fft: Arc<dyn RealToComplex<f32>>,
    /// Hann window.
    window: Vec<f32>,
    /// Windowed samples.
    input: Vec<f32>,
    /// FFT output.
    output: Vec<realfft::num_complex::Complex32>,
}

impl Default for Spectrum {
    fn default() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(SCOPE);
        let window = (0..SCOPE)
            .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / SCOPE as f32).cos())
            .collect();
        Self {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            fft,
            window,
        }
    }
}

impl Spectrum {
    /// Draws the spectrum of `samples` (log frequency from 20 Hz, dB) in `width × height`.
    pub fn show(&mut self, ui: &mut Ui, samples: &[f32], rate: f32, width: f32, height: f32) {
        let (response, painter) = ui.allocate_painter(Vec2::new(width, height), Sense::hover());
        let rect = response.rect;
        painter.rect_filled(rect, 4.0, Color32::from_gray(18));
        for ((x, s), w) in self.input.iter_mut().zip(samples).zip(&self.window) {
            *x = s * w;
        }
        if self.fft.process(&mut self.input, &mut self.output).is_err() {
            return;
        }
        let nyquist = rate * 0.5;
        let (lo, hi) = (20f32.ln(), nyquist.max(40.0).ln());
        let norm = 2.0 / (SCOPE as f32 * 0.5);
        let line: Vec<Pos2> = self
            .output
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, c)| {
                let f = k as f32 * rate / SCOPE as f32;
                let db = (20.0 * (c.norm() * norm).max(1e-9).log10()).max(FLOOR_DB);
                Pos2::new(
                    rect.left() + (f.max(20.0).ln() - lo) / (hi - lo) * rect.width(),
                    rect.top() + db / FLOOR_DB * rect.height(),
                )
            })
            .collect();
        painter.add(egui::Shape::line(
            line,
            Stroke::new(1.5, Color32::from_rgb(120, 200, 255)),
        ));
    }
}
