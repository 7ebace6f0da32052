//! Epochs of shuffled mini-batches: the loop the motif and patch trainers share.

/// Runs `epochs` passes over the items `0..count`. Before each pass the running order is
/// shuffled again with `rng`, then cut into chunks of `batch`; chunks shorter than
/// `min_batch` are skipped (a term that compares the items of a batch needs two).
/// `step` trains on one chunk, with the same `rng` for its own draws, and returns what that
/// batch measured. Returns each epoch's measurements, batch by batch.
pub fn shuffled_epochs<T, E>(
    count: usize,
    epochs: usize,
    batch: usize,
    min_batch: usize,
    rng: &mut fastrand::Rng,
    mut step: impl FnMut(&[usize], &mut fastrand::Rng) -> Result<T, E>,
) -> Result<Vec<Vec<T>>, E> {
    let min_batch = min_batch.max(1);
    let mut order: Vec<usize> = (0..count).collect();
    let mut history = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        rng.shuffle(&mut order);
        let mut measured = Vec::new();
        for chunk in order
            .chunks(batch.max(min_batch))
            .filter(|c| c.len() >= min_batch)
        {
            measured.push(step(chunk, rng)?);
        }
        history.push(measured);
    }
    Ok(history)
}

/// The mean of `values` (NaN when there are none, as for an epoch without a batch).
pub fn mean(values: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = values.len() as f64;
    values.sum::<f64>() / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_seen_once_per_epoch_and_short_chunks_are_skipped() {
        let mut rng = fastrand::Rng::with_seed(3);
        let history = shuffled_epochs(7, 3, 3, 2, &mut rng, |chunk, _| Ok::<_, ()>(chunk.to_vec()))
            .expect("runs");
        assert_eq!(history.len(), 3);
        for epoch in &history {
            // 7 items in chunks of 3: the last chunk (1 item) is too short.
            assert_eq!(epoch.len(), 2);
            let mut seen: Vec<usize> = epoch.iter().flatten().copied().collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), 6);
        }
        assert_ne!(history[0], history[1], "each epoch is shuffled again");
        assert!((mean([1.0, 2.0, 6.0].into_iter()) - 3.0).abs() < 1e-12);
    }
}
