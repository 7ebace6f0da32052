//! Resampling from the model's rate to the host's: right pitch, no images, any block size.

use std::f64::consts::TAU;

use timbrespace_engine::resample::StreamResampler;

/// A sine source at `rate`.
fn sine(freq: f64, rate: f64) -> impl FnMut(&mut [f32]) {
    let mut t = 0u64;
    move |chunk: &mut [f32]| {
        for s in chunk {
            *s = (0.5 * (TAU * freq * t as f64 / rate).sin()) as f32;
            t += 1;
        }
    }
}

/// Power of `x` at frequency `f` (Hz) for a signal at `rate`, by direct correlation.
fn power_at(x: &[f32], f: f64, rate: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (t, &s) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (TAU * t as f64 / x.len() as f64).cos();
        let p = TAU * f * t as f64 / rate;
        re += f64::from(s) * w * p.cos();
        im += f64::from(s) * w * p.sin();
    }
    (re * re + im * im) / (x.len() as f64).powi(2)
}

#[test]
fn upsampled_sine_keeps_its_pitch_and_has_no_images() {
    for (from, to) in [
        (22_050usize, 44_100usize),
        (22_050, 48_000),
        (44_100, 96_000),
    ] {
        let mut resampler = StreamResampler::new(from, to, 256).expect("supported rates");
        let mut source = sine(1000.0, from as f64);
        let mut out = vec![0.0; to];
        for block in out.chunks_mut(333) {
            resampler.render(block, &mut source);
        }
        let settled = &out[to / 4..];
        let wanted = power_at(settled, 1000.0, to as f64);
        // The image of 1 kHz around the source rate and a neighbouring pitch must be far down.
        let image = power_at(settled, from as f64 - 1000.0, to as f64);
        let detuned = power_at(settled, 1030.0, to as f64);
        assert!(wanted > 1e-3, "{from}->{to}: no 1 kHz ({wanted})");
        assert!(
            10.0 * (image / wanted).log10() < -70.0,
            "{from}->{to}: image"
        );
        assert!(
            10.0 * (detuned / wanted).log10() < -40.0,
            "{from}->{to}: detuned"
        );
    }
}

#[test]
fn block_sizes_do_not_change_the_output() {
    let render = |block: usize| {
        let mut resampler = StreamResampler::new(22_050, 48_000, 256).expect("supported rates");
        let mut source = sine(440.0, 22_050.0);
        let mut out = vec![0.0; 20_000];
        for chunk in out.chunks_mut(block) {
            resampler.render(chunk, &mut source);
        }
        out
    };
    let reference = render(4096);
    for block in [1, 64, 333] {
        assert_eq!(render(block), reference, "block {block}");
    }
}

#[test]
fn equal_rates_pass_through_and_bad_rates_are_refused() {
    let mut resampler = StreamResampler::new(44_100, 44_100, 128).expect("equal rates");
    let mut source = sine(440.0, 44_100.0);
    let mut expected = vec![0.0; 1000];
    sine(440.0, 44_100.0)(&mut expected);
    let mut out = vec![0.0; 1000];
    resampler.render(&mut out, &mut source);
    assert_eq!(out, expected);
    assert_eq!(resampler.delay(), 0);
    assert!(StreamResampler::new(0, 44_100, 128).is_err());
    assert!(StreamResampler::new(44_100, 10_000_000, 128).is_err());
}
