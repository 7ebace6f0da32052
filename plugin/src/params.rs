//! The instrument's parameters (automatable by the host) and persisted fields (saved with the
//! host's project), and their snapshot as plain values for the processing code.

use std::sync::atomic::AtomicU8;
use std::sync::Arc;

use nice_plug::prelude::*;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use timbrespace_engine::axes::AxisBasis;
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::motif::pattern::MotifSettings;
use timbrespace_engine::phase::refined::RefineSettings;
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::player::{Envelope, PlayMode, DEFAULT_ROOT_KEY};
use timbrespace_engine::voice::PhaseMode;

use crate::agent::SavedAgent;

/// Latent axes offered as parameters (axes beyond a model's latent size are inert).
pub const AXES: usize = 16;
/// Each axis spans ± this many standard deviations of the training points.
pub const AXIS_SIGMAS: f32 = 3.0;
/// The Transpose parameter's range, semitones either way.
pub const TRANSPOSE_RANGE: f32 = 24.0;

/// Where notes get their sound.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeParam {
    /// From their symbols; the axes add offsets.
    #[id = "notes"]
    Notes,
    /// From the axes alone; MIDI gates and scales.
    #[id = "free"]
    Free,
    /// A held key plays a motif from the motif bank, rooted on it, in time with the host; the
    /// motif's notes sound as in notes mode.
    #[id = "motif"]
    Motif,
}

/// Which axes the sliders move along.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionParam {
    /// The latent dimensions.
    #[id = "raw"]
    Raw,
    /// Principal components.
    #[id = "pca"]
    #[name = "PCA"]
    Pca,
    /// Independent components.
    #[id = "ica"]
    #[name = "ICA"]
    Ica,
}

/// Phase reconstruction.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseParam {
    /// RTPGHI with one frame of look-ahead (centred phase derivatives).
    #[id = "rtpghi"]
    #[name = "RTPGHI"]
    Rtpghi,
    /// RTPGHI without look-ahead: one hop less latency, slightly rougher phase.
    #[id = "rtpghi-0"]
    #[name = "RTPGHI (low latency)"]
    LowLatency,
    /// RTPGHI refined by a few consistency iterations: cleaner, more latency.
    #[id = "refined"]
    Refined,
}

impl PhaseParam {
    /// The engine's mode.
    pub fn mode(self) -> PhaseMode {
        match self {
            PhaseParam::Rtpghi => PhaseMode::Rtpghi(Lookahead::One),
            PhaseParam::LowLatency => PhaseMode::Rtpghi(Lookahead::Zero),
            PhaseParam::Refined => PhaseMode::Refined(RefineSettings::default()),
        }
    }
}

/// The descriptor voices follow a target value of (thesis Algorithm 1, in real time).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetParam {
    /// No target: the axes and notes alone set the sound.
    #[id = "off"]
    Off,
    /// Spectral centroid.
    #[id = "centroid"]
    Brightness,
    /// Spectral bandwidth.
    #[id = "bandwidth"]
    Bandwidth,
    /// Spectral flatness.
    #[id = "flatness"]
    Noisiness,
    /// Spectral roll-off.
    #[id = "rolloff"]
    #[name = "Roll-off"]
    Rolloff,
    /// Level.
    #[id = "loudness"]
    Loudness,
}

impl TargetParam {
    /// The engine's descriptor, or `None` for Off.
    pub fn descriptor(self) -> Option<Descriptor> {
        match self {
            TargetParam::Off => None,
            TargetParam::Brightness => Some(Descriptor::Centroid),
            TargetParam::Bandwidth => Some(Descriptor::Bandwidth),
            TargetParam::Noisiness => Some(Descriptor::Flatness),
            TargetParam::Rolloff => Some(Descriptor::Rolloff),
            TargetParam::Loudness => Some(Descriptor::Loudness),
        }
    }
}

/// How many axes the co-exploration agent moves (*ægo* grows them 1, 2, 4, 8).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentDimsParam {
    /// Axis 1.
    #[id = "1"]
    #[name = "1 axis"]
    One,
    /// Axes 1–2 (the map's plane).
    #[id = "2"]
    #[name = "2 axes"]
    Two,
    /// Axes 1–4.
    #[id = "4"]
    #[name = "4 axes"]
    Four,
    /// Axes 1–8.
    #[id = "8"]
    #[name = "8 axes"]
    Eight,
}

impl AgentDimsParam {
    /// The number of axes.
    pub fn count(self) -> usize {
        match self {
            AgentDimsParam::One => 1,
            AgentDimsParam::Two => 2,
            AgentDimsParam::Four => 4,
            AgentDimsParam::Eight => 8,
        }
    }
}

/// The Motif pitch parameter's range, semitones either way.
pub const MOTIF_PITCH_RANGE: i32 = 24;
/// The Motif shift parameter's range, sixteenth-note steps either way.
pub const MOTIF_SHIFT_RANGE: i32 = 16;

/// MIDI CC numbers that give the agent feedback unless the musician maps others.
pub const REWARD_CCS: (u8, u8) = (20, 21);

/// Editor choices saved with the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorSettings {
    /// The label kind the map colours training points by (empty: the model's first).
    pub colour_by: String,
    /// The descriptor drawn under the map (empty: none).
    #[serde(default)]
    pub background: String,
}

impl Default for EditorSettings {
    /// A new instance shows brightness under the map.
    fn default() -> Self {
        Self {
            colour_by: String::new(),
            background: "centroid".into(),
        }
    }
}

/// One latent axis.
#[derive(Params)]
pub struct AxisParam {
    /// Position in standard deviations of the training points along the axis.
    #[id = "axis"]
    pub value: FloatParam,
}

impl AxisParam {
    fn new(index: usize) -> Self {
        Self {
            value: FloatParam::new(
                format!("Axis {}", index + 1),
                0.0,
                FloatRange::Linear {
                    min: -AXIS_SIGMAS,
                    max: AXIS_SIGMAS,
                },
            )
            .with_unit(" σ")
            .with_step_size(0.01),
        }
    }
}

/// Everything the host sees and saves.
#[derive(Params)]
pub struct TimbrespaceParams {
    /// The model file the user loaded; empty for the embedded default.
    #[persist = "model-path"]
    pub model_path: Arc<RwLock<String>>,
    /// The motif bank the user loaded for Motif mode; empty for the embedded one.
    #[persist = "motif-path"]
    pub motif_path: Arc<RwLock<String>>,
    /// Editor choices.
    #[persist = "editor"]
    pub editor: Arc<RwLock<EditorSettings>>,
    /// Notes or free navigation.
    #[id = "mode"]
    pub mode: EnumParam<ModeParam>,
    /// Raw, PCA or ICA axes.
    #[id = "projection"]
    pub projection: EnumParam<ProjectionParam>,
    /// The latent axes.
    #[nested(array, group = "Latent axes")]
    pub axes: [AxisParam; AXES],
    /// Rotation of the plane of axes 1–2, in degrees.
    #[id = "rotation"]
    pub rotation: FloatParam,
    /// Position among the model's instruments, 0 = first, 1 = last; between them it morphs.
    #[id = "instrument"]
    pub instrument: FloatParam,
    /// Envelope attack, seconds.
    #[id = "attack"]
    pub attack: FloatParam,
    /// Envelope decay, seconds.
    #[id = "decay"]
    pub decay: FloatParam,
    /// Envelope sustain level.
    #[id = "sustain"]
    pub sustain: FloatParam,
    /// Envelope release, seconds.
    #[id = "release"]
    pub release: FloatParam,
    /// Pitch-bend range in semitones.
    #[id = "bend-range"]
    pub bend_range: IntParam,
    /// Transposition of every note in semitones: notes mode moves the pitch symbol, free mode
    /// moves along the model's learned pitch direction.
    #[id = "transpose"]
    pub transpose: FloatParam,
    /// The key at which free mode plays the sound untransposed (models with a pitch
    /// direction).
    #[id = "root-key"]
    pub root_key: IntParam,
    /// Motif mode: position along the bank's motifs, 0 = first, 1 = last; between two it
    /// morphs their codes.
    #[id = "motif-position"]
    pub motif_position: FloatParam,
    /// Motif mode: how many of the motif's onsets play (0 = only the surest, 1 = every faint
    /// one).
    #[id = "motif-density"]
    pub motif_density: FloatParam,
    /// Motif mode: semitones the motif is transposed by (with a motif-space bank, as far as
    /// the space learned it, a move along its pitch direction; the rest added to every note).
    #[id = "motif-pitch"]
    pub motif_pitch: IntParam,
    /// Motif mode: sixteenth-note steps the motif starts later (it loops; with a motif-space
    /// bank, as far as the space learned it, a move along its time direction).
    #[id = "motif-shift"]
    pub motif_shift: IntParam,
    /// Phase reconstruction mode.
    #[id = "phase"]
    pub phase: EnumParam<PhaseParam>,
    /// The descriptor every voice follows a target of.
    #[id = "target"]
    pub target: EnumParam<TargetParam>,
    /// The target, 0–1 across what the model reaches of that descriptor.
    #[id = "target-value"]
    pub target_value: FloatParam,
    /// Output gain (linear, shown in dB).
    #[id = "gain"]
    pub gain: FloatParam,
    /// The co-exploration agent moves the sound.
    #[id = "agent-on"]
    pub agent_on: BoolParam,
    /// How many axes it moves.
    #[id = "agent-dims"]
    pub agent_dims: EnumParam<AgentDimsParam>,
    /// Time between its moves, seconds.
    #[id = "agent-rate"]
    pub agent_rate: FloatParam,
    /// 0 = seek what it has not heard, 1 = follow what the musician rewarded.
    #[id = "agent-exploit"]
    pub agent_exploit: FloatParam,
    /// Momentary: the musician likes what they hear (the agent reacts when it turns on).
    #[id = "reward-plus"]
    pub reward_plus: BoolParam,
    /// Momentary: the musician dislikes what they hear.
    #[id = "reward-minus"]
    pub reward_minus: BoolParam,
    /// Momentary: the agent forgets what it learned and returns to the sliders.
    #[id = "agent-reset"]
    pub agent_reset: BoolParam,
    /// What the agent learned, saved with the project.
    #[persist = "agent"]
    pub agent_memory: Arc<RwLock<SavedAgent>>,
    /// MIDI CC that gives "Reward +" (a value of 64 or more presses it).
    #[persist = "reward-plus-cc"]
    pub reward_plus_cc: Arc<AtomicU8>,
    /// MIDI CC that gives "Reward −".
    #[persist = "reward-minus-cc"]
    pub reward_minus_cc: Arc<AtomicU8>,
}

/// A time parameter from `min` to `max` seconds, finer near zero.
fn seconds(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_unit(" s")
    .with_value_to_string(formatters::v2s_f32_rounded(3))
}

impl TimbrespaceParams {
    /// The parameters at their defaults; `instruments` names the current model's instruments
    /// for the Instrument parameter's display (updated when a model loads), `model_path` and
    /// `motif_path` are the persisted paths the session reads and `agent_memory` the agent's.
    pub fn new(
        instruments: Arc<RwLock<Vec<String>>>,
        model_path: Arc<RwLock<String>>,
        motif_path: Arc<RwLock<String>>,
        agent_memory: Arc<RwLock<SavedAgent>>,
    ) -> Self {
        Self {
            model_path,
            motif_path,
            agent_memory,
            reward_plus_cc: Arc::new(AtomicU8::new(REWARD_CCS.0)),
            reward_minus_cc: Arc::new(AtomicU8::new(REWARD_CCS.1)),
            editor: Arc::new(RwLock::new(EditorSettings::default())),
            mode: EnumParam::new("Mode", ModeParam::Notes),
            projection: EnumParam::new("Projection", ProjectionParam::Pca),
            axes: std::array::from_fn(AxisParam::new),
            rotation: FloatParam::new(
                "Rotation",
                0.0,
                FloatRange::Linear {
                    min: -180.0,
                    max: 180.0,
                },
            )
            .with_unit("°")
            .with_step_size(0.1),
            instrument: FloatParam::new(
                "Instrument",
                0.0,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_value_to_string(Arc::new(move |v| instrument_name(&instruments.read(), v))),
            attack: seconds("Attack", 0.005, 0.0, 5.0),
            decay: seconds("Decay", 0.1, 0.0, 5.0),
            sustain: FloatParam::new("Sustain", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            release: seconds("Release", 0.4, 0.005, 10.0),
            transpose: FloatParam::new(
                "Transpose",
                0.0,
                FloatRange::Linear {
                    min: -TRANSPOSE_RANGE,
                    max: TRANSPOSE_RANGE,
                },
            )
            .with_unit(" st")
            .with_step_size(0.01),
            root_key: IntParam::new(
                "Root key",
                i32::from(DEFAULT_ROOT_KEY),
                IntRange::Linear { min: 0, max: 127 },
            )
            .with_value_to_string(formatters::v2s_i32_key_formatter())
            .with_string_to_value(formatters::s2v_i32_key_formatter()),
            bend_range: IntParam::new("Bend range", 2, IntRange::Linear { min: 0, max: 24 })
                .with_unit(" st"),
            motif_position: FloatParam::new(
                "Motif position",
                0.5,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_value_to_string(formatters::v2s_f32_rounded(3)),
            motif_density: FloatParam::new(
                "Motif density",
                0.5,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_unit(" %")
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage()),
            motif_pitch: IntParam::new(
                "Motif pitch",
                0,
                IntRange::Linear {
                    min: -MOTIF_PITCH_RANGE,
                    max: MOTIF_PITCH_RANGE,
                },
            )
            .with_unit(" st"),
            motif_shift: IntParam::new(
                "Motif shift",
                0,
                IntRange::Linear {
                    min: -MOTIF_SHIFT_RANGE,
                    max: MOTIF_SHIFT_RANGE,
                },
            )
            .with_unit(" steps"),
            phase: EnumParam::new("Phase", PhaseParam::Rtpghi),
            target: EnumParam::new("Target descriptor", TargetParam::Off),
            target_value: FloatParam::new(
                "Target value",
                0.5,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_unit(" %")
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage()),
            gain: FloatParam::new(
                "Gain",
                util::db_to_gain(0.0),
                FloatRange::Skewed {
                    min: util::db_to_gain(-60.0),
                    max: util::db_to_gain(12.0),
                    factor: FloatRange::gain_skew_factor(-60.0, 12.0),
                },
            )
            .with_unit(" dB")
            .with_value_to_string(formatters::v2s_f32_gain_to_db(1))
            .with_string_to_value(formatters::s2v_f32_gain_to_db()),
            agent_on: BoolParam::new("Agent on", false),
            agent_dims: EnumParam::new("Agent axes", AgentDimsParam::Two),
            agent_rate: FloatParam::new(
                "Agent rate",
                0.1,
                FloatRange::Skewed {
                    min: 0.03,
                    max: 0.5,
                    factor: FloatRange::skew_factor(-1.0),
                },
            )
            .with_unit(" ms")
            .with_value_to_string(Arc::new(|v| format!("{:.0}", v * 1000.0)))
            .with_string_to_value(Arc::new(|s| {
                s.trim_end_matches(" ms")
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .map(|v| v / 1000.0)
            })),
            agent_exploit: FloatParam::new(
                "Explore – Exploit",
                0.5,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_value_to_string(Arc::new(|v| match v {
                v if v < 0.05 => "explore".into(),
                v if v > 0.95 => "exploit".into(),
                v => format!("{:.0} % exploit", 100.0 * v),
            })),
            reward_plus: BoolParam::new("Reward +", false),
            reward_minus: BoolParam::new("Reward −", false),
            agent_reset: BoolParam::new("Agent reset", false),
        }
    }

    /// The current values as plain controls.
    pub fn controls(&self) -> Controls {
        Controls {
            mode: match self.mode.value() {
                ModeParam::Notes | ModeParam::Motif => PlayMode::Notes,
                ModeParam::Free => PlayMode::Free,
            },
            motif: (self.mode.value() == ModeParam::Motif).then(|| MotifSettings {
                position: self.motif_position.value(),
                density: self.motif_density.value(),
                pitch_shift: self.motif_pitch.value(),
                time_shift: self.motif_shift.value(),
            }),
            basis: match self.projection.value() {
                ProjectionParam::Raw => AxisBasis::Raw,
                ProjectionParam::Pca => AxisBasis::Pca,
                ProjectionParam::Ica => AxisBasis::Ica,
            },
            axes: std::array::from_fn(|i| self.axes[i].value.value()),
            rotation_degrees: self.rotation.value(),
            instrument: self.instrument.value(),
            envelope: Envelope {
                attack: self.attack.value(),
                decay: self.decay.value(),
                sustain: self.sustain.value(),
                release: self.release.value(),
            },
            bend_range: self.bend_range.value() as f32,
            transpose: self.transpose.value(),
            root_key: self.root_key.value() as f32,
            phase: self.phase.value(),
            target: self.target.value().descriptor(),
            target_amount: self.target_value.value(),
            gain: self.gain.value(),
            agent: AgentControls {
                on: self.agent_on.value(),
                dims: self.agent_dims.value().count(),
                period: self.agent_rate.value(),
                explore: 1.0 - self.agent_exploit.value(),
                reward_plus: self.reward_plus.value(),
                reward_minus: self.reward_minus.value(),
                reset: self.agent_reset.value(),
            },
        }
    }
}

/// Axes 1–2 `(a, b)` turned by the Rotation parameter's `degrees` (a non-finite angle turns
/// nothing): where the sound moves, and with `-degrees` the way back from the map.
pub fn rotate(a: f32, b: f32, degrees: f32) -> (f32, f32) {
    let angle = degrees.to_radians();
    if !angle.is_finite() {
        return (a, b);
    }
    let (s, c) = angle.sin_cos();
    (c * a - s * b, s * a + c * b)
}

/// The instrument nearest `position` (0–1 over `names`), with the neighbour it morphs toward.
pub fn instrument_name(names: &[String], position: f32) -> String {
    match names.len() {
        0 => format!("{:.0} %", 100.0 * position),
        1 => names[0].clone(),
        n => {
            let x = position.clamp(0.0, 1.0) * (n - 1) as f32;
            let (lo, frac) = (x.floor() as usize, x - x.floor());
            if frac < 0.05 || lo + 1 >= n {
                names[lo.min(n - 1)].clone()
            } else if frac > 0.95 {
                names[lo + 1].clone()
            } else {
                format!("{} → {} {:.0} %", names[lo], names[lo + 1], 100.0 * frac)
            }
        }
    }
}

/// A snapshot of the parameters the processing code reads (tests build these directly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controls {
    /// Notes or free navigation.
    pub mode: PlayMode,
    /// Which axes.
    pub basis: AxisBasis,
    /// Axis positions in σ.
    pub axes: [f32; AXES],
    /// Rotation of the plane of axes 1–2.
    pub rotation_degrees: f32,
    /// Motif mode's settings; `None` when notes play as they come.
    pub motif: Option<MotifSettings>,
    /// Instrument position 0–1.
    pub instrument: f32,
    /// Amplitude envelope.
    pub envelope: Envelope,
    /// Pitch-bend range in semitones.
    pub bend_range: f32,
    /// Transposition of every note, semitones.
    pub transpose: f32,
    /// The key free mode plays untransposed.
    pub root_key: f32,
    /// Phase reconstruction.
    pub phase: PhaseParam,
    /// The descriptor voices follow, if any.
    pub target: Option<Descriptor>,
    /// Its target, 0–1 across the model's range of it.
    pub target_amount: f32,
    /// Output gain, linear (smoothed by the synth).
    pub gain: f32,
    /// The co-exploration agent.
    pub agent: AgentControls,
}

impl Default for Controls {
    fn default() -> Self {
        TimbrespaceParams::new(
            Arc::default(),
            Arc::default(),
            Arc::default(),
            Arc::default(),
        )
        .controls()
    }
}

/// The agent's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentControls {
    /// It moves the sound.
    pub on: bool,
    /// Axes it moves (1–8).
    pub dims: usize,
    /// Seconds between moves.
    pub period: f32,
    /// 0 = follow the reward, 1 = seek novelty.
    pub explore: f32,
    /// "Reward +" is held (feedback on its rising edge).
    pub reward_plus: bool,
    /// "Reward −" is held.
    pub reward_minus: bool,
    /// "Agent reset" is held.
    pub reset: bool,
}
