//! Motif mode's preview: the motif the current settings make, as a piano roll (pitch up, time
//! right), each cell shaded by its onset probability and the cells that play drawn in orange.
//! Decoded on the GUI thread from the same bank the audio thread plays.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, Sense, Ui, Vec2};
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_engine::motif::pattern::{MotifSettings, Pattern};

/// The bank and the motif decoded from it (GUI thread only).
pub struct MotifView {
    /// The motifs.
    bank: Arc<MotifBank>,
    /// The one shown.
    pattern: Pattern,
}

impl MotifView {
    /// A preview of `bank`'s motifs.
    pub fn new(bank: Arc<MotifBank>) -> Self {
        Self {
            pattern: Pattern::new(&bank),
            bank,
        }
    }

    /// Draws the motif of `bank` (the one playing) at `settings` in `width × height`.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        bank: &Arc<MotifBank>,
        settings: &MotifSettings,
        width: f32,
        height: f32,
    ) {
        if !Arc::ptr_eq(bank, &self.bank) {
            *self = Self::new(bank.clone());
        }
        self.pattern.update(&self.bank, settings);
        let (response, painter) = ui.allocate_painter(Vec2::new(width, height), Sense::hover());
        let rect = response.rect;
        painter.rect_filled(rect, 4.0, Color32::from_gray(18));
        let (rows, steps) = (self.pattern.rows(), self.pattern.steps());
        let cell = Vec2::new(
            rect.width() / steps as f32,
            rect.height() / rows.max(1) as f32,
        );
        let probabilities = self.pattern.probabilities();
        for row in 0..rows {
            for step in 0..steps {
                let min = Pos2::new(
                    rect.left() + step as f32 * cell.x,
                    rect.bottom() - (row + 1) as f32 * cell.y,
                );
                let colour = if self.pattern.plays(row, step) {
                    Color32::from_rgb(255, 160, 40)
                } else {
                    let p = probabilities[row * steps + step].clamp(0.0, 1.0);
                    Color32::from_gray((18.0 + 140.0 * p) as u8)
                };
                painter.rect_filled(Rect::from_min_size(min, cell * 0.9), 1.0, colour);
            }
        }
        // A line at every beat.
        for beat in (0..steps).step_by(4) {
            let x = rect.left() + beat as f32 * cell.x;
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                (1.0, Color32::from_gray(60)),
            );
        }
        let pitch = if settings.pitch_shift == 0 {
            String::new()
        } else {
            format!(", {:+} st", settings.pitch_shift)
        };
        let learned = match self.bank.learned_shifts() {
            Some((pitch, time)) => format!(
                "\nshifts up to {pitch} semitones and {time} steps move along the motif \
                 space's learned directions"
            ),
            None => String::new(),
        };
        response.on_hover_text(format!(
            "motif {:.0} % of the way through {} motifs{pitch}; C4 plays it as written\nfrom \
             {}{learned}",
            100.0 * settings.position,
            self.bank.len(),
            self.bank.source()
        ));
    }
}
