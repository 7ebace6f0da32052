//! How well a model's stored pitch direction transposes (issue 8): each measured test sound's
//! mean latent position is moved n semitones along the direction, rendered through the engine's
//! voice, and the rendering's YIN pitch is compared with the untransposed rendering's pitch
//! times 2^(n/12). A sound whose untransposed rendering reads off its labelled key is left out
//! (and counted): a mis-read reference, say two octaves under a cello's A4, cannot anchor the
//! transpositions measured from it.

use serde::Serialize;
use timbrespace_engine::model::manifest::PitchDirection;
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::pitch::{cents, peak_normalised, pitch_track, YinSettings};
use timbrespace_engine::voice::PhaseMode;

use crate::dataset::{file_key, Dataset, Split};
use crate::export::file_centre;
use crate::notes::key_frequency;
use crate::synth::{render_latents, SynthError};
use crate::vae::Vae;

/// Test sounds `train` and `eval` measure.
pub const TRANSPOSED_SOUNDS: usize = 40;
/// Largest transposition measured, semitones either way (the issue's ±7).
pub const RANGE: i32 = 7;
/// A transposition is in tune when within this many cents of the requested pitch.
pub const TOLERANCE_CENTS: f32 = 50.0;
/// Frames each rendering holds (about 1.5 s at the default STFT).
const FRAMES: usize = 64;
/// YIN frame and hop, samples.
const YIN_FRAME: usize = 2048;
const YIN_HOP: usize = 512;
/// Reference pitches outside this range are skipped: ±7 semitones must stay measurable.
const REFERENCE_HZ: std::ops::RangeInclusive<f32> = 60.0..=1500.0;

/// The transposition score of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranspositionScore {
    /// Share of (sound, step) renderings within [`TOLERANCE_CENTS`] of the requested pitch
    /// (an unvoiced rendering counts as a miss).
    pub in_tune: f64,
    /// Median absolute error in cents over the voiced renderings.
    pub median_abs_cents: f64,
    /// Median absolute error per step −RANGE..=RANGE without 0, cents (NaN when none voiced).
    pub per_step: Vec<(i32, f64)>,
    /// Sounds measured (those whose own rendering has a pitch in the reference range and,
    /// when they are labelled, within [`TOLERANCE_CENTS`] of their key).
    pub sounds: usize,
    /// Sounds left out because their own rendering read more than [`TOLERANCE_CENTS`] off
    /// their labelled key.
    pub off_key: usize,
}

/// Why transposition could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum TranspositionError {
    /// Rendering failed.
    #[error(transparent)]
    Synth(#[from] SynthError),
    /// Encoding failed.
    #[error("encoding failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Measures the stored pitch direction on up to `sounds` test files; `None` when the model
/// has no pitch direction or no test sound has a measurable pitch.
pub fn transposition_score(
    model: &ModelFile,
    dataset: &Dataset,
    split: &Split,
    sounds: usize,
) -> Result<Option<TranspositionScore>, TranspositionError> {
    let Some(direction) = &model.manifest.pitch_direction else {
        return Ok(None);
    };
    let vae = Vae::from_tensors(&model.manifest.architecture, &model.tensors)?;
    let rate = model.manifest.signal.sample_rate as f32;
    let step = (split.test_files.len() / sounds.max(1)).max(1);
    let mut errors: Vec<(i32, Option<f32>)> = Vec::new();
    let (mut measured, mut off_key) = (0, 0);
    for &file in split.test_files.iter().step_by(step).take(sounds) {
        if dataset.files[file].frames.is_empty() {
            continue;
        }
        let centre = file_centre(&vae, dataset, file)?;
        let Some(reference) = rendered_pitch(model, direction, &centre, 0, rate)? else {
            continue;
        };
        if !REFERENCE_HZ.contains(&reference) {
            continue;
        }
        let key = file_key(dataset, file).and_then(|k| u8::try_from(k).ok());
        if key.is_some_and(|k| cents(reference, key_frequency(k) as f32).abs() > TOLERANCE_CENTS) {
            off_key += 1;
            continue;
        }
        measured += 1;
        for n in (-RANGE..=RANGE).filter(|&n| n != 0) {
            let wanted = reference * 2f32.powf(n as f32 / 12.0);
            let f = rendered_pitch(model, direction, &centre, n, rate)?;
            errors.push((n, f.map(|f| cents(f, wanted))));
        }
    }
    if measured == 0 {
        return Ok(None);
    }
    let in_tune = errors
        .iter()
        .filter(|(_, e)| e.is_some_and(|e| e.abs() <= TOLERANCE_CENTS))
        .count() as f64
        / errors.len() as f64;
    let abs = |filter: &dyn Fn(i32) -> bool| {
        let mut v: Vec<f32> = errors
            .iter()
            .filter(|(n, _)| filter(*n))
            .filter_map(|(_, e)| e.map(f32::abs))
            .collect();
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).map_or(f64::NAN, |&m| f64::from(m))
    };
    Ok(Some(TranspositionScore {
        in_tune,
        median_abs_cents: abs(&|_| true),
        per_step: (-RANGE..=RANGE)
            .filter(|&n| n != 0)
            .map(|n| (n, abs(&|m| m == n)))
            .collect(),
        sounds: measured,
        off_key,
    }))
}

/// The median YIN pitch over the middle half of `centre` transposed by `semitones` and
/// rendered as a held sound; `None` when mostly unvoiced.
fn rendered_pitch(
    model: &ModelFile,
    direction: &PitchDirection,
    centre: &[f32],
    semitones: i32,
    rate: f32,
) -> Result<Option<f32>, SynthError> {
    let mut z = centre.to_vec();
    direction.transpose(&mut z, semitones as f32);
    let rendering = render_latents(model, &vec![z; FRAMES], PhaseMode::Rtpghi(Lookahead::One))?;
    let samples = &rendering.audio.samples;
    let middle = &samples[samples.len() / 4..3 * samples.len() / 4];
    let track = pitch_track(
        &peak_normalised(middle),
        rate,
        YIN_FRAME,
        YIN_HOP,
        &YinSettings::default(),
    );
    let mut voiced: Vec<f32> = track.iter().flatten().copied().collect();
    if voiced.len() * 2 <= track.len() {
        return Ok(None);
    }
    voiced.sort_by(f32::total_cmp);
    Ok(Some(voiced[voiced.len() / 2]))
}
