//! The regularisers and projections on known cases: Rényi tends to KL as α → 1, MMD tells the
//! prior from a shifted distribution, every objective trains, and ICA unmixes known sources.

mod common;

use candle_core::{Device, Tensor};
use common::*;
use timbrespace_models::objective::{kl_to_prior, mmd, renyi_to_prior, MmdKernel, Regularizer};
use timbrespace_models::projection::{fit_ica, fit_pca};
use timbrespace_models::random::gaussian_vec;
use timbrespace_models::train::TrainConfig;

fn scalar(t: Tensor) -> f32 {
    t.to_scalar::<f32>().expect("scalar")
}

#[test]
fn renyi_tends_to_kl_and_mmd_separates_distributions() {
    let mu = Tensor::new(&[[0.5f32, -1.0, 0.2], [1.5, 0.0, -0.3]], &Device::Cpu).expect("tensor");
    let logvar =
        Tensor::new(&[[-0.5f32, 0.3, -2.0], [0.0, -1.0, 0.5]], &Device::Cpu).expect("tensor");
    let kl = scalar(kl_to_prior(&mu, &logvar).expect("kl"));
    let near_one = scalar(renyi_to_prior(&mu, &logvar, 0.999).expect("renyi"));
    assert!(
        (kl - near_one).abs() < 0.01 * kl,
        "KL {kl} vs Rényi(0.999) {near_one}"
    );
    // Rényi divergences grow with α.
    let half = scalar(renyi_to_prior(&mu, &logvar, 0.5).expect("renyi"));
    assert!(half < near_one);

    let mut rng = fastrand::Rng::with_seed(5);
    let sample = |rng: &mut fastrand::Rng, shift: f32| {
        let v: Vec<f32> = gaussian_vec(rng, 400 * 4)
            .into_iter()
            .map(|x| x + shift)
            .collect();
        Tensor::from_vec(v, (400, 4), &Device::Cpu).expect("tensor")
    };
    let prior = sample(&mut rng, 0.0);
    for kernel in [MmdKernel::Rbf, MmdKernel::Imq] {
        let same = scalar(mmd(&sample(&mut rng, 0.0), &prior, kernel).expect("mmd"));
        let shifted = scalar(mmd(&sample(&mut rng, 1.0), &prior, kernel).expect("mmd"));
        assert!(
            shifted > 10.0 * same.abs(),
            "{kernel:?}: same {same}, shifted {shifted}"
        );
    }
}

#[test]
fn every_objective_trains() {
    let scratch = temp_dir("objectives");
    let dir = scratch.path();
    let dataset = toy_dataset(dir, 60);
    let split = dataset.split(0.25, 1).expect("splits");
    let regularizers = [
        Regularizer::Mmd {
            lambda: 100.0,
            kernel: MmdKernel::Imq,
        },
        Regularizer::Mmd {
            lambda: 100.0,
            kernel: MmdKernel::Rbf,
        },
        Regularizer::Renyi {
            alpha: 0.5,
            beta: 1.0,
            warmup: 2,
        },
    ];
    for regularizer in regularizers {
        let config = TrainConfig {
            regularizer,
            ..tiny_config(tiny_arch(false, 4), 12)
        };
        let trained = run_training(&dataset, &split, &config, None, false);
        let (first, last) = (
            &trained.history[0],
            &trained.history[trained.history.len() - 1],
        );
        assert!(
            last.test_recon < 0.7 * first.test_recon,
            "{regularizer}: {} → {}",
            first.test_recon,
            last.test_recon
        );
        assert!(last.test_reg.is_finite());
    }
}

#[test]
fn ica_unmixes_independent_sources_and_pca_orders_variance() {
    // Two independent uniform sources, mixed into three latent dimensions (one unused).
    let mut rng = fastrand::Rng::with_seed(11);
    let n = 3000;
    let sources: Vec<[f32; 2]> = (0..n)
        .map(|_| [rng.f32() * 2.0 - 1.0, rng.f32() * 2.0 - 1.0])
        .collect();
    let points: Vec<f32> = sources
        .iter()
        .flat_map(|[a, b]| [2.0 * a + 0.5 * b, 0.3 * a - 1.0 * b, 0.0])
        .collect();
    let pca = fit_pca(&points, 3);
    assert!(pca.scale[0] >= pca.scale[1] && pca.scale[1] >= pca.scale[2]);
    assert!(pca.scale[2] < 1e-6, "the unused dimension has no variance");
    let ica = fit_ica(&points, 3, 2);
    assert_eq!(ica.dims, 2, "collapsed directions are not axes");
    for axis in 0..2 {
        let recovered: Vec<f64> = points
            .chunks_exact(3)
            .map(|z| ica.project(z)[axis])
            .collect();
        let best = (0..2)
            .map(|s| {
                correlation(
                    &recovered,
                    &sources.iter().map(|p| f64::from(p[s])).collect::<Vec<_>>(),
                )
                .abs()
            })
            .fold(0.0f64, f64::max);
        assert!(
            best > 0.98,
            "axis {axis} matches a source with |r| = {best:.3}"
        );
    }
    // Projecting and unprojecting is the identity on the data's span.
    let z = &points[..3];
    let back = ica.unproject(&ica.project(z));
    assert!(
        z.iter().zip(&back).all(|(a, b)| (a - b).abs() < 1e-4),
        "{z:?} vs {back:?}"
    );
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}
