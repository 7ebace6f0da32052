//! Human timbre dissimilarity ratings between 12 orchestral instruments (Grey, Krumhansl,
//! Iverson & Krumhansl, McAdams et al., Lakatos; merged as in Esling et al., DAFx 2018), the
//! target of the perceptual regularisers. A copy ships in `assets/timbre/` and is embedded, so
//! training and evaluation work from any folder; `load` reads another copy.

use std::path::Path;

use thiserror::Error;

/// The embedded copy's files, in the order `parse` takes them.
const EMBEDDED: [&str; 5] = [
    include_str!("../../assets/timbre/instruments.txt"),
    include_str!("../../assets/timbre/mean_dissimilarity_12x12.csv"),
    include_str!("../../assets/timbre/gmean_12x12.csv"),
    include_str!("../../assets/timbre/gstd_12x12.csv"),
    include_str!("../../assets/timbre/mds3_pos.csv"),
];

/// File names of a ratings folder, in the order `parse` takes them.
const FILES: [&str; 5] = [
    "instruments.txt",
    "mean_dissimilarity_12x12.csv",
    "gmean_12x12.csv",
    "gstd_12x12.csv",
    "mds3_pos.csv",
];

/// Why ratings could not be read.
#[derive(Debug, Error)]
pub enum RatingsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file's content is not what it should be.
    #[error("{file}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

/// Mean dissimilarities between instruments, with the Gaussian fitted per pair and an MDS
/// embedding. All distances are scaled to 0 (identical) … 1 (most different).
#[derive(Debug, Clone, PartialEq)]
pub struct TimbreRatings {
    /// Instrument names, in matrix order.
    pub instruments: Vec<String>,
    /// Mean rating per pair (`n × n`, row-major, zero diagonal).
    pub mean: Vec<f64>,
    /// Mean of the Gaussian fitted to each pair's ratings (`n × n`).
    pub gaussian_mean: Vec<f64>,
    /// Standard deviation of that Gaussian (`n × n`).
    pub gaussian_std: Vec<f64>,
    /// 3-D MDS position of each instrument (the informative prior's centres).
    pub mds: Vec<[f64; 3]>,
}

impl TimbreRatings {
    /// The copy embedded in the program.
    pub fn embedded() -> Result<Self, RatingsError> {
        Self::parse(EMBEDDED)
    }

    /// Read the five files (see `assets/timbre/README.md`) from `folder`.
    pub fn load(folder: &Path) -> Result<Self, RatingsError> {
        let mut texts: [String; 5] = Default::default();
        for (text, name) in texts.iter_mut().zip(FILES) {
            let path = folder.join(name);
            *text = std::fs::read_to_string(&path).map_err(|source| RatingsError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        Self::parse(texts.each_ref().map(String::as_str))
    }

    /// The copy in `folder` when one is given, else the embedded one.
    pub fn load_or_embedded(folder: Option<&Path>) -> Result<Self, RatingsError> {
        folder.map_or_else(Self::embedded, Self::load)
    }

    /// Parse the files' contents, in `FILES` order, and check them.
    fn parse(texts: [&str; 5]) -> Result<Self, RatingsError> {
        let instruments: Vec<String> = texts[0]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        let n = instruments.len();
        if n < 3 {
            return Err(invalid(FILES[0], "fewer than 3 instruments".into()));
        }
        let matrix = |k: usize| -> Result<Vec<f64>, RatingsError> {
            let values = numbers(FILES[k], texts[k], n)?;
            if values.len() != n * n {
                return Err(invalid(
                    FILES[k],
                    format!("expected {n} rows of {n} values"),
                ));
            }
            for i in 0..n {
                for j in 0..n {
                    if (values[i * n + j] - values[j * n + i]).abs() > 1e-6 {
                        return Err(invalid(FILES[k], format!("not symmetric at ({i}, {j})")));
                    }
                }
            }
            Ok(values)
        };
        let (mean, gaussian_mean, gaussian_std) = (matrix(1)?, matrix(2)?, matrix(3)?);
        let off_diagonal =
            |m: &[f64], bad: fn(f64) -> bool| (0..n * n).any(|k| k / n != k % n && bad(m[k]));
        if off_diagonal(&gaussian_std, |s| s <= 0.0) {
            return Err(invalid(
                FILES[3],
                "a standard deviation is not positive".into(),
            ));
        }
        if off_diagonal(&mean, |d| d < 0.0) {
            return Err(invalid(FILES[1], "a dissimilarity is negative".into()));
        }
        let mds_values = numbers(FILES[4], texts[4], 3)?;
        if mds_values.len() != n * 3 {
            return Err(invalid(FILES[4], format!("expected {n} rows of 3 values")));
        }
        let mds = mds_values
            .chunks_exact(3)
            .map(|r| [r[0], r[1], r[2]])
            .collect();
        Ok(Self {
            instruments,
            mean,
            gaussian_mean,
            gaussian_std,
            mds,
        })
    }

    /// Instruments rated.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// Whether no instrument is rated (never true for parsed ratings).
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// The rated instrument a dataset's instrument name stands for: case, spaces, dashes and
    /// underscores are ignored, and common other names are understood ("Horn", "Sax",
    /// "Cor Anglais", "Grand Piano"…).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let key = canonical(name);
        self.instruments.iter().position(|i| canonical(i) == key)
    }

    /// The mean dissimilarity between rated instruments `i` and `j`.
    pub fn dissimilarity(&self, i: usize, j: usize) -> f64 {
        self.mean[i * self.len() + j]
    }
}

/// Orchestral families, in the order `family` numbers them.
pub const FAMILIES: [&str; 4] = ["woodwind", "brass", "strings", "keyboard"];

/// The orchestral family (index into `FAMILIES`) of an instrument name, for the family probe.
pub fn family(name: &str) -> Option<usize> {
    match canonical(name).as_str() {
        "clarinet" | "saxophone" | "oboe" | "flute" | "englishhorn" | "bassoon" | "piccolo" => {
            Some(0)
        }
        "trumpet" | "frenchhorn" | "trombone" | "tuba" | "cornet" => Some(1),
        "cello" | "violin" | "viola" | "contrabass" | "doublebass" => Some(2),
        "piano" | "harpsichord" | "organ" => Some(3),
        _ => None,
    }
}

/// Lower-case name without separators, with synonyms mapped onto the ratings' names.
fn canonical(name: &str) -> String {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "horn" | "hornf" => "frenchhorn".into(),
        "sax" | "altosax" | "altosaxophone" | "tenorsax" | "tenorsaxophone" => "saxophone".into(),
        "coranglais" | "englishhorn" => "englishhorn".into(),
        "grandpiano" | "acousticgrandpiano" | "acousticpiano" => "piano".into(),
        "violoncello" => "cello".into(),
        _ => key,
    }
}

/// Every number of a CSV file whose comment lines start with `#`, each row holding `width`.
fn numbers(file: &str, text: &str, width: usize) -> Result<Vec<f64>, RatingsError> {
    let mut out = Vec::new();
    for (line_number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row: Result<Vec<f64>, _> = line.split(',').map(|v| v.trim().parse::<f64>()).collect();
        match row {
            Ok(row) if row.len() == width && row.iter().all(|v| v.is_finite()) => out.extend(row),
            _ => {
                return Err(invalid(
                    file,
                    format!("line {}: expected {width} numbers", line_number + 1),
                ))
            }
        }
    }
    Ok(out)
}

/// An `Invalid` error.
fn invalid(file: &str, reason: String) -> RatingsError {
    RatingsError::Invalid {
        file: file.to_string(),
        reason,
    }
}
