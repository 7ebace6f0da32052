//! Scoring a motif dictionary on held-out pieces: onset F1 of the reconstructions, denoising
//! (corrupted input against its reconstruction), interpolation between two codes and the
//! pieces' summary codes for style maps.

use serde::Serialize;

use super::corpus::Corpus;
use super::onsets::{corrupt, OnsetScore};
use super::piano_roll::PianoRoll;
use super::wta::{ConvWta, WtaError};
use crate::projection::fit_pca;

/// Training and held-out windows, split by piece so no held-out bar was seen in training
/// (songs repeat their bars).
#[derive(Debug, Clone)]
pub struct MotifSplit {
    /// Training windows.
    pub train: Vec<PianoRoll>,
    /// Held-out windows.
    pub test: Vec<PianoRoll>,
    /// Pieces held out (indices into the corpus).
    pub test_pieces: Vec<usize>,
}

/// Holds out a share of the pieces (at least one, and at least one left for training), chosen
/// by `seed`; `windows` come from [`Corpus::windows`].
pub fn split_by_piece(
    windows: Vec<(usize, PianoRoll)>,
    pieces: usize,
    test_share: f64,
    seed: u64,
) -> MotifSplit {
    let mut order: Vec<usize> = (0..pieces).collect();
    fastrand::Rng::with_seed(seed).shuffle(&mut order);
    let held =
        ((pieces as f64 * test_share).round() as usize).clamp(1, pieces.saturating_sub(1).max(1));
    let mut test_pieces: Vec<usize> = order[..held.min(order.len())].to_vec();
    test_pieces.sort_unstable();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (piece, window) in windows {
        if test_pieces.binary_search(&piece).is_ok() {
            test.push(window);
        } else {
            train.push(window);
        }
    }
    MotifSplit {
        train,
        test,
        test_pieces,
    }
}

/// How a dictionary does on held-out windows.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MotifScores {
    /// Reconstructions of the clean windows.
    pub reconstruction: OnsetScore,
    /// The corrupted windows themselves, against the clean ones.
    pub corrupted: OnsetScore,
    /// Reconstructions of the corrupted windows, against the clean ones.
    pub denoised: OnsetScore,
    /// Share of notes dropped and of wrong notes added for the denoising test.
    pub corruption: f64,
    /// Atoms that win with a non-zero activation in at least one held-out window.
    pub atoms_used: usize,
    /// Held-out windows.
    pub windows: usize,
}

/// Scores `model` on `test` windows; `corruption` drops that share of notes and adds as many
/// wrong ones (drawn with `seed`) for the denoising test.
pub fn score_motifs(
    model: &ConvWta,
    test: &[PianoRoll],
    corruption: f64,
    seed: u64,
) -> Result<MotifScores, WtaError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let noisy: Vec<PianoRoll> = test
        .iter()
        .map(|w| corrupt(w, corruption, corruption, &mut rng))
        .collect();
    let reconstructed = model.reconstruct(&noisy)?;
    let used = model.summaries(test)?;
    let maps = used.first().map_or(0, Vec::len);
    let atoms_used = (0..maps)
        .filter(|&f| used.iter().any(|s| s[f] > 0.0))
        .count();
    Ok(MotifScores {
        reconstruction: OnsetScore::compare(&model.reconstruct(test)?, test),
        corrupted: OnsetScore::compare(&noisy, test),
        denoised: OnsetScore::compare(&reconstructed, test),
        corruption,
        atoms_used,
        windows: test.len(),
    })
}

/// Rolls decoded from `count` codes on the straight line from `a`'s code to `b`'s (both
/// ends included).
pub fn interpolate(
    model: &ConvWta,
    a: &PianoRoll,
    b: &PianoRoll,
    count: usize,
) -> Result<Vec<PianoRoll>, WtaError> {
    let codes = model.codes(&[a.clone(), b.clone()])?;
    let (ca, cb) = (codes.get(0)?, codes.get(1)?);
    let mut out = Vec::with_capacity(count);
    for i in 0..count.max(2) {
        let t = i as f64 / (count.max(2) - 1) as f64;
        let code = ((&ca * (1.0 - t))? + (&cb * t)?)?.unsqueeze(0)?;
        out.extend(model.decode(&code)?);
    }
    Ok(out)
}

/// Pieces placed by their motif codes.
#[derive(Debug, Clone)]
pub struct StyleMap {
    /// Each piece's mean code on the first two principal axes.
    pub points: Vec<(f64, f64)>,
    /// Each point's collection (an index into `names`).
    pub classes: Vec<Option<usize>>,
    /// The collections.
    pub names: Vec<String>,
}

/// Each piece's mean summary code over its windows, on the first two principal axes, with its
/// collection: the points of a style map.
pub fn style_map(
    model: &ConvWta,
    corpus: &Corpus,
    windows: &[(usize, PianoRoll)],
) -> Result<StyleMap, WtaError> {
    let rolls: Vec<PianoRoll> = windows.iter().map(|(_, w)| w.clone()).collect();
    let summaries = model.summaries(&rolls)?;
    let maps = summaries.first().map_or(0, Vec::len);
    let mut sums = vec![vec![0f32; maps]; corpus.pieces.len()];
    let mut counts = vec![0usize; corpus.pieces.len()];
    for ((piece, _), s) in windows.iter().zip(&summaries) {
        for (acc, v) in sums[*piece].iter_mut().zip(s) {
            *acc += v;
        }
        counts[*piece] += 1;
    }
    let names = corpus.collections();
    let (mut flat, mut classes) = (Vec::new(), Vec::new());
    for (i, (sum, &n)) in sums.iter().zip(&counts).enumerate() {
        if n == 0 {
            continue;
        }
        flat.extend(sum.iter().map(|v| v / n as f32));
        classes.push(names.binary_search(&corpus.pieces[i].collection).ok());
    }
    let pca = fit_pca(&flat, maps);
    let points = flat
        .chunks(maps.max(1))
        .map(|code| {
            let p = pca.project(code);
            (
                p.first().copied().unwrap_or(0.0),
                p.get(1).copied().unwrap_or(0.0),
            )
        })
        .collect();
    Ok(StyleMap {
        points,
        classes,
        names,
    })
}
