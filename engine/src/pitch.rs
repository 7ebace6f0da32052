//! Fundamental-frequency estimation with YIN (de Cheveigné & Kawahara, JASA 2002): the
//! cumulative-mean-normalised difference function, an absolute threshold, and parabolic
//! interpolation of the chosen lag. Used to check that rendered notes have the right pitch.

/// YIN settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YinSettings {
    /// Lowest frequency searched, Hz.
    pub fmin: f32,
    /// Highest frequency searched, Hz.
    pub fmax: f32,
    /// Threshold on the normalised difference (0.1–0.2 is usual); lower is stricter.
    pub threshold: f32,
    /// Frames whose RMS is below this are unvoiced.
    pub min_rms: f32,
}

impl Default for YinSettings {
    fn default() -> Self {
        Self {
            fmin: 30.0,
            fmax: 2500.0,
            threshold: 0.15,
            min_rms: 1e-4,
        }
    }
}

/// The fundamental of `frame` in Hz, or `None` when it is unvoiced, too quiet or too short
/// for `settings.fmin` (the frame must hold at least two periods of the lowest pitch).
pub fn yin(frame: &[f32], rate: f32, settings: &YinSettings) -> Option<f32> {
    let tau_min = ((rate / settings.fmax).floor() as usize).max(2);
    let tau_max = (rate / settings.fmin).ceil() as usize;
    if frame.len() < 2 * tau_max || tau_min >= tau_max {
        return None;
    }
    let rms = (frame.iter().map(|x| x * x).sum::<f32>() / frame.len() as f32).sqrt();
    if rms.is_nan() || rms < settings.min_rms {
        return None;
    }
    let window = frame.len() - tau_max;
    // d(τ) for τ = 0..=tau_max, then the cumulative-mean normalisation d'(τ).
    let mut cmnd = vec![1.0f32; tau_max + 1];
    let mut running = 0.0f64;
    for tau in 1..=tau_max {
        let d: f64 = frame[..window]
            .iter()
            .zip(&frame[tau..tau + window])
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        running += d;
        cmnd[tau] = if running > 0.0 {
            (d * tau as f64 / running) as f32
        } else {
            1.0
        };
    }
    let mut tau = (tau_min..tau_max).find(|&t| cmnd[t] < settings.threshold)?;
    while tau + 1 < tau_max && cmnd[tau + 1] < cmnd[tau] {
        tau += 1;
    }
    let (a, b, c) = (cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]);
    let curvature = a - 2.0 * b + c;
    let shift = if curvature.abs() > 1e-12 {
        (0.5 * (a - c) / curvature).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    Some(rate / (tau as f32 + shift))
}

/// YIN over `samples` in frames of `frame` samples every `hop`: one estimate per hop.
pub fn pitch_track(
    samples: &[f32],
    rate: f32,
    frame: usize,
    hop: usize,
    settings: &YinSettings,
) -> Vec<Option<f32>> {
    if samples.len() < frame || hop == 0 {
        return Vec::new();
    }
    (0..=(samples.len() - frame) / hop)
        .map(|j| yin(&samples[j * hop..j * hop + frame], rate, settings))
        .collect()
}

/// `samples` scaled to a peak of 1, for [`pitch_track`]: so that YIN's level floor
/// ([`YinSettings::min_rms`]) judges a sound's shape, not its loudness, and a quiet but clearly
/// pitched note (a piano's decayed high note, a pp rendering) reads as voiced. Allocates; not
/// for the audio thread.
pub fn peak_normalised(samples: &[f32]) -> Vec<f32> {
    let peak = samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    samples
        .iter()
        .map(|v| v / peak.max(f32::MIN_POSITIVE))
        .collect()
}

/// Signed distance in cents from `reference` Hz to `f` Hz.
pub fn cents(f: f32, reference: f32) -> f32 {
    1200.0 * (f / reference).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harmonic_tone(f0: f32, rate: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f32 / rate;
                (1..=6)
                    .map(|h| (std::f32::consts::TAU * f0 * h as f32 * t).sin() / h as f32)
                    .sum()
            })
            .collect()
    }

    #[test]
    fn finds_the_fundamental_of_harmonic_tones() {
        let rate = 22_050.0;
        for f0 in [55.0, 110.0, 261.63, 440.0, 1046.5] {
            let tone = harmonic_tone(f0, rate, 4096);
            let f = yin(&tone, rate, &YinSettings::default()).expect("voiced");
            assert!(cents(f, f0).abs() < 5.0, "{f0} Hz read as {f} Hz");
        }
    }

    #[test]
    fn silence_and_noise_are_unvoiced() {
        let settings = YinSettings::default();
        assert_eq!(yin(&[0.0; 4096], 22_050.0, &settings), None);
        let mut rng = fastrand::Rng::with_seed(3);
        let noise: Vec<f32> = (0..4096).map(|_| rng.f32() - 0.5).collect();
        assert_eq!(yin(&noise, 22_050.0, &settings), None);
    }

    #[test]
    fn a_quiet_tone_reads_voiced_only_without_its_level() {
        let (rate, settings) = (22_050.0, YinSettings::default());
        // About −100 dBFS: under YIN's level floor, but as periodic as at full scale.
        let quiet: Vec<f32> = harmonic_tone(220.0, rate, 8192)
            .iter()
            .map(|v| v * 1e-5)
            .collect();
        let plain = pitch_track(&quiet, rate, 2048, 512, &settings);
        assert!(plain.iter().all(Option::is_none), "{plain:?}");
        let free = pitch_track(&peak_normalised(&quiet), rate, 2048, 512, &settings);
        assert_eq!(free.len(), plain.len());
        for f in free {
            let f = f.expect("voiced once its level is taken out");
            assert!(cents(f, 220.0).abs() < 5.0, "read as {f} Hz");
        }
    }
}
