//! A max-heap of grid cells keyed by log-magnitude, with its storage allocated up front.

use std::collections::BinaryHeap;

/// Max-heap of cells keyed by an `f32`. Each entry packs the key's order-preserving bit pattern
/// above the cell index in one `u64`, so the standard heap sifts plain integers (several times
/// faster than comparing float pairs). `push` never grows the storage: the capacity is the size
/// of the grid it serves, and each cell enters at most once per integration.
pub(crate) struct MaxHeap {
    items: BinaryHeap<u64>,
}

/// Maps an `f32` to a `u32` whose unsigned order is the float's total order.
fn ordered_bits(key: f32) -> u32 {
    let bits = key.to_bits();
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

impl MaxHeap {
    /// A heap for at most `capacity` cells.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            items: BinaryHeap::with_capacity(capacity),
        }
    }

    /// Removes everything, keeping the storage.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Inserts `cell` with priority `key`. The caller guarantees the capacity is not exceeded.
    pub fn push(&mut self, key: f32, cell: u32) {
        debug_assert!(self.items.len() < self.items.capacity(), "heap would grow");
        self.items
            .push((u64::from(ordered_bits(key)) << 32) | u64::from(cell));
    }

    /// Removes and returns the cell with the largest key.
    pub fn pop(&mut self) -> Option<u32> {
        // The low 32 bits hold the cell index.
        self.items.pop().map(|item| item as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_descending_key_order() {
        let keys = [3.0, -1.0, 7.5, 0.0, 7.0, 2.0, -4.0, -0.5];
        let mut heap = MaxHeap::with_capacity(keys.len());
        for (i, &k) in keys.iter().enumerate() {
            heap.push(k, i as u32);
        }
        let order: Vec<u32> = std::iter::from_fn(|| heap.pop()).collect();
        assert_eq!(order, vec![2, 4, 0, 5, 3, 7, 1, 6]);
    }
}
