//! Turning a trained VAE into a `.tsm` model file: weights, projections fitted on the training
//! points' latent means, the points themselves with their labels, and the provenance.

use std::collections::BTreeMap;

use candle_core::Device;
use timbrespace_engine::axes::{AxisBasis, DescriptorMap, LatentAxes};
use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::manifest::{
    Manifest, PitchDirection, Provenance, FORMAT_NAME, FORMAT_VERSION,
};
use timbrespace_engine::model::{ModelFile, ModelFileError, Tensor32, TensorMap};

use crate::dataset::{Dataset, DatasetOptions, Split};
use crate::factorisation::{FactoriseConfig, ShiftMoves};
use crate::projection::{fit_ica, fit_pca};
use crate::scan::vocabulary;
use crate::train::{gather, TrainConfig, Trained, DIRECTION_VAR};
use crate::trajectory::fit_trajectories;
use crate::vae::{export_vars, Vae};
use timbrespace_engine::symbols::trajectory::{
    ATTACK_LEVEL_TENSOR, ATTACK_TENSOR, RELEASE_LEVEL_TENSOR, RELEASE_TENSOR,
};

/// Training frames the pitch direction is fitted on.
const DIRECTION_FRAMES: usize = 1000;
/// Frames encoded per batch.
const ENCODE_BATCH: usize = 1024;
/// Points per side of the descriptor maps stored in the model.
const STORED_MAP_SIZE: usize = 64;
/// They span ±this many σ of PCA axes 1–2: the axes' ±3 σ and a margin, as editors show.
pub const STORED_MAP_SPAN: f32 = 3.3;

/// Latent means of frames `indices`, `indices.len() × latent`.
pub fn encode_means(
    vae: &Vae,
    dataset: &Dataset,
    indices: &[usize],
) -> candle_core::Result<Vec<f32>> {
    let mut out = Vec::with_capacity(indices.len() * vae.arch.latent);
    for chunk in indices.chunks(ENCODE_BATCH) {
        let (mu, _) = vae.encode(&gather(dataset, chunk)?)?;
        out.extend(mu.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// The mean of the latent means of a dataset file's frames (its centre in the latent space;
/// zeros for a file without frames).
pub fn file_centre(vae: &Vae, dataset: &Dataset, file: usize) -> candle_core::Result<Vec<f32>> {
    let frames: Vec<usize> = dataset.files[file].frames.clone().collect();
    let latent = vae.arch.latent;
    let mut centre = vec![0.0f32; latent];
    for z in encode_means(vae, dataset, &frames)?.chunks_exact(latent) {
        centre
            .iter_mut()
            .zip(z)
            .for_each(|(c, v)| *c += v / frames.len() as f32);
    }
    Ok(centre)
}

/// Latent means of raw scaled frames (`n × bins`).
pub fn encode_frames(vae: &Vae, frames: &[f32]) -> candle_core::Result<Vec<f32>> {
    let bins = vae.arch.bins;
    let mut out = Vec::with_capacity(frames.len() / bins * vae.arch.latent);
    for chunk in frames.chunks(ENCODE_BATCH * bins) {
        let x = candle_core::Tensor::from_slice(chunk, (chunk.len() / bins, bins), &Device::Cpu)?;
        out.extend(vae.encode(&x)?.0.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// The transposition direction learned with a model trained with the soft pitch
/// factorisation (taken out of the weights), with the share of the latent moves of up to
/// [`DIRECTION_FRAMES`] transposed training frames it explains.
fn pitch_direction(
    vae: &Vae,
    tensors: &mut TensorMap,
    dataset: &Dataset,
    split: &Split,
    config: &FactoriseConfig,
) -> Result<PitchDirection, ExportError> {
    let per_bin = tensors
        .remove(DIRECTION_VAR)
        .ok_or_else(|| candle_core::Error::Msg("the learned pitch direction is missing".into()))?
        .data;
    let step = (split.train.len() / DIRECTION_FRAMES).max(1);
    let picked: Vec<usize> = split.train.iter().step_by(step).copied().collect();
    let frames = gather(dataset, &picked)?.flatten_all()?.to_vec1::<f32>()?;
    let moves = ShiftMoves::measure(
        &frames,
        dataset.bins,
        config.max_shift,
        config.bins_per_octave,
        &|x| Ok(vae.encode(x)?.0),
    )?;
    let bins_per_semitone = config.bins_per_octave as f32 / 12.0;
    Ok(PitchDirection {
        explained: moves.explained_by(&per_bin) as f32,
        per_semitone: per_bin.iter().map(|v| v * bins_per_semitone).collect(),
    })
}

/// Why a model could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// candle failed while encoding the training points.
    #[error("encoding the training points failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The assembled model did not validate (a bug, or a diverged run).
    #[error(transparent)]
    Model(#[from] ModelFileError),
}

/// How the data of a run was prepared, recorded so `eval` can rebuild the same test split.
pub struct DataRecipe<'a> {
    /// The frames.
    pub dataset: &'a Dataset,
    /// The options they were cut with.
    pub options: &'a DatasetOptions,
    /// The split trained on.
    pub split: &'a Split,
    /// The fraction of files held out.
    pub test_fraction: f64,
}

/// Assemble and validate the model file of a finished run.
pub fn build_model_file(
    trained: &Trained,
    data: &DataRecipe,
    config: &TrainConfig,
) -> Result<ModelFile, ExportError> {
    let (dataset, split) = (data.dataset, data.split);
    let latent = config.arch.latent;
    let points = encode_means(&trained.vae, dataset, &split.train)?;
    let owner = dataset.frame_files();
    let labels: Vec<f32> = split
        .train
        .iter()
        .flat_map(|&i| {
            dataset.files[owner[i]]
                .labels
                .iter()
                .map(|l| l.map_or(-1.0, |c| c as f32))
        })
        .collect();
    let mut tensors: TensorMap = export_vars(&trained.varmap)?;
    let pca = fit_pca(&points, latent);
    let ica = fit_ica(&points, latent, config.seed);
    pca.tensors(&mut tensors);
    ica.tensors(&mut tensors);
    tensors.insert(
        POINTS_MU.into(),
        Tensor32::new(vec![split.train.len(), latent], points),
    );
    tensors.insert(
        POINTS_LABELS.into(),
        Tensor32::new(vec![split.train.len(), dataset.label_sets.len()], labels),
    );
    let symbols = match (&trained.symbols, &config.symbols) {
        (Some(_), Some(spec)) => {
            let vocabulary = vocabulary(&spec.kinds, &dataset.label_sets)?;
            if spec.attack_frames > 0 && spec.release_frames > 0 {
                let tables =
                    fit_trajectories(&trained.vae, dataset, &split.train_files, spec, &vocabulary)?;
                tensors.insert(ATTACK_TENSOR.into(), tables.attack);
                tensors.insert(RELEASE_TENSOR.into(), tables.release);
                tensors.insert(ATTACK_LEVEL_TENSOR.into(), tables.attack_level);
                tensors.insert(RELEASE_LEVEL_TENSOR.into(), tables.release_level);
            }
            Some(spec.clone())
        }
        _ => {
            tensors.retain(|name, _| !name.starts_with("symbols."));
            None
        }
    };
    let pitch_direction = match &config.factorise {
        Some(factorise) => Some(pitch_direction(
            &trained.vae,
            &mut tensors,
            dataset,
            split,
            factorise,
        )?),
        None => None,
    };
    let manifest = Manifest {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        signal: dataset.signal.clone(),
        scaling: dataset.scaling,
        architecture: config.arch.clone(),
        labels: dataset.label_sets.clone(),
        projections: vec![pca.info(), ica.info()],
        training: Provenance {
            dataset: dataset.source.display().to_string(),
            files: dataset.files.len(),
            train_frames: split.train.len(),
            test_frames: split.test.len(),
            test_fraction: data.test_fraction,
            selection: data.options.selection.name().into(),
            threshold_db: data.options.threshold_db,
            max_frames_per_file: data.options.max_frames_per_file,
            objective: match &config.perceptual {
                Some(perceptual) => format!("{} + {perceptual}", config.regularizer),
                None => config.regularizer.to_string(),
            },
            seed: config.seed,
            epochs: trained.history.len(),
            seconds: trained.seconds,
            history: trained.history.clone(),
        },
        scores: BTreeMap::new(),
        symbols,
        descriptor_maps: None,
        pitch_direction,
    };
    let model = ModelFile::new(manifest, tensors)?;
    let axes = LatentAxes::new(&model, AxisBasis::Pca)?;
    let map = DescriptorMap::new(&model, &axes, STORED_MAP_SIZE, STORED_MAP_SPAN)?;
    Ok(map.store(model, AxisBasis::Pca)?)
}
