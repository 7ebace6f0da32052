//! Labels of dataset files: parsed from file names (note, dynamics), the parent folder
//! (instrument) or a CSV table.

use std::collections::BTreeMap;
use std::path::Path;

use thiserror::Error;

use timbrespace_engine::symbols::PITCH_CLASSES;

/// Label kinds with a fixed meaning; CSV columns add any others.
pub const PITCH: &str = "pitch";
/// Octave in scientific pitch notation (C4 = MIDI 60).
pub const OCTAVE: &str = "octave";
/// Dynamics marking.
pub const DYNAMICS: &str = "dynamics";
/// Instrument (the parent folder's name).
pub const INSTRUMENT: &str = "instrument";

/// Dynamics markings recognised in file names, softest first.
pub const DYNAMICS_MARKS: [&str; 6] = ["pp", "p", "mp", "mf", "f", "ff"];

/// One file's labels: kind → class name. Missing kinds are simply absent.
pub type FileLabels = BTreeMap<String, String>;

/// Labels that cannot be trusted.
#[derive(Debug, Error, PartialEq)]
pub enum LabelError {
    /// One source gives two different values for the same kind.
    #[error("{file}: contradictory {kind} labels `{first}` and `{second}`; rename the file or fix the CSV")]
    Contradiction {
        /// The file concerned.
        file: String,
        /// Label kind.
        kind: String,
        /// One value.
        first: String,
        /// The other.
        second: String,
    },
    /// The CSV table is malformed.
    #[error("label CSV {path}, line {line}: {reason}")]
    Csv {
        /// The CSV file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Pitch class and octave of a note name such as `C#4`, `Bb2`, `a-1` or `Fs3`.
pub fn parse_note(token: &str) -> Option<(String, i32)> {
    let mut chars = token.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let base = PITCH_CLASSES
        .iter()
        .position(|p| p.len() == 1 && p.starts_with(letter))? as i32;
    let rest: String = chars.collect();
    let (shift, octave) = match rest.chars().next()? {
        '#' | 's' => (1, &rest[1..]),
        'b' => (-1, &rest[1..]),
        _ => (0, rest.as_str()),
    };
    let octave: i32 = octave.parse().ok().filter(|o| (-1..=9).contains(o))?;
    let midi = (octave + 1) * 12 + base + shift;
    (0..=127).contains(&midi).then(|| midi_to_note(midi as u8))
}

/// Pitch class and octave of a MIDI key.
pub fn midi_to_note(key: u8) -> (String, i32) {
    (
        PITCH_CLASSES[usize::from(key % 12)].to_string(),
        i32::from(key) / 12 - 1,
    )
}

/// Insert `kind = value` into `labels`, failing if a different value is already there.
pub fn merge(
    labels: &mut FileLabels,
    file: &str,
    kind: &str,
    value: &str,
) -> Result<(), LabelError> {
    match labels.get(kind) {
        Some(existing) if existing != value => Err(LabelError::Contradiction {
            file: file.to_string(),
            kind: kind.to_string(),
            first: existing.clone(),
            second: value.to_string(),
        }),
        _ => {
            labels.insert(kind.to_string(), value.to_string());
            Ok(())
        }
    }
}

/// Put a note's pitch and octave into `labels`.
fn merge_note(
    labels: &mut FileLabels,
    file: &str,
    (pitch, octave): (String, i32),
) -> Result<(), LabelError> {
    merge(labels, file, PITCH, &pitch)?;
    merge(labels, file, OCTAVE, &octave.to_string())
}

/// Labels from a file's name and parent folder. `root` is the dataset folder: a file directly
/// inside it has no instrument label. A bare number in the piano range (21–108) counts as a MIDI
/// key when the name has no note name, so take numbers such as `01` are not mistaken for keys.
pub fn labels_from_path(path: &Path, root: &Path) -> Result<FileLabels, LabelError> {
    let shown = path.display().to_string();
    let mut labels = FileLabels::new();
    if let Some(parent) = path.parent().filter(|p| *p != root) {
        if let Some(name) = parent.file_name().and_then(|n| n.to_str()) {
            labels.insert(INSTRUMENT.into(), name.to_string());
        }
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let tokens: Vec<&str> = stem
        .split(['_', '-', ' ', '.'])
        .filter(|t| !t.is_empty())
        .collect();
    let mut found_note = false;
    for token in &tokens {
        if let Some(note) = parse_note(token) {
            merge_note(&mut labels, &shown, note)?;
            found_note = true;
        } else if DYNAMICS_MARKS.contains(&token.to_ascii_lowercase().as_str()) {
            merge(&mut labels, &shown, DYNAMICS, &token.to_ascii_lowercase())?;
        }
    }
    if !found_note {
        for token in &tokens {
            if let Some(key) = token.parse::<u8>().ok().filter(|k| (21..=108).contains(k)) {
                merge_note(&mut labels, &shown, midi_to_note(key))?;
            }
        }
    }
    Ok(labels)
}

/// Labels from a CSV table with a `file` column (a path relative to the dataset folder, or a
/// bare file name) and one column per label kind. A `note` column fills pitch and octave; a
/// `midi` column does the same from a key number; empty cells are missing labels. Values must
/// not contain commas.
pub fn read_label_csv(path: &Path) -> Result<BTreeMap<String, FileLabels>, LabelError> {
    let shown = path.display().to_string();
    let csv_error = |line: usize, reason: String| LabelError::Csv {
        path: shown.clone(),
        line,
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| csv_error(0, e.to_string()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| csv_error(1, "empty table".into()))?;
    let columns: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let file_column = columns
        .iter()
        .position(|c| c == "file")
        .ok_or_else(|| csv_error(1, "no `file` column".into()))?;
    let mut table: BTreeMap<String, FileLabels> = BTreeMap::new();
    for (index, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(csv_error(
                index + 1,
                format!("{} cells for {} columns", cells.len(), columns.len()),
            ));
        }
        let file = cells[file_column].to_string();
        let labels = table.entry(file.clone()).or_default();
        for (column, cell) in columns.iter().zip(&cells) {
            if column == "file" || cell.is_empty() {
                continue;
            }
            match column.as_str() {
                "note" => {
                    let note = parse_note(cell).ok_or_else(|| {
                        csv_error(index + 1, format!("`{cell}` is not a note name"))
                    })?;
                    merge_note(labels, &file, note)?;
                }
                "midi" => {
                    let key = cell.parse::<u8>().ok().filter(|k| *k <= 127);
                    let key = key.ok_or_else(|| {
                        csv_error(index + 1, format!("`{cell}` is not a MIDI key"))
                    })?;
                    merge_note(labels, &file, midi_to_note(key))?;
                }
                kind => merge(labels, &file, kind, cell)?,
            }
        }
    }
    Ok(table)
}
