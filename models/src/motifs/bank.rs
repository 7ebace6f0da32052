//! A motif bank for the instrument's *Motif* mode, from a trained CONV-WTA model: its atoms and
//! decoder bias, and the sparse codes of chosen training windows, ordered along the first
//! principal axis of their summary codes so that neighbouring motifs are alike and the Motif
//! position parameter morphs rather than jumps.

use timbrespace_engine::motif::bank::{CodeEntry, MotifBankFile, BANK_FORMAT};

use super::piano_roll::PianoRoll;
use super::wta::{ConvWta, WtaError};
use crate::projection::fit_pca;

/// Windows a batch of code extraction reads at once (bounds candle's memory).
const CHUNK: usize = 256;

/// A bank of `count` motifs chosen from `windows` (fewer if there are fewer windows), whose
/// row 0 is MIDI key `lowest_key` at the reference root; `source` says where they come from.
pub fn motif_bank(
    model: &ConvWta,
    windows: &[PianoRoll],
    count: usize,
    lowest_key: u8,
    source: &str,
) -> Result<MotifBankFile, WtaError> {
    let (Some(first), true) = (windows.first(), count > 0) else {
        return Err(WtaError::NoWindows);
    };
    let summaries = model.summaries(windows)?;
    let maps = summaries.first().map_or(0, Vec::len);
    let flat: Vec<f32> = summaries.iter().flatten().copied().collect();
    let chosen = spread_along_first_axis(&flat, maps, count);
    let mut motifs = Vec::with_capacity(chosen.len());
    for batch in chosen.chunks(CHUNK) {
        let rolls: Vec<PianoRoll> = batch.iter().map(|&i| windows[i].clone()).collect();
        // (batch, steps, maps)
        for code in model.codes(&rolls)?.to_vec3::<f32>()? {
            let entries =
                code.iter()
                    .enumerate()
                    .flat_map(|(step, row)| {
                        row.iter().enumerate().filter(|(_, v)| **v > 0.0).map(
                            move |(map, &value)| CodeEntry {
                                map: map as u16,
                                step: step as u16,
                                value,
                            },
                        )
                    })
                    .collect();
            motifs.push(entries);
        }
    }
    let atoms = model.atoms()?;
    Ok(MotifBankFile {
        format: BANK_FORMAT,
        lowest_key,
        rows: first.rows,
        steps: first.steps,
        maps: atoms.len(),
        atom_steps: atoms.first().map_or(0, |a| a.steps),
        atoms: atoms.iter().flat_map(|a| a.cells.iter().copied()).collect(),
        bias: model.bias()?,
        motifs,
        source: source.to_string(),
    })
}

/// Indices of `count` of the vectors in `flat` (each `dims` values; fewer if there are fewer
/// vectors), picked evenly along their first principal axis and in its order, so that
/// neighbours are alike.
pub fn spread_along_first_axis(flat: &[f32], dims: usize, count: usize) -> Vec<usize> {
    let n = flat.len() / dims.max(1);
    if n == 0 || count == 0 {
        return Vec::new();
    }
    let pca = fit_pca(flat, dims);
    let mut order: Vec<(f64, usize)> = flat
        .chunks_exact(dims)
        .enumerate()
        .map(|(i, v)| (pca.project(v).first().copied().unwrap_or(0.0), i))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = count.min(n);
    let mut chosen: Vec<usize> = (0..count)
        .map(|k| order[k * (n - 1) / (count - 1).max(1)].1)
        .collect();
    chosen.dedup();
    chosen
}
