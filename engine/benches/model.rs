//! Model benchmarks (`cargo xtask bench-model`): loading and validating the default model, and
//! the decoder kernel's cost per frame for a 16 → 512 → 512 → 513 MLP at batch 1 and 8 on one
//! core (targets: load ≤ 50 ms, batch 1 ≤ 20 µs per frame).

use std::path::Path;
use std::time::Instant;

use timbrespace_engine::model::{DecoderKernel, ModelFile};

/// Median of `runs` timings of `f`, in seconds.
fn median_seconds(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// A latent path that moves every frame, as a played voice does.
fn latent_path(frames: usize, latent: usize) -> Vec<f32> {
    (0..frames * latent)
        .map(|i| ((i as f32) * 0.37).sin() * 1.5)
        .collect()
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/default.tsm");
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let load = median_seconds(11, || {
        ModelFile::load(&path).expect("assets/default.tsm loads");
    });
    println!(
        "model load + validation   {:>8.2} ms  ({:.1} MB, {})",
        load * 1e3,
        bytes as f64 / 1e6,
        path.display()
    );
    let model = ModelFile::load(&path).expect("assets/default.tsm loads");
    let arch = &model.manifest.architecture;
    println!(
        "decoder                   {} → {:?} → {} ({:?})",
        arch.latent,
        arch.hidden.iter().rev().collect::<Vec<_>>(),
        arch.bins,
        arch.kind
    );
    for batch in [1usize, 8] {
        let mut kernel = DecoderKernel::new(&model, batch).expect("kernel");
        let frames = 2000;
        let path = latent_path(frames, kernel.latent() * batch);
        let mut out = vec![0.0; batch * kernel.bins()];
        let step = kernel.latent() * batch;
        // Warm the caches once.
        kernel.decode_batch(&path[..step], &mut out);
        let seconds = median_seconds(5, || {
            for z in path.chunks_exact(step) {
                kernel.decode_batch(z, &mut out);
            }
        });
        println!(
            "kernel batch {batch:<2}           {:>8.2} µs per frame",
            seconds / (frames * batch) as f64 * 1e6
        );
    }
}
