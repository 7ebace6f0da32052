//! The main job's material: the embedded default model and a short MIDI phrase it plays.

use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::{ModelFile, ModelFileError};

use crate::labels::INSTRUMENT;
use crate::projection::Projection;

/// The default model (trained by `cargo xtask train-default` on FluidR3 soundfont notes).
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../assets/default.tsm");

/// The demo phrase: the opening of Beethoven's "Ode to Joy" (public domain) and a chord held
/// with the sustain pedal, as a type-1 MIDI file.
pub const DEMO_PHRASE: &[u8] = include_bytes!("../../assets/phrase.mid");

/// The default model's instrument that plays the demo phrase.
pub const DEMO_INSTRUMENT: &str = "Clarinet";

/// The embedded default model, validated like any other.
pub fn default_model() -> Result<ModelFile, ModelFileError> {
    ModelFile::from_bytes(DEFAULT_MODEL)
}

/// Two latent points worth morphing between, and what they are: the centroids of the first
/// and last instrument among the training points, or the ends of the first PCA axis (±2σ) for
/// a model without instrument labels.
pub fn morph_ends(model: &ModelFile) -> Result<(Vec<f32>, Vec<f32>, String), ModelFileError> {
    let latent = model.manifest.architecture.latent;
    let mu = &model.tensor(POINTS_MU)?.data;
    let labels = &model.tensor(POINTS_LABELS)?.data;
    let kinds = model.manifest.labels.len();
    if let Some((k, set)) = model
        .manifest
        .labels
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == INSTRUMENT && s.classes.len() >= 2)
    {
        let centroid = |class: usize| -> Option<Vec<f32>> {
            let rows: Vec<&[f32]> = mu
                .chunks_exact(latent)
                .zip(labels.chunks_exact(kinds))
                .filter(|(_, l)| l[k] == class as f32)
                .map(|(z, _)| z)
                .collect();
            (!rows.is_empty()).then(|| {
                (0..latent)
                    .map(|j| rows.iter().map(|z| z[j]).sum::<f32>() / rows.len() as f32)
                    .collect()
            })
        };
        let last = set.classes.len() - 1;
        if let (Some(a), Some(b)) = (centroid(0), centroid(last)) {
            return Ok((a, b, format!("{} → {}", set.classes[0], set.classes[last])));
        }
    }
    let pca = Projection::from_model(model, "pca")?;
    let end = |sigmas: f64| {
        let mut s = vec![0.0; pca.dims];
        s[0] = sigmas * pca.scale[0];
        pca.unproject(&s)
    };
    Ok((end(-2.0), end(2.0), "first PCA axis, −2σ → +2σ".into()))
}
