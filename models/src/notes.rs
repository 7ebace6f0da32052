//! Musical labels shared by datasets: note names, dynamics, the instruments of the timbre study.

use std::fmt;

// The symbol vocabulary's names, so the note names datasets write are the symbols models play.
use timbrespace_engine::symbols::PITCH_CLASSES;

/// The note name of a MIDI key, `C4` being key 60.
pub fn note_name(key: u8) -> String {
    let octave = i32::from(key) / 12 - 1;
    format!("{}{octave}", PITCH_CLASSES[usize::from(key % 12)])
}

/// Frequency of a MIDI key in Hz (A4 = key 69 = 440 Hz).
pub fn key_frequency(key: u8) -> f64 {
    440.0 * 2f64.powf((f64::from(key) - 69.0) / 12.0)
}

/// Dynamics markings, with the MIDI velocity the note generator uses for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamics {
    /// Pianissimo.
    Pp,
    /// Piano.
    P,
    /// Mezzo-forte.
    Mf,
    /// Fortissimo.
    Ff,
}

impl Dynamics {
    /// The four levels the note generator renders.
    pub const RENDERED: [Dynamics; 4] = [Dynamics::Pp, Dynamics::P, Dynamics::Mf, Dynamics::Ff];

    /// MIDI velocity for this marking.
    pub fn velocity(self) -> u8 {
        match self {
            Dynamics::Pp => 24,
            Dynamics::P => 48,
            Dynamics::Mf => 80,
            Dynamics::Ff => 120,
        }
    }
}

impl fmt::Display for Dynamics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dynamics::Pp => "pp",
            Dynamics::P => "p",
            Dynamics::Mf => "mf",
            Dynamics::Ff => "ff",
        })
    }
}

/// An instrument of the timbre dissimilarity study, as a General MIDI program and a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instrument {
    /// Name as in `shared/data/timbre/instruments.txt`.
    pub name: &'static str,
    /// General MIDI program number (0-based).
    pub program: u8,
    /// Lowest MIDI key rendered.
    pub low: u8,
    /// Highest MIDI key rendered (inclusive).
    pub high: u8,
}

/// The twelve instruments of the timbre study with their playable ranges. FluidR3's violin is
/// silent from key 94 up, so its range stops at 93.
pub const INSTRUMENTS: [Instrument; 12] = [
    instrument("Clarinet", 71, 50, 94),
    instrument("Saxophone", 65, 49, 81),
    instrument("Trumpet", 56, 54, 84),
    instrument("Cello", 42, 36, 76),
    instrument("FrenchHorn", 60, 34, 77),
    instrument("Oboe", 68, 58, 91),
    instrument("Flute", 73, 60, 96),
    instrument("EnglishHorn", 69, 52, 81),
    instrument("Bassoon", 70, 34, 75),
    instrument("Trombone", 57, 40, 72),
    instrument("Piano", 0, 21, 108),
    instrument("Violin", 40, 55, 93),
];

const fn instrument(name: &'static str, program: u8, low: u8, high: u8) -> Instrument {
    Instrument {
        name,
        program,
        low,
        high,
    }
}

/// Looks an instrument up by name, ignoring case.
pub fn find_instrument(name: &str) -> Option<Instrument> {
    INSTRUMENTS
        .iter()
        .find(|i| i.name.eq_ignore_ascii_case(name))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_names_follow_the_midi_convention() {
        assert_eq!(note_name(60), "C4");
        assert_eq!(note_name(61), "C#4");
        assert_eq!(note_name(21), "A0");
        assert_eq!(note_name(108), "C8");
        assert!((key_frequency(69) - 440.0).abs() < 1e-9);
        assert!((key_frequency(81) - 880.0).abs() < 1e-9);
    }

    #[test]
    fn instruments_match_the_timbre_study() {
        assert_eq!(INSTRUMENTS.len(), 12);
        assert!(INSTRUMENTS
            .iter()
            .all(|i| i.low < i.high && i.program < 128));
        assert_eq!(find_instrument("frenchhorn").map(|i| i.program), Some(60));
        assert!(find_instrument("kazoo").is_none());
    }
}
