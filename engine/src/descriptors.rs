//! Audio descriptors of one magnitude frame: spectral centroid (brightness), bandwidth,
//! flatness (noisiness), roll-off and loudness. One implementation serves training,
//! evaluation, the plugin and the agent; [`describe`] never allocates.

use crate::stft::StftConfig;

/// Share of the spectral energy below the roll-off frequency.
pub const ROLLOFF_SHARE: f32 = 0.85;
/// Loudness reported for silence, dB.
pub const SILENCE_DB: f32 = -120.0;
/// Power below which a bin counts as silent when taking logarithms (flatness).
const POWER_FLOOR: f64 = 1e-20;

/// A descriptor's name, for parameters, files and plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Descriptor {
    /// Energy-weighted mean frequency, Hz: brightness.
    Centroid,
    /// Energy-weighted standard deviation of frequency around the centroid, Hz.
    Bandwidth,
    /// Geometric over arithmetic mean of the power spectrum, 0–1: noisiness.
    Flatness,
    /// Frequency below which [`ROLLOFF_SHARE`] of the energy lies, Hz.
    Rolloff,
    /// Level in dB relative to a full-scale sine.
    Loudness,
}

impl Descriptor {
    /// Every descriptor.
    pub const ALL: [Descriptor; 5] = [
        Descriptor::Centroid,
        Descriptor::Bandwidth,
        Descriptor::Flatness,
        Descriptor::Rolloff,
        Descriptor::Loudness,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Descriptor::Centroid => "centroid",
            Descriptor::Bandwidth => "bandwidth",
            Descriptor::Flatness => "flatness",
            Descriptor::Rolloff => "rolloff",
            Descriptor::Loudness => "loudness",
        }
    }

    /// Its unit, for display ("" for flatness, a 0–1 ratio).
    pub fn unit(self) -> &'static str {
        match self {
            Descriptor::Centroid | Descriptor::Bandwidth | Descriptor::Rolloff => "Hz",
            Descriptor::Flatness => "",
            Descriptor::Loudness => "dB",
        }
    }

    /// The descriptor called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// What the descriptors need to know about the frames: bin spacing and window energy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DescriptorSettings {
    /// Hz per bin.
    hz_per_bin: f32,
    /// `n_fft · Σ w²`: converts a frame's bin powers to the mean square of the signal under
    /// the window (Parseval), for loudness.
    power_scale: f64,
}

impl DescriptorSettings {
    /// Settings for magnitude frames of `config` at `rate` Hz.
    pub fn new(config: &StftConfig, rate: f32) -> Self {
        let window_energy: f64 = config
            .analysis_window()
            .iter()
            .map(|&w| f64::from(w) * f64::from(w))
            .sum();
        Self {
            hz_per_bin: rate / config.n_fft() as f32,
            power_scale: config.n_fft() as f64 * window_energy.max(1e-30),
        }
    }
}

/// Every descriptor of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Descriptors {
    /// Spectral centroid, Hz.
    pub centroid: f32,
    /// Spectral bandwidth, Hz.
    pub bandwidth: f32,
    /// Spectral flatness, 0–1.
    pub flatness: f32,
    /// Roll-off frequency, Hz.
    pub rolloff: f32,
    /// Loudness, dB re full-scale sine.
    pub loudness: f32,
}

impl Descriptors {
    /// Descriptors from their values in [`Descriptor::ALL`] order.
    pub fn from_values(values: [f32; 5]) -> Self {
        Self {
            centroid: values[0],
            bandwidth: values[1],
            flatness: values[2],
            rolloff: values[3],
            loudness: values[4],
        }
    }

    /// The value of `descriptor`.
    pub fn get(&self, descriptor: Descriptor) -> f32 {
        match descriptor {
            Descriptor::Centroid => self.centroid,
            Descriptor::Bandwidth => self.bandwidth,
            Descriptor::Flatness => self.flatness,
            Descriptor::Rolloff => self.rolloff,
            Descriptor::Loudness => self.loudness,
        }
    }
}

/// Energy moments of frames, which pool over many frames (a note's overall brightness is the
/// centroid of its summed energy, not the mean of its frames' centroids).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moments {
    /// Σ power.
    energy: f64,
    /// Σ power · f.
    first: f64,
    /// Σ power · f².
    second: f64,
}

impl Moments {
    /// Adds one magnitude frame.
    pub fn add(&mut self, frame: &[f32], settings: &DescriptorSettings) {
        for (k, &m) in frame.iter().enumerate() {
            let (p, f) = (
                f64::from(m) * f64::from(m),
                k as f64 * f64::from(settings.hz_per_bin),
            );
            if p.is_finite() {
                self.energy += p;
                self.first += p * f;
                self.second += p * f * f;
            }
        }
    }

    /// Centroid of the energy added, Hz (0 for silence).
    pub fn centroid(&self) -> f32 {
        if self.energy > 0.0 {
            (self.first / self.energy) as f32
        } else {
            0.0
        }
    }

    /// Bandwidth of the energy added, Hz (0 for silence).
    pub fn bandwidth(&self) -> f32 {
        if self.energy > 0.0 {
            let c = self.first / self.energy;
            (self.second / self.energy - c * c).max(0.0).sqrt() as f32
        } else {
            0.0
        }
    }
}

/// Every descriptor of the magnitude frame `frame` (`n_fft / 2 + 1` bins). Silence gives 0
/// for the spectral shape and [`SILENCE_DB`]; non-finite bins count as silent.
pub fn describe(frame: &[f32], settings: &DescriptorSettings) -> Descriptors {
    let mut moments = Moments::default();
    moments.add(frame, settings);
    if moments.energy <= 0.0 {
        return Descriptors {
            loudness: SILENCE_DB,
            ..Descriptors::default()
        };
    }
    let power = |m: f32| {
        let p = f64::from(m) * f64::from(m);
        if p.is_finite() {
            p
        } else {
            0.0
        }
    };
    // Flatness over the bins above DC (a DC offset is not noise).
    let (mut log_sum, mut sum, mut n) = (0.0f64, 0.0f64, 0usize);
    for &m in frame.iter().skip(1) {
        let p = power(m);
        log_sum += p.max(POWER_FLOOR).ln();
        sum += p;
        n += 1;
    }
    let flatness = if n > 0 && sum > 0.0 {
        ((log_sum / n as f64).exp() / (sum / n as f64)).min(1.0) as f32
    } else {
        0.0
    };
    let threshold = f64::from(ROLLOFF_SHARE) * moments.energy;
    let mut cumulative = 0.0;
    let mut rolloff_bin = frame.len().saturating_sub(1);
    for (k, &m) in frame.iter().enumerate() {
        cumulative += power(m);
        if cumulative >= threshold {
            rolloff_bin = k;
            break;
        }
    }
    // Parseval over the one-sided spectrum: DC and Nyquist once, the other bins twice.
    let last = frame.len().saturating_sub(1);
    let two_sided: f64 = frame
        .iter()
        .enumerate()
        .map(|(k, &m)| {
            if k == 0 || k == last {
                power(m)
            } else {
                2.0 * power(m)
            }
        })
        .sum();
    let mean_square = two_sided / settings.power_scale;
    let loudness = if mean_square > 0.0 {
        ((10.0 * (mean_square / 0.5).log10()) as f32).max(SILENCE_DB)
    } else {
        SILENCE_DB
    };
    Descriptors {
        centroid: moments.centroid(),
        bandwidth: moments.bandwidth(),
        flatness,
        rolloff: rolloff_bin as f32 * settings.hz_per_bin,
        loudness,
    }
}
