//! The latent map: the training points in the plane of axes 1–2 of the chosen projection,
//! coloured by a label, with the sounding voices and the axes' cursor. Dragging the cursor
//! moves axes 1–2 (inside parameter gestures, so hosts record automation).

use std::sync::Arc;

use egui::{Color32, Pos2, Sense, Stroke, Ui, Vec2};
use nice_plug::prelude::ParamSetter;
use timbrespace_engine::axes::{AxisBasis, DescriptorMap, LatentAxes};
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::ModelFile;

use crate::params::{rotate, TimbrespaceParams, AXIS_SIGMAS};

/// Training points drawn at most (a random-looking but fixed subset beyond that).
const MAX_POINTS: usize = 4000;
/// Points per side of the descriptor map drawn under the training points.
const DESCRIPTOR_GRID: usize = 32;
/// The map shows ± this many σ (a little more than the axes' range, so the edges show).
const VIEW_SIGMAS: f32 = AXIS_SIGMAS * 1.1;

/// The training points of one model in one basis, ready to draw.
pub struct MapPoints {
    /// The model they belong to (to notice a new model).
    model: Arc<ModelFile>,
    /// The basis they are projected on.
    basis: AxisBasis,
    /// The label kind they are coloured by.
    colour_by: usize,
    /// The axes (to place voices).
    pub axes: LatentAxes,
    /// (axis 1, axis 2) in σ and the class of each point (None: unlabelled).
    points: Vec<(f32, f32, Option<usize>)>,
    /// The descriptors of the sounds over the visible square (None if decoding failed).
    descriptors: Option<DescriptorMap>,
}

impl MapPoints {
    /// Projects `model`'s training points on `basis`, coloured by label kind `colour_by`.
    pub fn new(model: Arc<ModelFile>, basis: AxisBasis, colour_by: usize) -> Option<Self> {
        let axes = LatentAxes::new(&model, basis)
            .or_else(|_| LatentAxes::new(&model, AxisBasis::Raw))
            .ok()?;
        let latent = model.manifest.architecture.latent;
        let mu = model.tensor(POINTS_MU).ok()?;
        let labels = model.tensor(POINTS_LABELS).ok()?;
        let kinds = model.manifest.labels.len();
        let n = mu.data.len() / latent.max(1);
        let stride = n.div_ceil(MAX_POINTS).max(1);
        let mut coords = [0.0f32; 2];
        let points = (0..n)
            .step_by(stride)
            .map(|i| {
                axes.read(&mu.data[i * latent..(i + 1) * latent], &mut coords);
                let class = (colour_by < kinds)
                    .then(|| labels.data[i * kinds + colour_by])
                    .filter(|&c| c >= 0.0)
                    .map(|c| c as usize);
                (coords[0], coords[1], class)
            })
            .collect();
        // The model's stored maps when they are of this basis, else ≈ 1000 decodes: tens of
        // milliseconds, once per model and projection.
        let descriptors = match DescriptorMap::stored(&model) {
            Ok(Some((stored, map))) if stored == axes.basis() => Some(map),
            _ => DescriptorMap::new(&model, &axes, DESCRIPTOR_GRID, VIEW_SIGMAS).ok(),
        };
        Some(Self {
            model,
            basis,
            colour_by,
            axes,
            points,
            descriptors,
        })
    }

    /// Whether these points are still the ones to draw.
    pub fn is_for(&self, model: &Arc<ModelFile>, basis: AxisBasis, colour_by: usize) -> bool {
        Arc::ptr_eq(&self.model, model) && self.basis == basis && self.colour_by == colour_by
    }
}

/// A distinct colour for class `c`.
fn class_colour(c: Option<usize>) -> Color32 {
    match c {
        None => Color32::from_gray(90),
        Some(c) => {
            let hue = (c as f32 * 0.618_034).fract();
            let rgb = egui::ecolor::Hsva::new(hue, 0.65, 0.9, 1.0).to_srgb();
            Color32::from_rgb(rgb[0], rgb[1], rgb[2])
        }
    }
}

/// What moves on the map.
pub struct Marks<'a> {
    /// The sounding voices' latent points.
    pub voices: &'a [Vec<f32>],
    /// The agent's recent positions on axes 1–2 (σ, before the rotation), oldest first;
    /// empty while it is off.
    pub agent_path: &'a [[f32; 2]],
}

/// Draws the map in a square of `size` points, over a heat map of `background` if chosen,
/// with the voices and the agent's path, and handles dragging the cursor.
pub fn show(
    ui: &mut Ui,
    size: f32,
    map: &MapPoints,
    background: Option<Descriptor>,
    marks: &Marks,
    params: &TimbrespaceParams,
    setter: &ParamSetter,
) {
    let (response, painter) = ui.allocate_painter(Vec2::splat(size), Sense::drag());
    let rect = response.rect;
    painter.rect_filled(rect, 4.0, Color32::from_gray(18));
    let span = VIEW_SIGMAS;
    let to_screen = |x: f32, y: f32| {
        Pos2::new(
            rect.center().x + x / span * rect.width() * 0.5,
            rect.center().y - y / span * rect.height() * 0.5,
        )
    };
    if let (Some(descriptor), Some(grid)) = (background, &map.descriptors) {
        draw_heat_map(&painter, rect, &to_screen, grid, descriptor);
    }
    let grid = Stroke::new(1.0, Color32::from_gray(40));
    painter.line_segment([to_screen(-span, 0.0), to_screen(span, 0.0)], grid);
    painter.line_segment([to_screen(0.0, -span), to_screen(0.0, span)], grid);
    for &(x, y, class) in &map.points {
        let p = to_screen(x, y);
        if rect.contains(p) {
            painter.circle_filled(p, 1.6, class_colour(class));
        }
    }
    let degrees = params.rotation.value();
    draw_agent_path(&painter, &to_screen, marks.agent_path, degrees);
    let mut coords = [0.0f32; 2];
    for z in marks.voices {
        map.axes.read(z, &mut coords);
        let p = to_screen(coords[0], coords[1]);
        painter.circle_stroke(p, 5.0, Stroke::new(2.0, Color32::WHITE));
    }
    // The cursor sits where axes 1–2 put the sound after the rotation.
    let (a, b) = rotate(
        params.axes[0].value.value(),
        params.axes[1].value.value(),
        degrees,
    );
    let cursor = to_screen(a, b);
    painter.circle_stroke(
        cursor,
        7.0,
        Stroke::new(2.0, Color32::from_rgb(255, 200, 60)),
    );
    let (first, second) = (&params.axes[0].value, &params.axes[1].value);
    if response.drag_started() {
        setter.begin_set_parameter(first);
        setter.begin_set_parameter(second);
    }
    if response.dragged() {
        if let Some(pos) = response.interact_pointer_pos() {
            let x = (pos.x - rect.center().x) / (rect.width() * 0.5) * span;
            let y = -(pos.y - rect.center().y) / (rect.height() * 0.5) * span;
            // Undo the rotation: the cursor follows the pointer.
            let (a, b) = rotate(x, y, -degrees);
            setter.set_parameter(first, a.clamp(-AXIS_SIGMAS, AXIS_SIGMAS));
            setter.set_parameter(second, b.clamp(-AXIS_SIGMAS, AXIS_SIGMAS));
        }
    }
    if response.drag_stopped() {
        setter.end_set_parameter(first);
        setter.end_set_parameter(second);
    }
}

/// The agent's path as a line that brightens toward its present position, turned like the
/// cursor by the rotation `degrees`.
fn draw_agent_path(
    painter: &egui::Painter,
    to_screen: &dyn Fn(f32, f32) -> Pos2,
    path: &[[f32; 2]],
    degrees: f32,
) {
    let points: Vec<Pos2> = path
        .iter()
        .map(|&[a, b]| {
            let (x, y) = rotate(a, b, degrees);
            to_screen(x, y)
        })
        .collect();
    let n = points.len().max(1) as f32;
    for (i, pair) in points.windows(2).enumerate() {
        let alpha = (40.0 + 215.0 * (i + 1) as f32 / n) as u8;
        painter.line_segment(
            [pair[0], pair[1]],
            Stroke::new(1.5, Color32::from_rgba_unmultiplied(80, 220, 255, alpha)),
        );
    }
    if let Some(&last) = points.last() {
        painter.circle_filled(last, 4.0, Color32::from_rgb(80, 220, 255));
    }
}

/// The descriptor map as dim coloured cells (dark blue = lowest, amber = highest), each
/// placed by `to_screen` (plane σ → screen) and clipped to `rect`.
fn draw_heat_map(
    painter: &egui::Painter,
    rect: egui::Rect,
    to_screen: &dyn Fn(f32, f32) -> Pos2,
    grid: &DescriptorMap,
    descriptor: Descriptor,
) {
    let values = grid.values(descriptor);
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    // Cell centres are grid points; each cell reaches half a step either side.
    let step = 2.0 * grid.span / (grid.size.max(2) - 1) as f32;
    for (i, &v) in values.iter().enumerate() {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        let (row, column) = (i / grid.size, i % grid.size);
        let (x, y) = (
            -grid.span + column as f32 * step,
            -grid.span + row as f32 * step,
        );
        let cell = egui::Rect::from_two_pos(
            to_screen(x - 0.5 * step, y - 0.5 * step),
            to_screen(x + 0.5 * step, y + 0.5 * step),
        )
        .intersect(rect);
        let colour = Color32::from_rgb(
            (20.0 + 120.0 * t) as u8,
            (25.0 + 70.0 * t) as u8,
            (70.0 - 50.0 * t) as u8,
        );
        if cell.is_positive() {
            painter.rect_filled(cell.expand(0.25), 0.0, colour);
        }
    }
}
