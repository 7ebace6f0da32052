//! Descriptors against closed-form values: a sinusoid's centroid and roll-off are its
//! frequency and its loudness follows its amplitude; white noise is flat, a sinusoid is not;
//! silence and garbage give finite, documented values.

use timbrespace_engine::descriptors::{
    describe, Descriptor, DescriptorSettings, Moments, SILENCE_DB,
};
use timbrespace_engine::stft::{magnitude_stft, StftConfig};
use timbrespace_engine::window::WindowKind;

const RATE: f32 = 22_050.0;

fn config() -> StftConfig {
    StftConfig::new(1024, 256, WindowKind::Hann).expect("valid")
}

/// The middle frame of a signal's magnitude STFT.
fn middle_frame(signal: &[f32]) -> Vec<f32> {
    let grid = magnitude_stft(&config(), signal);
    let bins = config().bins();
    let frames = grid.as_slice().len() / bins;
    grid.as_slice()[frames / 2 * bins..(frames / 2 + 1) * bins].to_vec()
}

fn sine(f: f32, amplitude: f32) -> Vec<f32> {
    (0..8192)
        .map(|n| amplitude * (std::f32::consts::TAU * f * n as f32 / RATE).sin())
        .collect()
}

#[test]
fn a_sinusoid_has_its_frequency_as_centroid_and_its_level_as_loudness() {
    let settings = DescriptorSettings::new(&config(), RATE);
    for (f, amplitude) in [(440.0f32, 0.5f32), (1234.5, 1.0), (3000.0, 0.1)] {
        let d = describe(&middle_frame(&sine(f, amplitude)), &settings);
        assert!(
            (d.centroid - f).abs() < 0.01 * f,
            "{f} Hz: centroid {}",
            d.centroid
        );
        assert!(d.bandwidth < 40.0, "{f} Hz: bandwidth {}", d.bandwidth);
        assert!(
            (d.rolloff - f).abs() <= 2.0 * RATE / 1024.0,
            "roll-off {}",
            d.rolloff
        );
        let expected = 20.0 * amplitude.log10();
        assert!(
            (d.loudness - expected).abs() < 0.2,
            "amplitude {amplitude}: {} dB, not {expected}",
            d.loudness
        );
        assert!(d.flatness < 0.05, "a sinusoid is not flat: {}", d.flatness);
    }
}

#[test]
fn white_noise_is_flat() {
    let mut rng = fastrand::Rng::with_seed(3);
    let noise: Vec<f32> = (0..RATE as usize * 2)
        .map(|_| rng.f32() * 2.0 - 1.0)
        .collect();
    let grid = magnitude_stft(&config(), &noise);
    let bins = config().bins();
    // The mean power spectrum over frames (one frame's periodogram scatters around it).
    let mut power = vec![0.0f32; bins];
    let frames: Vec<&[f32]> = grid.as_slice().chunks_exact(bins).collect();
    for frame in &frames {
        power.iter_mut().zip(*frame).for_each(|(p, m)| *p += m * m);
    }
    let mean: Vec<f32> = power
        .iter()
        .map(|p| (p / frames.len() as f32).sqrt())
        .collect();
    let settings = DescriptorSettings::new(&config(), RATE);
    let d = describe(&mean, &settings);
    assert!(
        d.flatness > 0.9,
        "averaged white noise flatness {}",
        d.flatness
    );
    assert!(
        (d.centroid - RATE / 4.0).abs() < 0.03 * RATE,
        "centroid {}",
        d.centroid
    );
    let one = describe(frames[frames.len() / 2], &settings);
    assert!(
        one.flatness > 0.4,
        "one noise frame is still far flatter than a tone"
    );
    // Pooled moments over frames agree with the averaged spectrum's.
    let mut moments = Moments::default();
    frames.iter().for_each(|f| moments.add(f, &settings));
    assert!((moments.centroid() - d.centroid).abs() < 1.0);
}

#[test]
fn silence_and_garbage_stay_finite() {
    let settings = DescriptorSettings::new(&config(), RATE);
    let silent = describe(&vec![0.0; config().bins()], &settings);
    assert_eq!(silent.loudness, SILENCE_DB);
    assert_eq!((silent.centroid, silent.flatness), (0.0, 0.0));
    let mut garbage = middle_frame(&sine(440.0, 0.5));
    garbage[3] = f32::NAN;
    garbage[9] = f32::INFINITY;
    let d = describe(&garbage, &settings);
    for descriptor in Descriptor::ALL {
        assert!(d.get(descriptor).is_finite(), "{}", descriptor.name());
        assert_eq!(Descriptor::from_name(descriptor.name()), Some(descriptor));
    }
}

#[test]
fn a_descriptor_map_of_a_model_varies_over_the_plane() {
    use timbrespace_engine::axes::{AxisBasis, DescriptorMap, LatentAxes};
    let model = timbrespace_engine::model::ModelFile::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/default.tsm"
    )))
    .expect("the default model");
    let axes = LatentAxes::new(&model, AxisBasis::Pca).expect("PCA axes");
    let map = DescriptorMap::new(&model, &axes, 16, 3.0).expect("a map");
    assert_eq!(map.cells.len(), 256);
    let centroid = map.values(Descriptor::Centroid);
    assert!(centroid.iter().all(|c| c.is_finite() && *c >= 0.0));
    let (lo, hi) = centroid
        .iter()
        .fold((f32::INFINITY, 0.0f32), |(a, b), &c| (a.min(c), b.max(c)));
    assert!(
        hi > 1.5 * lo,
        "brightness changes across the map: {lo:.0}–{hi:.0} Hz"
    );
    let loudness = map.values(Descriptor::Loudness);
    assert!(
        loudness.iter().any(|&l| l > -60.0),
        "some of the map is audible"
    );
}
