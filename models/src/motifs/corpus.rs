//! A folder of MIDI files as onset rolls, each labelled with its collection (the sub-folder it
//! came from), cut into bars for training and held-out scoring.

use std::path::Path;

use thiserror::Error;

use super::piano_roll::{PianoRoll, RollKind, STEPS_PER_BEAT};
use crate::file_walk::files_under;
use crate::midi::read_midi;

/// Why a corpus cannot be used.
#[derive(Debug, Error)]
pub enum CorpusError {
    /// The folder cannot be listed.
    #[error("cannot read folder {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Nothing in it gives a single usable window.
    #[error(
        "{0} holds no MIDI file with notes of the requested kind (for the project's corpus run \
         `cargo xtask dataset midi`)"
    )]
    Empty(String),
}

/// One piece of music.
#[derive(Debug, Clone)]
pub struct Piece {
    /// File name.
    pub name: String,
    /// Collection (sub-folder of the corpus root; the root's own name for files in it).
    pub collection: String,
    /// Its onsets.
    pub roll: PianoRoll,
}

/// The pieces of a folder and what was skipped.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Pieces with at least one onset of the requested kind.
    pub pieces: Vec<Piece>,
    /// Files that are not valid MIDI, with the reason (reported, not fatal: public corpora
    /// hold a few broken files).
    pub unreadable: Vec<String>,
}

impl Corpus {
    /// Reads every `.mid`/`.midi` file under `root` (recursively, in name order) as rolls of
    /// `kind`.
    pub fn load(root: &Path, kind: RollKind) -> Result<Self, CorpusError> {
        let is_midi = |path: &Path| {
            path.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
        };
        let files = files_under(root, &is_midi).map_err(|e| CorpusError::Io {
            path: e.folder.display().to_string(),
            source: e.source,
        })?;
        let root_name = root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let (mut pieces, mut unreadable) = (Vec::new(), Vec::new());
        for file in files {
            match read_midi(&file) {
                Ok(score) => {
                    let roll = PianoRoll::from_score(&score, kind);
                    if roll.onset_count() == 0 {
                        continue;
                    }
                    let collection = file
                        .parent()
                        .filter(|p| *p != root)
                        .and_then(|p| p.file_name())
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_else(|| root_name.clone());
                    pieces.push(Piece {
                        name: file.display().to_string(),
                        collection,
                        roll,
                    });
                }
                Err(e) => unreadable.push(e.to_string()),
            }
        }
        if pieces.is_empty() {
            return Err(CorpusError::Empty(root.display().to_string()));
        }
        Ok(Self { pieces, unreadable })
    }

    /// The collections, sorted.
    pub fn collections(&self) -> Vec<String> {
        let mut names: Vec<String> = self.pieces.iter().map(|p| p.collection.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every piece's bar-aligned windows of `bars` 4/4 bars holding at least `min_onsets`
    /// onsets, each with the index of its piece.
    pub fn windows(&self, bars: usize, min_onsets: usize) -> Vec<(usize, PianoRoll)> {
        let length = bars.max(1) * 4 * STEPS_PER_BEAT;
        self.pieces
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                p.roll
                    .windows(length, min_onsets)
                    .into_iter()
                    .map(move |w| (i, w))
            })
            .collect()
    }
}
