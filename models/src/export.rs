//! Turning a trained VAE into a `.tsm` model file: weights, projections fitted on the training
//! points' latent means, the points themselves with their labels, and the provenance.

use std::collections::BTreeMap;

use candle_core::Device;
use timbrespace_engine::axes::{AxisBasis, DescriptorMap, LatentAxes};
use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::manifest::{Manifest, Provenance, FORMAT_NAME, FORMAT_VERSION};
use timbrespace_engine::model::{ModelFile, ModelFileError, Tensor32, TensorMap};

use crate::dataset::{Dataset, DatasetOptions, Split};
use crate::projection::{fit_ica, fit_pca};
use crate::scan::vocabulary;
use crate::train::{gather, TrainConfig, Trained};
use crate::trajectory::fit_trajectories;
use crate::vae::{export_vars, Vae};
use timbrespace_engine::symbols::trajectory::{ATTACK_TENSOR, RELEASE_TENSOR};

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
                let (attack, release) =
                    fit_trajectories(&trained.vae, dataset, &split.train_files, spec, &vocabulary)?;
                tensors.insert(ATTACK_TENSOR.into(), attack);
                tensors.insert(RELEASE_TENSOR.into(), release);
            }
            Some(spec.clone())
        }
        _ => {
            tensors.retain(|name, _| !name.starts_with("symbols."));
            None
        }
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
    };
    let model = ModelFile::new(manifest, tensors)?;
    let axes = LatentAxes::new(&model, AxisBasis::Pca)?;
    let map = DescriptorMap::new(&model, &axes, STORED_MAP_SIZE, STORED_MAP_SPAN)?;
    Ok(map.store(model, AxisBasis::Pca)?)
}
