//! Timbrespace model files (`.tsm`, DESIGN §8) and the decoder kernel that plays them without
//! a machine-learning framework.

pub mod container;
pub mod file;
pub mod kernel;
pub mod layers;
pub mod manifest;

pub use container::{Tensor32, TensorMap};
pub use file::ModelFile;
pub use kernel::{DecoderKernel, NetworkKernel};
pub use manifest::{Manifest, Scaling};

use thiserror::Error;

/// Why a model file could not be read, written or used. A player keeps its previous model on
/// any of these.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ModelFileError {
    /// The file could not be read or written.
    #[error("cannot access model file {0}")]
    Io(String),
    /// The file ends early: an interrupted copy or download.
    #[error("model file is truncated ({0}); copy it again or re-export it")]
    Truncated(String),
    /// The bytes are not a Timbrespace model.
    #[error("not a Timbrespace model file: {0}")]
    NotAModel(String),
    /// Written by a different format version.
    #[error("model format version {found} is not supported (this build reads version {supported}); re-export the model with this version of timbrespace")]
    Version {
        /// Version in the file (0 when absent).
        found: u64,
        /// Version this build reads.
        supported: u32,
    },
    /// The manifest is missing a field or holds an impossible value.
    #[error("invalid model manifest: {0}")]
    Manifest(String),
    /// A tensor the manifest requires is absent.
    #[error("model is missing tensor `{0}`")]
    MissingTensor(String),
    /// A tensor has the wrong shape for the manifest's architecture.
    #[error("tensor `{name}` has shape {found}, expected {expected}")]
    Shape {
        /// Tensor name.
        name: String,
        /// What the manifest implies.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A tensor is not stored as 32-bit floats.
    #[error("tensor `{name}` is stored as {found}, expected F32")]
    Dtype {
        /// Tensor name.
        name: String,
        /// The stored type.
        found: String,
    },
    /// A tensor holds NaN or infinity (a diverged training run).
    #[error("tensor `{0}` holds NaN or infinite values; the training run probably diverged")]
    NonFinite(String),
}
