//! A set of named f32 tensors plus string metadata in one safetensors blob, written atomically.
//! `.tsm` model files and training checkpoints both use it.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};

use super::ModelFileError;

/// A dense row-major f32 tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor32 {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

impl Tensor32 {
    /// A tensor from its shape and data; the caller guarantees they agree.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor32 { shape, data }
    }
}

/// Named tensors in name order.
pub type TensorMap = BTreeMap<String, Tensor32>;

/// Serialise tensors and metadata to safetensors bytes.
pub fn encode(
    tensors: &TensorMap,
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, ModelFileError> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                t.shape.clone(),
            )
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| ModelFileError::Manifest(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| ModelFileError::Manifest(e.to_string()))
}

/// Parse safetensors bytes into f32 tensors and metadata. Non-f32 tensors are rejected.
pub fn decode(bytes: &[u8]) -> Result<(TensorMap, HashMap<String, String>), ModelFileError> {
    let parsed = SafeTensors::deserialize(bytes).map_err(classify)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(classify)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut tensors = TensorMap::new();
    for (name, view) in parsed.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(ModelFileError::Dtype {
                name,
                found: format!("{:?}", view.dtype()),
            });
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.insert(name, Tensor32::new(view.shape().to_vec(), data));
    }
    Ok((tensors, metadata))
}

/// Sort safetensors' complaints into "cut short" and "not a tensor file at all".
fn classify(error: SafeTensorError) -> ModelFileError {
    match error {
        SafeTensorError::HeaderTooSmall
        | SafeTensorError::MetadataIncompleteBuffer
        | SafeTensorError::InvalidOffset(_) => ModelFileError::Truncated(error.to_string()),
        other => ModelFileError::NotAModel(other.to_string()),
    }
}

/// Write `bytes` to `path` so that readers see the old file or the new one, never a mix: write
/// a temporary file beside it, flush it to disk, then rename it over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: a failed write must not leave litter, and its own error is the one to report.
        let _ = fs::remove_file(&tmp);
    }
    result
}
