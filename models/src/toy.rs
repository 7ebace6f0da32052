//! Toy datasets from the thesis (3.2.1.1): additive harmonic tones and two-operator FM tones
//! with random parameters, written as WAV files plus a `labels.csv` of their parameters.

use std::f64::consts::TAU;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::audio_file::{write_wav, AudioFileError, MonoAudio};
use crate::notes::note_name;

/// Which generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToyKind {
    /// x[n] = Σ_{l=1..L} exp(−l·d/L)·cos(2π·f0·l·n/fs + φ_l).
    Additive,
    /// sin(2π·fc·t + I·sin(2π·r·fc·t)).
    Fm,
}

/// Parameters of one toy sound; they become its labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToyParams {
    /// Additive tone.
    Additive {
        /// Fundamental, 64–1024 Hz.
        f0: f64,
        /// Number of partials, 1–7.
        partials: u32,
        /// Spectral decay d, 0.2–4.
        decay: f64,
    },
    /// FM tone.
    Fm {
        /// Carrier, 60–600 Hz.
        carrier: f64,
        /// Modulator/carrier ratio, 0–3.
        ratio: f64,
        /// Modulation index, 0–30.
        index: f64,
    },
}

/// Duration of the linear fade-in and fade-out of every toy sound.
const FADE_SECONDS: f64 = 0.1;
/// Peak level of every toy sound.
const PEAK: f32 = 0.5;

impl ToyParams {
    /// Draw random parameters over the thesis's ranges (frequencies log-uniform).
    pub fn random(kind: ToyKind, rng: &mut fastrand::Rng) -> Self {
        let log_uniform =
            |rng: &mut fastrand::Rng, lo: f64, hi: f64| lo * (hi / lo).powf(rng.f64());
        match kind {
            ToyKind::Additive => ToyParams::Additive {
                f0: log_uniform(rng, 64.0, 1024.0),
                partials: rng.u32(1..=7),
                decay: 0.2 + 3.8 * rng.f64(),
            },
            ToyKind::Fm => ToyParams::Fm {
                carrier: log_uniform(rng, 60.0, 600.0),
                ratio: 3.0 * rng.f64(),
                index: 30.0 * rng.f64(),
            },
        }
    }

    /// Render `seconds` of this sound at `rate`, peak-normalised with 100 ms fades.
    pub fn render(&self, rate: u32, seconds: f64, rng: &mut fastrand::Rng) -> Vec<f32> {
        let fs = f64::from(rate);
        let len = (seconds * fs) as usize;
        let mut x: Vec<f64> = match *self {
            ToyParams::Additive {
                f0,
                partials,
                decay,
            } => {
                let phases: Vec<f64> = (0..partials).map(|_| TAU * rng.f64()).collect();
                let big_l = f64::from(partials);
                (0..len)
                    .map(|n| {
                        (1..=partials)
                            .zip(&phases)
                            .map(|(l, phi)| {
                                let l = f64::from(l);
                                (-l * decay / big_l).exp()
                                    * (TAU * f0 * l * n as f64 / fs + phi).cos()
                            })
                            .sum()
                    })
                    .collect()
            }
            ToyParams::Fm {
                carrier,
                ratio,
                index,
            } => (0..len)
                .map(|n| {
                    let t = n as f64 / fs;
                    (TAU * carrier * t + index * (TAU * ratio * carrier * t).sin()).sin()
                })
                .collect(),
        };
        let fade = ((FADE_SECONDS * fs) as usize).min(len / 2).max(1);
        for i in 0..fade {
            let g = i as f64 / fade as f64;
            x[i] *= g;
            x[len - 1 - i] *= g;
        }
        let peak = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-9);
        x.iter().map(|v| (v / peak) as f32 * PEAK).collect()
    }

    /// Labels as CSV cells, matching [`csv_header`]: the nearest note of the (carrier)
    /// frequency, then the other parameters rounded into a few classes.
    pub fn label_cells(&self) -> String {
        let nearest =
            |f: f64| note_name((69.0 + 12.0 * (f / 440.0).log2()).round().clamp(0.0, 127.0) as u8);
        match *self {
            ToyParams::Additive {
                f0,
                partials,
                decay,
            } => format!("{},{partials},{:.0}", nearest(f0), decay.round()),
            ToyParams::Fm {
                carrier,
                ratio,
                index,
            } => {
                format!(
                    "{},{:.1},{:.0}",
                    nearest(carrier),
                    (ratio * 2.0).round() / 2.0,
                    (index / 5.0).round() * 5.0
                )
            }
        }
    }
}

/// Header of the `labels.csv` a generator writes.
pub fn csv_header(kind: ToyKind) -> &'static str {
    match kind {
        ToyKind::Additive => "file,note,partials,decay",
        ToyKind::Fm => "file,note,ratio,index",
    }
}

/// Write `count` random toy sounds of `seconds` each to `out` (`tone00000.wav`, …; no bare number in the name, which would read as a MIDI key) and their
/// parameters to `out/labels.csv`. Returns the paths written.
pub fn write_toy_set(
    kind: ToyKind,
    count: usize,
    seconds: f64,
    rate: u32,
    seed: u64,
    out: &Path,
) -> Result<Vec<PathBuf>, AudioFileError> {
    std::fs::create_dir_all(out)
        .map_err(|e| AudioFileError::Io(format!("{}: {e}", out.display())))?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut csv = format!("{}\n", csv_header(kind));
    let mut written = Vec::with_capacity(count);
    for i in 0..count {
        let params = ToyParams::random(kind, &mut rng);
        let samples = params.render(rate, seconds, &mut rng);
        let name = format!("tone{i:05}.wav");
        let path = out.join(&name);
        write_wav(&path, &MonoAudio { samples, rate })?;
        // Writing to a String cannot fail.
        let _ = writeln!(csv, "{name},{}", params.label_cells());
        written.push(path);
    }
    let labels = out.join("labels.csv");
    std::fs::write(&labels, csv)
        .map_err(|e| AudioFileError::Io(format!("{}: {e}", labels.display())))?;
    Ok(written)
}
