//! Intrinsic motivation: pseudo-counts of the states visited, over a coarse grid of the
//! explored dimensions. A cell's novelty is 1/√(1 + visits) (the count-based exploration bonus
//! of Bellemare et al.), so the agent is drawn to where it has not been, and keeps being drawn
//! there however long it plays.

use std::collections::HashMap;

use super::{MAX_DIMS, SPAN};

/// Grid cells per dimension: ±[`SPAN`] σ in cells of half a σ.
pub const CELLS: usize = 12;

/// Visit counts per grid cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Novelty {
    /// Visits per cell, by [`cell_key`].
    counts: HashMap<u64, u32>,
}

impl Novelty {
    /// No visits yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a visit to the cell of `state`'s first `dims` values.
    pub fn visit(&mut self, state: &[f32; MAX_DIMS], dims: usize) {
        *self.counts.entry(cell_key(state, dims, CELLS)).or_insert(0) += 1;
    }

    /// Visits to the cell of `state`.
    pub fn count(&self, state: &[f32; MAX_DIMS], dims: usize) -> u32 {
        self.counts
            .get(&cell_key(state, dims, CELLS))
            .copied()
            .unwrap_or(0)
    }

    /// The bonus for being in `state`: 1 where it has never been, falling with each visit.
    pub fn novelty(&self, state: &[f32; MAX_DIMS], dims: usize) -> f32 {
        1.0 / (1.0 + self.count(state, dims) as f32).sqrt()
    }

    /// Forgets every visit.
    pub fn clear(&mut self) {
        self.counts.clear();
    }

    /// The counts, for saving: (cell key, visits).
    pub fn to_pairs(&self) -> Vec<(u64, u32)> {
        let mut pairs: Vec<(u64, u32)> = self.counts.iter().map(|(&k, &v)| (k, v)).collect();
        pairs.sort_unstable();
        pairs
    }

    /// Counts saved by [`Novelty::to_pairs`].
    pub fn from_pairs(pairs: &[(u64, u32)]) -> Self {
        Self {
            counts: pairs.iter().copied().collect(),
        }
    }
}

/// The cell of a value in ±[`SPAN`] σ (values outside fall in the edge cells).
pub fn cell(value: f32, cells: usize) -> usize {
    let x = (value + SPAN) / (2.0 * SPAN) * cells as f32;
    if x.is_finite() {
        (x.max(0.0) as usize).min(cells - 1)
    } else {
        0
    }
}

/// The key of `state`'s cell over its first `dims` values on a grid of `cells` (at most 32)
/// per dimension: 4 bits for `dims`, then 5 bits per dimension.
pub fn cell_key(state: &[f32; MAX_DIMS], dims: usize, cells: usize) -> u64 {
    let dims = dims.min(MAX_DIMS);
    let cells = cells.clamp(1, 32);
    state[..dims]
        .iter()
        .enumerate()
        .fold(dims as u64, |k, (i, &v)| {
            k | ((cell(v, cells) as u64) << (4 + 5 * i))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn novelty_falls_with_visits_per_cell_and_survives_saving() {
        let mut novelty = Novelty::new();
        let a = [0.1; MAX_DIMS];
        let mut near_a = a;
        near_a[0] = 0.3;
        let mut b = a;
        b[1] = 2.0;
        assert_eq!(novelty.novelty(&a, 2), 1.0);
        novelty.visit(&a, 2);
        novelty.visit(&near_a, 2);
        assert_eq!(novelty.count(&a, 2), 2, "same half-σ cell");
        assert!((novelty.novelty(&a, 2) - 1.0 / 3f32.sqrt()).abs() < 1e-6);
        assert_eq!(novelty.count(&b, 2), 0);
        // Counts over 1 dimension are separate from counts over 2.
        assert_eq!(novelty.count(&a, 1), 0);
        let restored = Novelty::from_pairs(&novelty.to_pairs());
        assert_eq!(restored, novelty);
    }

    #[test]
    fn cells_cover_the_span_and_clamp_outside() {
        assert_eq!(cell(-3.0, 12), 0);
        assert_eq!(cell(-2.51, 12), 0);
        assert_eq!(cell(-2.49, 12), 1);
        assert_eq!(cell(2.99, 12), 11);
        assert_eq!(cell(7.0, 12), 11);
        assert_eq!(cell(f32::NAN, 12), 0);
    }
}
