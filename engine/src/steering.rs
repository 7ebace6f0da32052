//! Real-time descriptor targets: each voice's latent point follows a target brightness,
//! noisiness, loudness… hop by hop. Probing neighbours by decoding them (Algorithm 1, see
//! [`crate::descriptor_path`]) would multiply the decoding work of every voice; instead a
//! descriptor map of the plane of axes 1–2 is decoded once, off the audio thread, and its
//! gradients give the direction of each move, while the size of the move comes from the
//! voice's own measured descriptor (closed loop, so the map only needs the right direction).
//! [`Steering::update`] and [`Steering::measure`] never allocate.

use crate::axes::{AxisBasis, DescriptorMap, LatentAxes};
use crate::descriptors::{describe, Descriptor, DescriptorSettings};
use crate::model::{ModelFile, ModelFileError};

/// Points per side of the map the gradients come from.
const FIELD_SIZE: usize = 24;
/// The map spans ±this many σ of axes 1–2; voices are kept inside it.
const FIELD_SPAN: f32 = 3.0;
/// Share of the estimated correction taken per hop (below 1 so that a noisy gradient does not
/// make the voice overshoot and ring).
const GAIN: f32 = 0.6;
/// Quantiles of a descriptor over the map that a target amount of 0 and 1 map onto: the
/// middle of what the model reaches, not its rare extremes.
const RANGE_QUANTILES: (f32, f32) = (0.05, 0.95);
/// Frames quieter than this (dB) carry no reliable spectral shape: the voice does not move.
const QUIET_DB: f32 = -90.0;

/// A descriptor target: which descriptor and the value wanted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The descriptor followed.
    pub descriptor: Descriptor,
    /// The value wanted, in the descriptor's unit (Hz, 0–1 or dB).
    pub value: f32,
}

/// One voice's steering state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SteerState {
    /// The voice's displacement along axes 1–2, in σ.
    pub plane: [f32; 2],
    /// The followed descriptor of the frame decoded last (NaN before any).
    pub measured: f32,
}

/// The gradient field of a model's descriptors over the plane of axes 1–2.
pub struct Steering {
    /// The axes moved along: PCA when the model has it, else the raw latent axes.
    axes: LatentAxes,
    /// Axis 1–2 coordinates of the map's centre (the model's audible centre), so a voice's
    /// position on the map is its reading minus this.
    origin: [f32; 2],
    /// Bin spacing and window energy for measuring frames.
    settings: DescriptorSettings,
    /// Per descriptor (in [`Descriptor::ALL`] order) the gradient at each map point, per σ.
    gradients: Vec<[f32; 2]>,
    /// Per descriptor the values a target amount of 0 and 1 stand for.
    ranges: [(f32, f32); Descriptor::ALL.len()],
}

impl Steering {
    /// Decodes the map of `model` around its latent point `centre` (an audible point, see
    /// [`crate::axes::audible_centre`]); a few hundred frames: build it off the audio thread.
    pub fn new(model: &ModelFile, centre: &[f32]) -> Result<Self, ModelFileError> {
        let axes = LatentAxes::new(model, AxisBasis::Pca)
            .or_else(|_| LatentAxes::new(model, AxisBasis::Raw))?;
        let map = DescriptorMap::around(model, &axes, centre, FIELD_SIZE, FIELD_SPAN)?;
        let mut origin = [0.0; 2];
        axes.read(centre, &mut origin);
        let config = model.manifest.signal.stft()?;
        let settings = DescriptorSettings::new(&config, model.manifest.signal.sample_rate as f32);
        let cells = FIELD_SIZE * FIELD_SIZE;
        let mut gradients = vec![[0.0; 2]; Descriptor::ALL.len() * cells];
        let mut ranges = [(0.0, 0.0); Descriptor::ALL.len()];
        let step = 2.0 * FIELD_SPAN / (FIELD_SIZE - 1) as f32;
        for (d, descriptor) in Descriptor::ALL.into_iter().enumerate() {
            let values = map.values(descriptor);
            let at = |row: usize, column: usize| values[row * FIELD_SIZE + column];
            for row in 0..FIELD_SIZE {
                for column in 0..FIELD_SIZE {
                    let (left, right) =
                        (column.saturating_sub(1), (column + 1).min(FIELD_SIZE - 1));
                    let (down, up) = (row.saturating_sub(1), (row + 1).min(FIELD_SIZE - 1));
                    let gx = (at(row, right) - at(row, left)) / ((right - left) as f32 * step);
                    let gy = (at(up, column) - at(down, column)) / ((up - down) as f32 * step);
                    let finite = |g: f32| if g.is_finite() { g } else { 0.0 };
                    gradients[d * cells + row * FIELD_SIZE + column] = [finite(gx), finite(gy)];
                }
            }
            let mut sorted: Vec<f32> = values.into_iter().filter(|v| v.is_finite()).collect();
            sorted.sort_by(f32::total_cmp);
            let quantile = |q: f32| {
                sorted
                    .get(((sorted.len().saturating_sub(1)) as f32 * q).round() as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            ranges[d] = (quantile(RANGE_QUANTILES.0), quantile(RANGE_QUANTILES.1));
        }
        Ok(Self {
            axes,
            origin,
            settings,
            gradients,
            ranges,
        })
    }

    /// The values a target amount of 0 and of 1 stand for (the 5th and 95th percentiles of
    /// `descriptor` over the map).
    pub fn range(&self, descriptor: Descriptor) -> (f32, f32) {
        self.ranges[descriptor_index(descriptor)]
    }

    /// The target `amount` (0–1, clamped; NaN counts as 0.5) of the way through the range.
    pub fn target(&self, descriptor: Descriptor, amount: f32) -> Target {
        let (lo, hi) = self.range(descriptor);
        let amount = if amount.is_nan() {
            0.5
        } else {
            amount.clamp(0.0, 1.0)
        };
        Target {
            descriptor,
            value: lo + (hi - lo) * amount,
        }
    }

    /// `descriptor` of a magnitude frame.
    pub fn measure(&self, frame: &[f32], descriptor: Descriptor) -> f32 {
        let d = describe(frame, &self.settings);
        if d.loudness < QUIET_DB {
            return f32::NAN;
        }
        d.get(descriptor)
    }

    /// Moves `state` one hop toward `target` from the voice's current latent point `z`: a
    /// Newton step along the map's gradient at the voice's position in the plane, limited to
    /// `max_step` σ. Without a target the displacement returns toward 0 at the same pace.
    pub fn update(&self, state: &mut SteerState, target: Option<Target>, z: &[f32], max_step: f32) {
        let max_step = if max_step.is_finite() {
            max_step.max(0.0)
        } else {
            0.0
        };
        let wanted = match target {
            Some(t) if t.value.is_finite() && state.measured.is_finite() => {
                let mut at = [0.0; 2];
                self.axes.read(z, &mut at);
                let g = self.gradient(
                    t.descriptor,
                    [at[0] - self.origin[0], at[1] - self.origin[1]],
                );
                let norm = g[0] * g[0] + g[1] * g[1];
                if norm <= f32::EPSILON {
                    [0.0; 2]
                } else {
                    let scale = GAIN * (t.value - state.measured) / norm;
                    [scale * g[0], scale * g[1]]
                }
            }
            Some(_) => [0.0; 2],
            None => [-state.plane[0], -state.plane[1]],
        };
        let length = (wanted[0] * wanted[0] + wanted[1] * wanted[1]).sqrt();
        let shrink = if length > max_step {
            max_step / length
        } else {
            1.0
        };
        for (p, w) in state.plane.iter_mut().zip(wanted) {
            let moved = *p + w * shrink;
            *p = if moved.is_finite() {
                moved.clamp(-FIELD_SPAN, FIELD_SPAN)
            } else {
                0.0
            };
        }
    }

    /// Adds the latent displacement of `state` to `z`.
    pub fn displace(&self, state: &SteerState, z: &mut [f32]) {
        self.axes.displace(&state.plane, z);
    }

    /// The gradient of `descriptor` at plane position `at` (σ), bilinearly interpolated and
    /// held at the map's border.
    fn gradient(&self, descriptor: Descriptor, at: [f32; 2]) -> [f32; 2] {
        let cells = FIELD_SIZE * FIELD_SIZE;
        let field = &self.gradients[descriptor_index(descriptor) * cells..][..cells];
        let grid = |v: f32| {
            let v = if v.is_finite() { v } else { 0.0 };
            ((v + FIELD_SPAN) / (2.0 * FIELD_SPAN) * (FIELD_SIZE - 1) as f32)
                .clamp(0.0, (FIELD_SIZE - 1) as f32)
        };
        let (x, y) = (grid(at[0]), grid(at[1]));
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(FIELD_SIZE - 1), (y0 + 1).min(FIELD_SIZE - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let mut out = [0.0; 2];
        for (k, o) in out.iter_mut().enumerate() {
            let g = |r: usize, c: usize| field[r * FIELD_SIZE + c][k];
            let bottom = g(y0, x0) * (1.0 - fx) + g(y0, x1) * fx;
            let top = g(y1, x0) * (1.0 - fx) + g(y1, x1) * fx;
            *o = bottom * (1.0 - fy) + top * fy;
        }
        out
    }
}

/// Position of `descriptor` in [`Descriptor::ALL`].
fn descriptor_index(descriptor: Descriptor) -> usize {
    Descriptor::ALL
        .iter()
        .position(|&d| d == descriptor)
        .unwrap_or(0)
}
