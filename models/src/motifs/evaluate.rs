//! Scoring a motif dictionary on held-out pieces: onset F1 of the reconstructions, denoising
//! (corrupted input against its reconstruction, and against the input cleaned by the model's
//! onset probabilities at thresholds fitted on validation pieces), interpolation between two
//! codes and the pieces' summary codes for style maps.

use serde::Serialize;

use super::corpus::Corpus;
use super::onsets::{corrupt, OnsetScore};
use super::piano_roll::PianoRoll;
use super::wta::{ConvWta, WtaError};
use crate::projection::fit_pca;

/// Training and held-out windows, split by piece so no held-out bar was seen in training
/// (songs repeat their bars), and a share of the training pieces set aside as validation for
/// fitting what must be fitted on unseen music (the cleaning thresholds) without looking at
/// the held-out pieces.
#[derive(Debug, Clone)]
pub struct MotifSplit {
    /// Training windows (the validation pieces' included).
    pub train: Vec<PianoRoll>,
    /// The training windows without the validation pieces': what a model that must not see
    /// the validation windows trains on.
    pub train_without_validation: Vec<PianoRoll>,
    /// The validation pieces' windows.
    pub validation: Vec<PianoRoll>,
    /// Held-out windows.
    pub test: Vec<PianoRoll>,
    /// Pieces held out (indices into the corpus).
    pub test_pieces: Vec<usize>,
}

/// Holds out shares of the pieces for testing (at least one, and at least one left for
/// training) and for validation (taken from the training pieces), chosen by `seed`; `windows`
/// come from [`Corpus::windows`]. Neither the test pieces nor the training windows depend on
/// the validation share.
pub fn split_by_piece(
    windows: Vec<(usize, PianoRoll)>,
    pieces: usize,
    (test_share, validation_share): (f64, f64),
    seed: u64,
) -> MotifSplit {
    let mut order: Vec<usize> = (0..pieces).collect();
    fastrand::Rng::with_seed(seed).shuffle(&mut order);
    let held =
        ((pieces as f64 * test_share).round() as usize).clamp(1, pieces.saturating_sub(1).max(1));
    let held = held.min(order.len());
    let validating = ((pieces as f64 * validation_share).round() as usize)
        .min(order.len().saturating_sub(held + 1));
    let mut test_pieces: Vec<usize> = order[..held].to_vec();
    test_pieces.sort_unstable();
    let mut validation_pieces: Vec<usize> = order[held..held + validating].to_vec();
    validation_pieces.sort_unstable();
    let mut split = MotifSplit {
        train: Vec::new(),
        train_without_validation: Vec::new(),
        validation: Vec::new(),
        test: Vec::new(),
        test_pieces,
    };
    for (piece, window) in windows {
        if split.test_pieces.binary_search(&piece).is_ok() {
            split.test.push(window);
            continue;
        }
        if validation_pieces.binary_search(&piece).is_ok() {
            split.validation.push(window.clone());
        } else {
            split.train_without_validation.push(window.clone());
        }
        split.train.push(window);
    }
    split
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
    /// The corrupted windows cleaned by the model's probabilities (see [`Cleaning`]), against
    /// the clean ones.
    pub cleaned: OnsetScore,
    /// The thresholds the cleaning used.
    pub cleaning: Cleaning,
    /// Share of notes dropped and of wrong notes added for the denoising test.
    pub corruption: f64,
    /// Atoms that win with a non-zero activation in at least one held-out window.
    pub atoms_used: usize,
    /// Held-out windows.
    pub windows: usize,
}

/// How a corrupted window is cleaned with the model's onset probabilities for it: the model
/// reads the window through its dictionary, and where it finds a note implausible the note
/// goes, where it is sure of a missing one the note comes. A full reconstruction replaces
/// every cell with the model's guess and so loses the notes its atoms do not cover; cleaning
/// keeps what was played unless the model has reason to doubt it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cleaning {
    /// A played note stays when the model's probability for it is at least this.
    pub keep: f32,
    /// A cell with no note gets one when the model's probability for it is above this.
    pub add: f32,
}

impl Cleaning {
    /// Thresholds that change nothing.
    pub const NONE: Self = Self {
        keep: 0.0,
        add: 1.0,
    };

    /// `noisy` cleaned with `probabilities` (the model's reconstruction of it).
    pub fn apply(&self, noisy: &PianoRoll, probabilities: &PianoRoll) -> PianoRoll {
        let mut out = noisy.clone();
        for (cell, &p) in out.cells.iter_mut().zip(&probabilities.cells) {
            let played = *cell > 0.5;
            let keep = if played { p >= self.keep } else { p > self.add };
            *cell = f32::from(u8::from(keep));
        }
        out
    }

    /// Every window of `noisy` cleaned with its row of `probabilities`.
    fn apply_all(&self, noisy: &[PianoRoll], probabilities: &[PianoRoll]) -> Vec<PianoRoll> {
        noisy
            .iter()
            .zip(probabilities)
            .map(|(n, p)| self.apply(n, p))
            .collect()
    }
}

/// Candidate thresholds for a played note to stay (0: every note stays).
const KEEP: [f32; 9] = [0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5];
/// Candidate thresholds for a missing note to come (1: none comes).
const ADD: [f32; 8] = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0];
/// Most windows the cleaning thresholds are fitted on (plenty for two numbers).
const FIT_WINDOWS: usize = 2000;

/// Fits [`Cleaning`] thresholds for `model` on copies of `windows` it did not train on (the
/// validation pieces'; on training windows a model is surer than on new music), corrupted as
/// the test will be (`corruption`, draws from `seed`): the pair that gives the cleaned copies
/// the best onset F1 against the originals. The pair that changes nothing is a candidate, so
/// on these windows cleaning never scores below the corrupted input.
pub fn fit_cleaning(
    model: &ConvWta,
    windows: &[PianoRoll],
    corruption: f64,
    seed: u64,
) -> Result<Cleaning, WtaError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let step = windows.len().div_ceil(FIT_WINDOWS).max(1);
    let clean: Vec<PianoRoll> = windows.iter().step_by(step).cloned().collect();
    let noisy: Vec<PianoRoll> = clean
        .iter()
        .map(|w| corrupt(w, corruption, corruption, &mut rng))
        .collect();
    let probabilities = model.reconstruct(&noisy)?;
    let score =
        |c: Cleaning| OnsetScore::compare(&c.apply_all(&noisy, &probabilities), &clean).f1();
    let candidates = KEEP
        .iter()
        .flat_map(|&keep| ADD.iter().map(move |&add| Cleaning { keep, add }));
    Ok(candidates
        .map(|c| (score(c), c))
        .fold((score(Cleaning::NONE), Cleaning::NONE), |best, next| {
            if next.0 > best.0 {
                next
            } else {
                best
            }
        })
        .1)
}

/// Scores `model` on `test` windows; `corruption` drops that share of notes and adds as many
/// wrong ones (drawn with `seed`) for the denoising test, which also cleans them with
/// `cleaning`.
pub fn score_motifs(
    model: &ConvWta,
    test: &[PianoRoll],
    corruption: f64,
    cleaning: Cleaning,
    seed: u64,
) -> Result<MotifScores, WtaError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let noisy: Vec<PianoRoll> = test
        .iter()
        .map(|w| corrupt(w, corruption, corruption, &mut rng))
        .collect();
    let reconstructed = model.reconstruct(&noisy)?;
    let cleaned = cleaning.apply_all(&noisy, &reconstructed);
    let used = model.summaries(test)?;
    let maps = used.first().map_or(0, Vec::len);
    let atoms_used = (0..maps)
        .filter(|&f| used.iter().any(|s| s[f] > 0.0))
        .count();
    Ok(MotifScores {
        reconstruction: OnsetScore::compare(&model.reconstruct(test)?, test),
        corrupted: OnsetScore::compare(&noisy, test),
        denoised: OnsetScore::compare(&reconstructed, test),
        cleaned: OnsetScore::compare(&cleaned, test),
        cleaning,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_pieces_come_from_the_training_pieces_and_leave_the_test_pieces_alone() {
        // Piece i has i + 1 windows, each marked with its piece in cell 0.
        let windows: Vec<(usize, PianoRoll)> = (0..20)
            .flat_map(|piece| {
                let mut roll = PianoRoll::empty(1, 1);
                roll.cells[0] = piece as f32;
                vec![(piece, roll); piece + 1]
            })
            .collect();
        let piece = |w: &PianoRoll| w.cells[0] as usize;
        let plain = split_by_piece(windows.clone(), 20, (0.2, 0.0), 7);
        let split = split_by_piece(windows, 20, (0.2, 0.25), 7);
        assert_eq!(split.test_pieces, plain.test_pieces);
        assert_eq!(split.test_pieces.len(), 4);
        assert!(plain.validation.is_empty());
        assert_eq!(split.train, plain.train);
        let mut validation: Vec<usize> = split.validation.iter().map(piece).collect();
        validation.dedup();
        assert_eq!(validation.len(), 5);
        for p in &validation {
            assert!(split.test_pieces.binary_search(p).is_err());
            assert!(split
                .train_without_validation
                .iter()
                .all(|w| piece(w) != *p));
        }
        assert_eq!(
            split.train_without_validation.len() + split.validation.len(),
            split.train.len()
        );
    }

    #[test]
    fn cleaning_drops_doubted_notes_and_adds_sure_ones() {
        let noisy = PianoRoll {
            rows: 1,
            steps: 4,
            cells: vec![1.0, 1.0, 0.0, 0.0],
        };
        let probabilities = PianoRoll {
            cells: vec![0.9, 0.005, 0.97, 0.6],
            ..noisy.clone()
        };
        let cleaning = Cleaning {
            keep: 0.01,
            add: 0.95,
        };
        assert_eq!(
            cleaning.apply(&noisy, &probabilities).cells,
            vec![1.0, 0.0, 1.0, 0.0]
        );
        assert_eq!(Cleaning::NONE.apply(&noisy, &probabilities), noisy);
    }
}
