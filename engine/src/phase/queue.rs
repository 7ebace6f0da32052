//! The priority queue of the heap integration: a bucket queue over log-magnitude.
//!
//! PGHI only needs "roughly the loudest cell next": keys are log-magnitudes between the
//! tolerance floor and the loudest cell, so they fall into a fixed number of narrow buckets
//! (0.05 nepers, under 0.5 dB, each for the real-time range). Push and pop are O(1) and touch
//! only preallocated arrays, which makes the integration several times cheaper than a binary heap.

/// Number of key buckets between the floor and the top.
const BUCKETS: usize = 256;
/// Marks the end of a bucket's list.
const NONE: u32 = u32::MAX;

/// Max-priority bucket queue of grid cells. Each bucket is an intrusive stack threaded through
/// `next`, so the storage is one `u32` per cell plus one per bucket, all sized in `new`.
pub(crate) struct BucketQueue {
    /// First cell of each bucket's stack.
    heads: Vec<u32>,
    /// Next cell in the same bucket, per cell.
    next: Vec<u32>,
    /// Highest bucket that may be non-empty.
    top: usize,
    /// Cells currently queued.
    len: usize,
    /// Key of the lowest bucket's lower edge.
    floor: f32,
    /// Buckets per unit of key.
    scale: f32,
}

impl BucketQueue {
    /// A queue for cells numbered below `cells`.
    pub fn with_capacity(cells: usize) -> Self {
        Self {
            heads: vec![NONE; BUCKETS],
            next: vec![NONE; cells],
            top: 0,
            len: 0,
            floor: 0.0,
            scale: 1.0,
        }
    }

    /// Empties the queue and spreads its buckets over keys `floor..=ceiling`; keys outside go
    /// to the lowest or highest bucket.
    pub fn clear(&mut self, floor: f32, ceiling: f32) {
        self.heads.fill(NONE);
        self.top = 0;
        self.len = 0;
        self.floor = floor;
        let span = (ceiling - floor).max(1e-6);
        self.scale = (BUCKETS - 1) as f32 / span;
    }

    /// Queues `cell` (below the capacity) with priority `key`.
    pub fn push(&mut self, key: f32, cell: u32) {
        // NaN and keys below the floor land in bucket 0 (the cast saturates).
        let bucket = (((key - self.floor) * self.scale) as usize).min(BUCKETS - 1);
        self.next[cell as usize] = self.heads[bucket];
        self.heads[bucket] = cell;
        self.top = self.top.max(bucket);
        self.len += 1;
    }

    /// Removes and returns a cell of the highest non-empty bucket.
    pub fn pop(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        while self.heads[self.top] == NONE {
            self.top -= 1;
        }
        let cell = self.heads[self.top];
        self.heads[self.top] = self.next[cell as usize];
        self.len -= 1;
        Some(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_descending_key_order() {
        let keys = [3.0, -1.0, 7.5, 0.0, 7.0, 2.0, -4.0, -0.5];
        let mut queue = BucketQueue::with_capacity(keys.len());
        queue.clear(-4.0, 7.5);
        for (i, &k) in keys.iter().enumerate() {
            queue.push(k, i as u32);
        }
        let order: Vec<u32> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(order, vec![2, 4, 0, 5, 3, 7, 1, 6]);
    }

    #[test]
    fn louder_keys_pushed_after_pops_come_out_first() {
        let mut queue = BucketQueue::with_capacity(4);
        queue.clear(0.0, 10.0);
        queue.push(2.0, 0);
        queue.push(1.0, 1);
        assert_eq!(queue.pop(), Some(0));
        queue.push(9.0, 2);
        queue.push(f32::NAN, 3);
        assert_eq!(queue.pop(), Some(2));
        assert_eq!(queue.pop(), Some(1));
        assert_eq!(queue.pop(), Some(3));
        assert_eq!(queue.pop(), None);
    }
}
