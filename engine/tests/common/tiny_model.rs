//! A small random model (n_fft 256, latent 4) for model-file and kernel tests.

use std::collections::BTreeMap;

use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::layers::{
    decoder_layers, encoder_layers, symbol_decoder_layers, symbol_encoder_layers,
};
use timbrespace_engine::model::manifest::{
    ArchKind, Architecture, ConvShape, LabelSet, Manifest, ProjectionInfo, Provenance, Scaling,
    SignalConfig, SymbolSpec, FORMAT_NAME, FORMAT_VERSION,
};
use timbrespace_engine::model::{ModelFile, Tensor32, TensorMap};
use timbrespace_engine::symbols::PITCH_CLASSES;

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
        descriptor_maps: None,
        pitch_direction: None,
        scores: BTreeMap::new(),
        symbols: None,
    };
    ModelFile::new(manifest, tensors).expect("the tiny model is valid")
}

/// Frames of the tiny symbol model's attack template.
pub const ATTACK_FRAMES: usize = 5;
/// Frames of its release template.
pub const RELEASE_FRAMES: usize = 4;

/// A tiny model with a random symbol VAE over pitch (12), octave (3, 4, 5), dynamics (p, f)
/// and instrument (Reed, String), and random trajectories per instrument × dynamics.
pub fn tiny_symbol_model(seed: u64) -> ModelFile {
    let model = tiny_model(false, seed);
    let (mut manifest, mut tensors) = (model.manifest, model.tensors);
    let classes = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    manifest.labels = vec![
        LabelSet {
            name: "pitch".into(),
            classes: classes(&PITCH_CLASSES),
        },
        LabelSet {
            name: "octave".into(),
            classes: classes(&["3", "4", "5"]),
        },
        LabelSet {
            name: "dynamics".into(),
            classes: classes(&["p", "f"]),
        },
        LabelSet {
            name: "instrument".into(),
            classes: classes(&["Reed", "String"]),
        },
    ];
    let spec = SymbolSpec {
        kinds: classes(&["pitch", "octave", "dynamics", "instrument"]),
        hidden: vec![16],
        alpha: 10.0,
        reading: 1.0,
        trajectory_kinds: classes(&["instrument", "dynamics"]),
        attack_frames: ATTACK_FRAMES,
        release_frames: RELEASE_FRAMES,
        levels: false,
    };
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x51);
    let mut random = |shape: Vec<usize>, scale: f32| {
        let n = shape.iter().product();
        Tensor32::new(shape, (0..n).map(|_| scale * (rng.f32() - 0.5)).collect())
    };
    let width = spec.width(&manifest.labels);
    let arch = &manifest.architecture;
    for layer in symbol_encoder_layers(arch, &spec, width)
        .iter()
        .chain(&symbol_decoder_layers(arch, &spec, width))
    {
        for (name, shape) in layer.tensors() {
            tensors.insert(name, random(shape, 1.0));
        }
    }
    let groups = spec.trajectory_groups(&manifest.labels);
    tensors.insert(
        "symbols.attack".into(),
        random(vec![groups, ATTACK_FRAMES, LATENT], 0.5),
    );
    tensors.insert(
        "symbols.release".into(),
        random(vec![groups, RELEASE_FRAMES, LATENT], 0.5),
    );
    let labels = random(vec![POINTS, 4], 0.0);
    tensors.insert(POINTS_LABELS.into(), labels);
    manifest.symbols = Some(spec);
    ModelFile::new(manifest, tensors).expect("the tiny symbol model is valid")
}
