//! Signal–symbol translation (SCAN; thesis 3.3, DESIGN §5): a symbol VAE over one-hots of
//! pitch class, octave, dynamics and instrument that shares the audio VAE's latent space. Its
//! loss is the symbol ELBO plus α·KL(q(z|x) ‖ q(z|y)), which pulls each symbol's posterior over
//! the audio posteriors of the frames that carry it.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::VarBuilder;
use timbrespace_engine::model::layers::{symbol_decoder_layers, symbol_encoder_layers};
use timbrespace_engine::model::manifest::{Architecture, LabelSet, SymbolSpec};
use timbrespace_engine::model::TensorMap;
use timbrespace_engine::symbols::{
    SymbolGroup, SymbolVocabulary, DYNAMICS, INSTRUMENT, OCTAVE, PITCH,
};

use crate::dataset::Dataset;
use crate::vae::Network;

/// Log-variances of q(z|y) are clamped like the audio encoder's.
const LOGVAR_RANGE: (f64, f64) = (-12.0, 6.0);

/// The label kinds that become symbols, in y order, among those `labels` has.
pub fn symbol_kinds(labels: &[LabelSet]) -> Vec<String> {
    [PITCH, OCTAVE, DYNAMICS, INSTRUMENT]
        .iter()
        .filter(|k| {
            labels
                .iter()
                .any(|l| l.name == **k && !l.classes.is_empty())
        })
        .map(|k| k.to_string())
        .collect()
}

/// The vocabulary of `kinds` over `labels`.
pub fn vocabulary(
    kinds: &[String],
    labels: &[LabelSet],
) -> std::result::Result<SymbolVocabulary, timbrespace_engine::model::ModelFileError> {
    SymbolVocabulary::new(
        kinds
            .iter()
            .filter_map(|k| labels.iter().find(|l| &l.name == k))
            .map(|l| SymbolGroup {
                name: l.name.clone(),
                classes: l.classes.clone(),
                offset: 0,
            })
            .collect(),
    )
}

/// Per-frame symbol targets of a dataset.
#[derive(Debug, Clone)]
pub struct SymbolTargets {
    /// Width of y.
    pub width: usize,
    /// Each group's (offset, classes) in y.
    pub groups: Vec<(usize, usize)>,
    /// y of each file, or `None` when any of its symbol labels is unknown (the file then
    /// trains the audio side only).
    files: Vec<Option<Vec<f32>>>,
    /// File of each frame.
    owner: Vec<usize>,
}

impl SymbolTargets {
    /// Targets for `dataset` over `vocabulary`.
    pub fn new(dataset: &Dataset, vocabulary: &SymbolVocabulary) -> Self {
        let columns: Vec<Option<usize>> = vocabulary
            .groups
            .iter()
            .map(|g| dataset.label_sets.iter().position(|l| l.name == g.name))
            .collect();
        let files = dataset
            .files
            .iter()
            .map(|file| {
                let classes: Option<Vec<Option<usize>>> = columns
                    .iter()
                    .map(|c| c.and_then(|c| file.labels[c]).map(Some))
                    .collect();
                classes.map(|classes| {
                    let mut y = vec![0.0; vocabulary.width()];
                    vocabulary.one_hot(&classes, &mut y);
                    y
                })
            })
            .collect();
        Self {
            width: vocabulary.width(),
            groups: vocabulary
                .groups
                .iter()
                .map(|g| (g.offset, g.classes.len()))
                .collect(),
            files,
            owner: dataset.frame_files(),
        }
    }

    /// Files whose every symbol label is known.
    pub fn labelled_files(&self) -> usize {
        self.files.iter().filter(|f| f.is_some()).count()
    }

    /// The positions (within `frames`) of labelled frames and their y as a tensor, or `None`
    /// when none is labelled.
    pub fn batch(&self, frames: &[usize]) -> Result<Option<(Tensor, Tensor)>> {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for (row, &f) in frames.iter().enumerate() {
            if let Some(target) = &self.files[self.owner[f]] {
                rows.push(row as u32);
                y.extend_from_slice(target);
            }
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let n = rows.len();
        Ok(Some((
            Tensor::from_vec(rows, n, &Device::Cpu)?,
            Tensor::from_vec(y, (n, self.width), &Device::Cpu)?,
        )))
    }
}

/// The symbol VAE: y → q(z|y) and z → p(y|z).
#[derive(Debug, Clone)]
pub struct SymbolVae {
    /// y → (μ, log σ²).
    encoder: Network,
    /// z → logits of y.
    decoder: Network,
    /// Each group's (offset, classes) in y.
    groups: Vec<(usize, usize)>,
    /// Latent size.
    latent: usize,
}

/// The symbol loss terms of one batch, each a mean per labelled frame.
pub struct SymbolLoss {
    /// −log p(y|z) with z sampled from q(z|y) (the symbol ELBO's reconstruction).
    pub symbol_recon: Tensor,
    /// KL(q(z|y) ‖ N(0, I)) (weighted by the warmed-up β).
    pub symbol_prior: Tensor,
    /// −log p(y|z) with z sampled from q(z|x): trains the decoder to read audio codes, which
    /// is what transcription does.
    pub audio_recon: Tensor,
    /// KL(q(z|x) ‖ q(z|y)) (weighted by α).
    pub alignment: Tensor,
}

impl SymbolVae {
    /// Build from `vb` (a training var map, or loaded tensors).
    pub fn new(
        arch: &Architecture,
        spec: &SymbolSpec,
        groups: Vec<(usize, usize)>,
        vb: &VarBuilder,
    ) -> Result<Self> {
        let width = groups.iter().map(|g| g.1).sum();
        Ok(Self {
            encoder: Network::new(&symbol_encoder_layers(arch, spec, width), vb)?,
            decoder: Network::new(&symbol_decoder_layers(arch, spec, width), vb)?,
            groups,
            latent: arch.latent,
        })
    }

    /// Build from a model file's tensors.
    pub fn from_tensors(
        arch: &Architecture,
        spec: &SymbolSpec,
        groups: Vec<(usize, usize)>,
        tensors: &TensorMap,
    ) -> Result<Self> {
        let device = Device::Cpu;
        let mut map = std::collections::HashMap::new();
        for (name, t) in tensors.iter().filter(|(n, _)| n.starts_with("symbols.")) {
            map.insert(
                name.clone(),
                Tensor::from_slice(&t.data, t.shape.as_slice(), &device)?,
            );
        }
        Self::new(
            arch,
            spec,
            groups,
            &VarBuilder::from_tensors(map, DType::F32, &device),
        )
    }

    /// (μ, log σ²) of q(z|y), each `(n, latent)`.
    pub fn encode(&self, y: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = self.encoder.forward(y)?;
        let mu = h.narrow(1, 0, self.latent)?;
        let logvar = h
            .narrow(1, self.latent, self.latent)?
            .clamp(LOGVAR_RANGE.0, LOGVAR_RANGE.1)?;
        Ok((mu, logvar))
    }

    /// Mean over rows of −log p(y|z): one cross-entropy per group, summed.
    pub fn cross_entropy(&self, z: &Tensor, y: &Tensor) -> Result<Tensor> {
        let logits = self.decoder.forward(z)?;
        let mut total: Option<Tensor> = None;
        for &(offset, len) in &self.groups {
            let log_p = candle_nn::ops::log_softmax(&logits.narrow(1, offset, len)?, D::Minus1)?;
            let ce = (log_p * y.narrow(1, offset, len)?)?.sum(D::Minus1)?.neg()?;
            total = Some(match total {
                Some(t) => (t + ce)?,
                None => ce,
            });
        }
        match total {
            Some(t) => t.mean_all(),
            None => Tensor::new(0f32, &Device::Cpu),
        }
    }

    /// All symbol terms for labelled frames with audio posteriors (`mu_x`, `logvar_x`) and
    /// sampled audio codes `z_x`; `eps` is standard noise `(n, latent)` for sampling q(z|y).
    pub fn loss(
        &self,
        y: &Tensor,
        mu_x: &Tensor,
        logvar_x: &Tensor,
        z_x: &Tensor,
        eps: &Tensor,
    ) -> Result<SymbolLoss> {
        let (mu_y, logvar_y) = self.encode(y)?;
        let z_y = (&mu_y + (logvar_y.affine(0.5, 0.0)?.exp()? * eps)?)?;
        Ok(SymbolLoss {
            symbol_recon: self.cross_entropy(&z_y, y)?,
            symbol_prior: crate::objective::kl_to_prior(&mu_y, &logvar_y)?,
            audio_recon: self.cross_entropy(z_x, y)?,
            alignment: gaussian_kl(mu_x, logvar_x, &mu_y, &logvar_y)?,
        })
    }
}

/// Mean over rows of KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) for diagonal Gaussians:
/// ½ Σ [log σ₂² − log σ₁² + (σ₁² + (μ₁ − μ₂)²) / σ₂² − 1].
pub fn gaussian_kl(
    mu1: &Tensor,
    logvar1: &Tensor,
    mu2: &Tensor,
    logvar2: &Tensor,
) -> Result<Tensor> {
    let ratio = ((logvar1.exp()? + (mu1 - mu2)?.sqr()?)? / logvar2.exp()?)?;
    let terms = ((logvar2 - logvar1)? + ratio)?.affine(0.5, -0.5)?;
    terms.sum(D::Minus1)?.mean_all()
}
