//! Motifs generated from the factorised motif space (issue 9, DESIGN §7): the space's decoder
//! (code → per step, logits of each pitch row starting a note and of none, a softmax apart),
//! the codes of chosen motifs, and the mean latent
//! move of a transposition by each number of semitones and of a time shift by each number of
//! steps the space was trained on. Playing a motif at a position, pitch and time shift decodes
//! `blend of two codes + pitch move + time move` — the shifts are moves along the space's
//! learned directions, not edits of a decoded roll. Written by `timbrespace motif-space --bank`
//! as a safetensors container (the weights are too many for JSON).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::bank::MotifBankError;
use crate::model::container::{self, TensorMap};
use crate::model::kernel::NetworkKernel;
use crate::model::layers::motif_decoder_layers;
use crate::model::Tensor32;

/// Metadata key of a motif-space bank's header.
pub const SPACE_KEY: &str = "timbrespace-motif-space";
/// Version of the motif-space bank format this engine reads.
pub const SPACE_FORMAT: u32 = 1;
/// Tensor of the chosen motifs' codes, `[motifs, latent]`.
pub const CODES: &str = "motif.codes";
/// Tensor of the mean move per transposition, `[2 · max_pitch + 1, latent]`, from −max_pitch
/// semitones up.
pub const PITCH_MOVES: &str = "motif.pitch_moves";
/// Tensor of the mean move per time shift, `[2 · max_time + 1, latent]`, from −max_time steps.
pub const TIME_MOVES: &str = "motif.time_moves";
/// Largest latent size, hidden width, shift and motif count a bank may ask for (far beyond what
/// training makes; bounds what a damaged file can make the loader allocate).
const MAX_SIZE: usize = 8192;

/// A motif-space bank's header (the container's metadata).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceHeader {
    /// [`SPACE_FORMAT`].
    pub format: u32,
    /// MIDI key of row 0 at the reference root.
    pub lowest_key: u8,
    /// Pitch rows (semitones) of a patch.
    pub rows: usize,
    /// Sixteenth-note steps of a patch (it loops).
    pub steps: usize,
    /// Latent size.
    pub latent: usize,
    /// Hidden width of the decoder.
    pub hidden: usize,
    /// Largest transposition with a learned move, semitones.
    pub max_pitch: usize,
    /// Largest time shift with a learned move, steps.
    pub max_time: usize,
    /// Where the motifs come from (shown to the musician).
    pub source: String,
}

/// What a motif-space bank holds, checked.
#[derive(Debug, Clone)]
pub struct SpaceMotifs {
    /// The header.
    header: SpaceHeader,
    /// The motifs' codes, `motifs × latent`.
    codes: Vec<f32>,
    /// Mean move per transposition, from −max_pitch.
    pitch_moves: Vec<f32>,
    /// Mean move per time shift, from −max_time.
    time_moves: Vec<f32>,
    /// The decoder, ready to run; each player runs a clone of it (which shares the weights
    /// and has its own activation buffers).
    decoder: NetworkKernel,
}

/// The buffers one player decodes motif-space motifs with.
#[derive(Debug, Clone)]
pub struct SpaceScratch {
    /// Its own clone of the decoder (shared weights, its own mutable buffers).
    decoder: NetworkKernel,
    /// The code being decoded.
    code: Vec<f32>,
    /// Its logits, per step each row's and the rest's: `steps × (rows + 1)`.
    logits: Vec<f32>,
}

/// `tensor`'s data when its shape is `shape`.
fn shaped<'a>(
    tensors: &'a TensorMap,
    name: &str,
    shape: &[usize],
) -> Result<&'a [f32], MotifBankError> {
    let tensor = tensors
        .get(name)
        .ok_or_else(|| MotifBankError::Damaged(format!("no tensor `{name}`")))?;
    if tensor.shape != shape || tensor.data.len() != shape.iter().product::<usize>() {
        return Err(MotifBankError::Damaged(format!(
            "tensor `{name}` has shape {:?}, expected {shape:?}",
            tensor.shape
        )));
    }
    if tensor.data.iter().any(|v| !v.is_finite()) {
        return Err(MotifBankError::Damaged(format!("`{name}` is not finite")));
    }
    Ok(&tensor.data)
}

impl SpaceMotifs {
    /// Reads a motif-space bank from its container bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MotifBankError> {
        let (tensors, metadata) =
            container::decode(bytes).map_err(|e| MotifBankError::NotABank(e.to_string()))?;
        let text = metadata.get(SPACE_KEY).ok_or_else(|| {
            MotifBankError::NotABank("a tensor file without a motif-space header".into())
        })?;
        let header: SpaceHeader = serde_json::from_str(text)?;
        Self::new(header, &tensors)
    }

    /// Checks `header` against `tensors` and prepares the decoder.
    pub fn new(header: SpaceHeader, tensors: &TensorMap) -> Result<Self, MotifBankError> {
        if header.format != SPACE_FORMAT {
            return Err(MotifBankError::Format {
                found: header.format,
            });
        }
        let h = &header;
        let sizes = [h.rows, h.steps, h.latent, h.hidden];
        if sizes.iter().any(|&s| s == 0 || s > MAX_SIZE)
            || h.max_pitch > MAX_SIZE
            || h.max_time > MAX_SIZE
            || usize::from(h.lowest_key) + h.rows > 128
        {
            return Err(MotifBankError::Damaged(format!(
                "rows {}, steps {}, latent {}, hidden {}, shifts {}/{} or lowest key {} out of \
                 range",
                h.rows, h.steps, h.latent, h.hidden, h.max_pitch, h.max_time, h.lowest_key,
            )));
        }
        let motifs = tensors
            .get(CODES)
            .and_then(|t| t.shape.first().copied())
            .unwrap_or(0);
        if motifs == 0 || motifs > MAX_SIZE {
            return Err(MotifBankError::Damaged(format!(
                "{motifs} motifs (need 1–{MAX_SIZE})"
            )));
        }
        let codes = shaped(tensors, CODES, &[motifs, h.latent])?.to_vec();
        let pitch_moves = shaped(tensors, PITCH_MOVES, &[2 * h.max_pitch + 1, h.latent])?;
        let time_moves = shaped(tensors, TIME_MOVES, &[2 * h.max_time + 1, h.latent])?;
        let layers = motif_decoder_layers(h.latent, h.hidden, (h.rows + 1) * h.steps);
        let decoder = NetworkKernel::new(tensors, &layers, h.latent, 1)
            .map_err(|e| MotifBankError::Damaged(e.to_string()))?;
        Ok(Self {
            pitch_moves: pitch_moves.to_vec(),
            time_moves: time_moves.to_vec(),
            codes,
            decoder,
            header,
        })
    }

    /// The header.
    pub fn header(&self) -> &SpaceHeader {
        &self.header
    }

    /// Number of motifs.
    pub fn len(&self) -> usize {
        self.codes.len() / self.header.latent
    }

    /// Whether it has none (never true once checked).
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Motif `i`'s code.
    pub fn code(&self, i: usize) -> &[f32] {
        &self.codes[i * self.header.latent..][..self.header.latent]
    }

    /// Buffers to decode with (allocates; make them off the audio thread).
    pub fn scratch(&self) -> SpaceScratch {
        SpaceScratch {
            decoder: self.decoder.clone(),
            code: vec![0.0; self.header.latent],
            logits: vec![0.0; (self.header.rows + 1) * self.header.steps],
        }
    }

    /// The part of a transposition by `semitones` the space moves along its learned direction
    /// (the rest is played as an exact transposition).
    pub fn learned_pitch(&self, semitones: i32) -> i32 {
        let max = self.header.max_pitch as i32;
        semitones.clamp(-max, max)
    }

    /// Onset probabilities (row-major `rows × steps`) of the blend at `x` (motif index plus
    /// fraction) moved by `pitch` semitones and `time` steps: as much of each as the space
    /// learned as a move, the rest of the time shift as a rotation of the loop. The pitch
    /// beyond the learned range is the sequencer's. Allocation-free.
    pub fn decode(
        &self,
        (i, j, f): (usize, usize, f32),
        (pitch, time): (i32, i32),
        scratch: &mut SpaceScratch,
        out: &mut [f32],
    ) {
        let h = &self.header;
        let latent = h.latent;
        let pitch = self.learned_pitch(pitch);
        let max_time = h.max_time as i32;
        let learned_time = time.clamp(-max_time, max_time);
        let rotation = (time - learned_time).rem_euclid(h.steps as i32) as usize;
        let a = &self.codes[i * latent..][..latent];
        let b = &self.codes[j * latent..][..latent];
        let p = &self.pitch_moves[(pitch + h.max_pitch as i32) as usize * latent..][..latent];
        let t = &self.time_moves[(learned_time + max_time) as usize * latent..][..latent];
        for (k, z) in scratch.code.iter_mut().enumerate() {
            *z = (1.0 - f) * a[k] + f * b[k] + p[k] + t[k];
        }
        scratch.decoder.run(&scratch.code, &mut scratch.logits);
        for (step, logits) in scratch.logits.chunks_exact(h.rows + 1).enumerate() {
            let column = (step + rotation) % h.steps;
            // The softmax over the rows and the rest, shifted by the largest for range.
            let top = logits.iter().fold(f32::NEG_INFINITY, |m, &l| m.max(l));
            let total: f32 = logits.iter().map(|&l| (l - top).exp()).sum();
            for (row, &logit) in logits[..h.rows].iter().enumerate() {
                out[row * h.steps + column] = (logit - top).exp() / total;
            }
        }
    }
}

/// The container bytes of a motif-space bank: `header`, the decoder's weights (named as
/// [`motif_decoder_layers`] names them), the codes and the moves.
pub fn space_bank_bytes(
    header: &SpaceHeader,
    mut tensors: TensorMap,
    codes: Tensor32,
    pitch_moves: Tensor32,
    time_moves: Tensor32,
) -> Result<Vec<u8>, MotifBankError> {
    tensors.insert(CODES.into(), codes);
    tensors.insert(PITCH_MOVES.into(), pitch_moves);
    tensors.insert(TIME_MOVES.into(), time_moves);
    let metadata = HashMap::from([(SPACE_KEY.to_string(), serde_json::to_string(header)?)]);
    container::encode(&tensors, metadata).map_err(|e| MotifBankError::Damaged(e.to_string()))
}
