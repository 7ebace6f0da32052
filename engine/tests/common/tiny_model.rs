//! A small random model (n_fft 256, latent 4) for model-file and kernel tests.

use std::collections::BTreeMap;

use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::layers::{decoder_layers, encoder_layers};
use timbrespace_engine::model::manifest::{
    ArchKind, Architecture, ConvShape, LabelSet, Manifest, ProjectionInfo, Provenance, Scaling,
    SignalConfig, FORMAT_NAME, FORMAT_VERSION,
};
use timbrespace_engine::model::{ModelFile, Tensor32, TensorMap};

/// Latent size of the tiny models.
pub const LATENT: usize = 4;
/// Training points stored.
pub const POINTS: usize = 10;

/// A valid model with random weights; `conv` picks the convolutional architecture.
pub fn tiny_model(conv: bool, seed: u64) -> ModelFile {
    let mut rng = fastrand::Rng::with_seed(seed);
    let architecture = Architecture {
        kind: if conv { ArchKind::Conv } else { ArchKind::Mlp },
        bins: 129,
        latent: LATENT,
        hidden: vec![24],
        conv: conv.then_some(ConvShape {
            channels: 3,
            kernel: 5,
            stages: 2,
        }),
        sigma: 0.1,
    };
    let mut tensors = TensorMap::new();
    let mut random = |shape: Vec<usize>| {
        let n = shape.iter().product();
        Tensor32::new(shape, (0..n).map(|_| rng.f32() - 0.5).collect())
    };
    for layer in encoder_layers(&architecture)
        .iter()
        .chain(&decoder_layers(&architecture))
    {
        for (name, shape) in layer.tensors() {
            tensors.insert(name, random(shape));
        }
    }
    tensors.insert(POINTS_MU.into(), random(vec![POINTS, LATENT]));
    tensors.insert(
        POINTS_LABELS.into(),
        Tensor32::new(
            vec![POINTS, 1],
            (0..POINTS).map(|i| (i % 3) as f32 - 1.0).collect(),
        ),
    );
    tensors.insert("projection.pca.mean".into(), random(vec![LATENT]));
    tensors.insert("projection.pca.unmixing".into(), random(vec![2, LATENT]));
    tensors.insert("projection.pca.mixing".into(), random(vec![LATENT, 2]));
    tensors.insert("projection.pca.scale".into(), random(vec![2]));
    let manifest = Manifest {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        signal: SignalConfig {
            sample_rate: 22_050,
            n_fft: 256,
            hop: 64,
            window: "hann".into(),
        },
        scaling: Scaling { gain: 20.0 },
        architecture,
        labels: vec![LabelSet {
            name: "dynamics".into(),
            classes: vec!["p".into(), "f".into()],
        }],
        projections: vec![ProjectionInfo {
            name: "pca".into(),
            dims: 2,
        }],
        training: Provenance::default(),
        scores: BTreeMap::new(),
    };
    ModelFile::new(manifest, tensors).expect("the tiny model is valid")
}
