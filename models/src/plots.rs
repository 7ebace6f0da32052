//! PNG plots of `eval`: the latent map (first two PCA axes of the training points) coloured by
//! each label, and the training curves.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::FontStyle;
use timbrespace_engine::model::manifest::EpochRecord;

/// A training curve: its legend, colour and the value it plots.
type Curve = (&'static str, RGBColor, fn(&EpochRecord) -> f64);

/// Font family name the plots register DejaVu Sans under (no system fonts are needed).
pub(crate) const FONT: &str = "sans-serif";

/// Plotting failed (a file could not be written).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw {path}: {reason}")]
pub struct PlotError {
    /// The image.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

/// Make the embedded font available to plotters (idempotent).
pub(crate) fn register_font() {
    // Registering twice only replaces the same bytes; a failure leaves plots without text.
    let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
}

/// Scatter of 2-D points coloured by class (`None` drawn grey), with a legend.
pub fn latent_map(
    path: &Path,
    title: &str,
    points: &[(f64, f64)],
    classes: &[Option<usize>],
    names: &[String],
) -> Result<(), PlotError> {
    register_font();
    let fail = |e: String| PlotError {
        path: path.display().to_string(),
        reason: e,
    };
    let root = BitMapBackend::new(path, (900, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let range = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let pad = ((hi - lo) * 0.05).max(1e-6);
        if lo.is_finite() {
            (lo - pad)..(hi + pad)
        } else {
            -1.0..1.0
        }
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(range(&xs), range(&ys))
        .map_err(|e| fail(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("PCA 1")
        .y_desc("PCA 2")
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    let colour = |c: usize| Palette99::pick(c).to_rgba();
    chart
        .draw_series(
            points
                .iter()
                .zip(classes)
                .filter(|(_, c)| c.is_none())
                .map(|(&(x, y), _)| Circle::new((x, y), 2, RGBColor(190, 190, 190).filled())),
        )
        .map_err(|e| fail(e.to_string()))?;
    for (k, name) in names.iter().enumerate() {
        let style = colour(k).filled();
        chart
            .draw_series(
                points
                    .iter()
                    .zip(classes)
                    .filter(|(_, c)| **c == Some(k))
                    .map(move |(&(x, y), _)| Circle::new((x, y), 2, style)),
            )
            .map_err(|e| fail(e.to_string()))?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x, y), 4, colour(k).filled()));
    }
    if names.len() <= 40 {
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(e.to_string()))?;
    }
    root.present().map_err(|e| fail(e.to_string()))
}

/// Train and test loss per epoch.
pub fn training_curves(path: &Path, history: &[EpochRecord]) -> Result<(), PlotError> {
    register_font();
    let fail = |e: String| PlotError {
        path: path.display().to_string(),
        reason: e,
    };
    let root = BitMapBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let values: Vec<f64> = history
        .iter()
        .flat_map(|r| [r.train_loss, r.test_loss])
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let epochs = history.len().max(2) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("Training curves", (FONT, 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(1.0..epochs, lo..hi + (hi - lo) * 0.05)
        .map_err(|e| fail(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss per frame")
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    let curves: [Curve; 2] = [
        ("train", BLUE, |r| r.train_loss),
        ("test", RED, |r| r.test_loss),
    ];
    for (name, colour, value) in curves {
        chart
            .draw_series(LineSeries::new(
                history.iter().map(|r| (r.epoch as f64, value(r))),
                colour.stroke_width(2),
            ))
            .map_err(|e| fail(e.to_string()))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))
}

/// A descriptor map as a heat map over the plane of axes 1–2 (dark blue = lowest, yellow =
/// highest), with the value range in the caption.
pub fn descriptor_heat_map(
    path: &Path,
    title: &str,
    size: usize,
    span: f32,
    values: &[f32],
) -> Result<(), PlotError> {
    register_font();
    let fail = |e: String| PlotError {
        path: path.display().to_string(),
        reason: e,
    };
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let root = BitMapBackend::new(path, (760, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let span = f64::from(span);
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{title} ({lo:.3} … {hi:.3})"), (FONT, 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-span..span, -span..span)
        .map_err(|e| fail(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("axis 1 (σ)")
        .y_desc("axis 2 (σ)")
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    let cell = 2.0 * span / (size.max(2) - 1) as f64;
    let colour = |v: f32| {
        let t = if hi > lo {
            f64::from((v - lo) / (hi - lo))
        } else {
            0.5
        };
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        HSLColor(0.66 - 0.5 * t, 0.8, 0.2 + 0.5 * t)
    };
    chart
        .draw_series(values.iter().enumerate().map(|(i, &v)| {
            let (row, column) = (i / size, i % size);
            let (x, y) = (-span + column as f64 * cell, -span + row as f64 * cell);
            Rectangle::new(
                [
                    (x - cell / 2.0, y - cell / 2.0),
                    (x + cell / 2.0, y + cell / 2.0),
                ],
                colour(v).filled(),
            )
        }))
        .map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))
}

/// How [`roll_panels`] colours cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellShading {
    /// Probabilities 0–1, white to black.
    Probability,
    /// Signed weights scaled by each panel's largest magnitude: red positive, blue negative.
    Signed,
}

/// Piano rolls side by side in a grid of `columns`, each under its caption; row 0 at the
/// bottom, time to the right.
pub fn roll_panels(
    path: &Path,
    title: &str,
    panels: &[(String, &crate::motifs::piano_roll::PianoRoll)],
    columns: usize,
    shading: CellShading,
) -> Result<(), PlotError> {
    register_font();
    let fail = |e: String| PlotError {
        path: path.display().to_string(),
        reason: e,
    };
    let columns = columns.clamp(1, panels.len().max(1));
    let lines = panels.len().div_ceil(columns).max(1);
    let (width, height) = ((columns * 160) as u32, (lines * 130 + 40) as u32);
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let root = root
        .titled(title, (FONT, 20))
        .map_err(|e| fail(e.to_string()))?;
    for ((caption, roll), area) in panels.iter().zip(root.split_evenly((lines, columns))) {
        let scale = roll.cells.iter().fold(1e-9f32, |m, &v| m.max(v.abs()));
        let area = area.margin(4, 4, 4, 4);
        let area = area
            .titled(caption, (FONT, 12))
            .map_err(|e| fail(e.to_string()))?;
        let (w, h) = area.dim_in_pixel();
        let (cw, ch) = (
            f64::from(w) / roll.steps.max(1) as f64,
            f64::from(h) / roll.rows.max(1) as f64,
        );
        for row in 0..roll.rows {
            for step in 0..roll.steps {
                let v = roll.cells[row * roll.steps + step];
                let colour = match shading {
                    CellShading::Probability => {
                        let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                        RGBColor(g, g, g)
                    }
                    CellShading::Signed => {
                        let a = (255.0 * (1.0 - (v.abs() / scale).min(1.0))) as u8;
                        if v >= 0.0 {
                            RGBColor(255, a, a)
                        } else {
                            RGBColor(a, a, 255)
                        }
                    }
                };
                let x0 = (step as f64 * cw) as i32;
                let y0 = (f64::from(h) - (row + 1) as f64 * ch) as i32;
                let (x1, y1) = (
                    ((step + 1) as f64 * cw) as i32,
                    (f64::from(h) - row as f64 * ch) as i32,
                );
                area.draw(&Rectangle::new([(x0, y0), (x1, y1)], colour.filled()))
                    .map_err(|e| fail(e.to_string()))?;
            }
        }
        area.draw(&Rectangle::new(
            [(0, 0), (w as i32 - 1, h as i32 - 1)],
            RGBColor(160, 160, 160),
        ))
        .map_err(|e| fail(e.to_string()))?;
    }
    root.present().map_err(|e| fail(e.to_string()))
}
