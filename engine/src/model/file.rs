//! The `.tsm` model file: a manifest and validated tensors in one safetensors blob.

use std::collections::HashMap;
use std::path::Path;

use super::container::{self, Tensor32, TensorMap};
use super::layers::{decoder_layers, encoder_layers, symbol_decoder_layers, symbol_encoder_layers};
use super::manifest::{ArchKind, Manifest, FORMAT_NAME, FORMAT_VERSION};
use super::ModelFileError;
use crate::descriptors::Descriptor;
use crate::symbols::trajectory::{
    ATTACK_LEVEL_TENSOR, ATTACK_TENSOR, RELEASE_LEVEL_TENSOR, RELEASE_TENSOR,
};
use crate::symbols::SymbolVocabulary;

/// Metadata key holding [`FORMAT_NAME`], so foreign safetensors files are told apart quickly.
const FORMAT_KEY: &str = "format";
/// Metadata key holding the JSON manifest.
const MANIFEST_KEY: &str = "manifest";
/// Tensor of training-point latent means, `[points, latent]`.
pub const POINTS_MU: &str = "points.mu";
/// Tensor of training-point labels, `[points, label kinds]`: class index, or −1 when unknown.
pub const POINTS_LABELS: &str = "points.labels";

/// Tensor of the stored descriptor maps, `[descriptors, size, size]` (see
/// [`super::manifest::DescriptorMapInfo`]).
pub const DESCRIPTOR_MAPS: &str = "maps.descriptors";

/// Name of one part (`mean`, `unmixing`, `mixing`, `scale`) of a stored projection.
pub fn projection_tensor(projection: &str, part: &str) -> String {
    format!("projection.{projection}.{part}")
}

/// A loaded, validated model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// Everything but the weights.
    pub manifest: Manifest,
    /// Weights, projections and training points by name.
    pub tensors: TensorMap,
}

impl ModelFile {
    /// Bundle and validate a manifest and its tensors.
    pub fn new(manifest: Manifest, tensors: TensorMap) -> Result<Self, ModelFileError> {
        let model = ModelFile { manifest, tensors };
        model.validate()?;
        Ok(model)
    }

    /// Read and validate a model file.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ModelFileError::Io(format!("{}: {e}", path.display())))?;
        Self::from_bytes(&bytes)
    }

    /// Parse and validate model bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelFileError> {
        let (tensors, metadata) = container::decode(bytes)?;
        if metadata.get(FORMAT_KEY).map(String::as_str) != Some(FORMAT_NAME) {
            return Err(ModelFileError::NotAModel(
                "no Timbrespace manifest (a safetensors file from elsewhere?)".into(),
            ));
        }
        let text = metadata
            .get(MANIFEST_KEY)
            .ok_or_else(|| ModelFileError::Manifest("manifest missing".into()))?;
        // Read the version before the full manifest so a newer file reports its version, not a
        // field it does not understand.
        let raw: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ModelFileError::Manifest(format!("manifest is not JSON: {e}")))?;
        let version = raw
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if version != u64::from(FORMAT_VERSION) {
            return Err(ModelFileError::Version {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let manifest: Manifest = serde_json::from_value(raw)
            .map_err(|e| ModelFileError::Manifest(format!("manifest: {e}")))?;
        Self::new(manifest, tensors)
    }

    /// Serialise to bytes (the validated content, manifest in the metadata).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelFileError> {
        let manifest = serde_json::to_string(&self.manifest)
            .map_err(|e| ModelFileError::Manifest(e.to_string()))?;
        let metadata = HashMap::from([
            (FORMAT_KEY.to_string(), FORMAT_NAME.to_string()),
            (MANIFEST_KEY.to_string(), manifest),
        ]);
        container::encode(&self.tensors, metadata)
    }

    /// Write atomically: a crash or full disk leaves the previous file intact.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        let bytes = self.to_bytes()?;
        container::write_atomic(path, &bytes)
            .map_err(|e| ModelFileError::Io(format!("{}: {e}", path.display())))
    }

    /// A tensor by name.
    pub fn tensor(&self, name: &str) -> Result<&Tensor32, ModelFileError> {
        self.tensors
            .get(name)
            .ok_or_else(|| ModelFileError::MissingTensor(name.to_string()))
    }

    /// Every tensor the manifest promises, with its shape (`None` for a free leading dimension).
    fn expected_tensors(&self) -> Vec<(String, Vec<Option<usize>>)> {
        let arch = &self.manifest.architecture;
        let fixed = |shape: Vec<usize>| shape.into_iter().map(Some).collect::<Vec<_>>();
        let mut expected: Vec<(String, Vec<Option<usize>>)> = encoder_layers(arch)
            .iter()
            .chain(decoder_layers(arch).iter())
            .flat_map(|layer| layer.tensors())
            .map(|(name, shape)| (name, fixed(shape)))
            .collect();
        expected.push((POINTS_MU.into(), vec![None, Some(arch.latent)]));
        expected.push((
            POINTS_LABELS.into(),
            vec![None, Some(self.manifest.labels.len())],
        ));
        if let Some(spec) = &self.manifest.symbols {
            let width = spec.width(&self.manifest.labels);
            expected.extend(
                symbol_encoder_layers(arch, spec, width)
                    .iter()
                    .chain(symbol_decoder_layers(arch, spec, width).iter())
                    .flat_map(|layer| layer.tensors())
                    .map(|(name, shape)| (name, fixed(shape))),
            );
            let groups = spec.trajectory_groups(&self.manifest.labels);
            if spec.attack_frames > 0 && spec.release_frames > 0 {
                expected.push((
                    ATTACK_TENSOR.into(),
                    fixed(vec![groups, spec.attack_frames, arch.latent]),
                ));
                expected.push((
                    RELEASE_TENSOR.into(),
                    fixed(vec![groups, spec.release_frames, arch.latent]),
                ));
                if spec.levels {
                    expected.push((
                        ATTACK_LEVEL_TENSOR.into(),
                        fixed(vec![groups, spec.attack_frames]),
                    ));
                    expected.push((
                        RELEASE_LEVEL_TENSOR.into(),
                        fixed(vec![groups, spec.release_frames]),
                    ));
                }
            }
        }
        if let Some(maps) = &self.manifest.descriptor_maps {
            expected.push((
                DESCRIPTOR_MAPS.into(),
                fixed(vec![Descriptor::ALL.len(), maps.size, maps.size]),
            ));
        }
        for p in &self.manifest.projections {
            let name = |part| projection_tensor(&p.name, part);
            expected.push((name("mean"), fixed(vec![arch.latent])));
            expected.push((name("unmixing"), fixed(vec![p.dims, arch.latent])));
            expected.push((name("mixing"), fixed(vec![arch.latent, p.dims])));
            expected.push((name("scale"), fixed(vec![p.dims])));
        }
        expected
    }

    /// Check every manifest field and tensor.
    fn validate(&self) -> Result<(), ModelFileError> {
        let m = &self.manifest;
        if m.format != FORMAT_NAME {
            return Err(ModelFileError::NotAModel(format!("format `{}`", m.format)));
        }
        if m.version != FORMAT_VERSION {
            return Err(ModelFileError::Version {
                found: u64::from(m.version),
                supported: FORMAT_VERSION,
            });
        }
        let stft = m.signal.stft()?;
        let arch = &m.architecture;
        let bad = |why: String| Err(ModelFileError::Manifest(why));
        if arch.bins != stft.bins() {
            return bad(format!(
                "{} bins but FFT size {} gives {}",
                arch.bins,
                stft.n_fft(),
                stft.bins()
            ));
        }
        if !(2..=64).contains(&arch.latent) {
            return bad(format!("latent size {} is outside 2–64", arch.latent));
        }
        if arch.hidden.iter().any(|&h| h == 0 || h > 8192) {
            return bad(format!("hidden widths {:?} must be 1–8192", arch.hidden));
        }
        match (arch.kind, arch.conv) {
            (ArchKind::Mlp, None) => {}
            (ArchKind::Conv, Some(c))
                if c.kernel % 2 == 1
                    && (1..=6).contains(&c.stages)
                    && (1..=256).contains(&c.channels) => {}
            _ => return bad("convolution shape missing, unexpected or out of range".into()),
        }
        let positive = |v: f32| v.is_finite() && v > 0.0;
        if !positive(arch.sigma) || !positive(m.scaling.gain) {
            return bad("decoder sigma and scaling gain must be positive".into());
        }
        for p in &m.projections {
            if p.dims == 0 || p.dims > arch.latent {
                return bad(format!(
                    "projection `{}` has {} axes for {} latent dimensions",
                    p.name, p.dims, arch.latent
                ));
            }
        }
        if let Some(maps) = &m.descriptor_maps {
            let basis_known =
                maps.basis == "raw" || m.projections.iter().any(|p| p.name == maps.basis);
            let span_ok = maps.span.is_finite() && maps.span > 0.0 && maps.span <= 100.0;
            if !(basis_known && span_ok && (2..=512).contains(&maps.size)) {
                return bad(format!(
                    "descriptor maps on `{}` ({} points, ±{} σ) are out of range",
                    maps.basis, maps.size, maps.span
                ));
            }
        }
        if let Some(pitch) = &m.pitch_direction {
            let finite = pitch.per_semitone.iter().all(|v| v.is_finite());
            let moves = pitch.per_semitone.iter().any(|&v| v != 0.0);
            if pitch.per_semitone.len() != arch.latent || !finite || !moves {
                return bad(format!(
                    "the pitch direction must be {} finite values, not all zero",
                    arch.latent
                ));
            }
        }
        if let Some(spec) = &m.symbols {
            let known = |k: &String| m.labels.iter().any(|l| &l.name == k);
            if spec.kinds.is_empty() || !spec.kinds.iter().all(known) {
                return bad(format!(
                    "symbol kinds {:?} must all be label kinds",
                    spec.kinds
                ));
            }
            if !spec.trajectory_kinds.iter().all(|k| spec.kinds.contains(k)) {
                return bad(format!(
                    "trajectory kinds {:?} must all be symbol kinds",
                    spec.trajectory_kinds
                ));
            }
            if spec.hidden.iter().any(|&h| h == 0 || h > 8192)
                || spec.attack_frames > 100_000
                || spec.release_frames > 100_000
            {
                return bad("symbol network or trajectory sizes out of range".into());
            }
            SymbolVocabulary::from_manifest(m)?;
        }
        for (name, shape) in self.expected_tensors() {
            let tensor = self.tensor(&name)?;
            let matches = tensor.shape.len() == shape.len()
                && tensor
                    .shape
                    .iter()
                    .zip(&shape)
                    .all(|(&a, b)| b.is_none_or(|b| a == b));
            if !matches {
                let shown: Vec<String> = shape
                    .iter()
                    .map(|d| d.map_or("N".into(), |d| d.to_string()))
                    .collect();
                return Err(ModelFileError::Shape {
                    name,
                    expected: format!("[{}]", shown.join(", ")),
                    found: format!("{:?}", tensor.shape),
                });
            }
            if tensor.data.len() != tensor.shape.iter().product::<usize>() {
                return Err(ModelFileError::Shape {
                    name,
                    expected: format!("{:?}", tensor.shape),
                    found: format!("{} values", tensor.data.len()),
                });
            }
            if tensor.data.iter().any(|v| !v.is_finite()) {
                return Err(ModelFileError::NonFinite(name));
            }
        }
        self.validate_labels()
    }

    /// Label indices must name a class or be −1.
    fn validate_labels(&self) -> Result<(), ModelFileError> {
        let labels = self.tensor(POINTS_LABELS)?;
        let kinds = self.manifest.labels.len();
        if self.tensor(POINTS_MU)?.shape[0] != labels.shape[0] {
            return Err(ModelFileError::Shape {
                name: POINTS_LABELS.into(),
                expected: "one row per point".into(),
                found: format!("{:?}", labels.shape),
            });
        }
        for (i, &v) in labels.data.iter().enumerate() {
            let classes = self.manifest.labels[i % kinds].classes.len() as f32;
            if v != -1.0 && !(v >= 0.0 && v < classes && v.fract() == 0.0) {
                return Err(ModelFileError::Manifest(format!(
                    "label value {v} is not a class of `{}`",
                    self.manifest.labels[i % kinds].name
                )));
            }
        }
        Ok(())
    }
}
