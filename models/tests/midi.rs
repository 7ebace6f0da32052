//! Standard MIDI files: type 0 with running status and overlapping notes, type 1 with a tempo
//! change, pedal, bends with an RPN range, and malformed files.

use timbrespace_engine::player::NoteEvent;
use timbrespace_models::midi::{parse_midi, MidiError};

/// A chunk with its header.
fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = kind.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn header(format: u16, tracks: u16, ticks_per_beat: u16) -> Vec<u8> {
    let mut body = format.to_be_bytes().to_vec();
    body.extend_from_slice(&tracks.to_be_bytes());
    body.extend_from_slice(&ticks_per_beat.to_be_bytes());
    chunk(b"MThd", &body)
}

const END: [u8; 4] = [0x00, 0xFF, 0x2F, 0x00];

#[test]
fn type_0_with_running_status_and_overlapping_notes() {
    // 96 ticks per beat at the default 120 bpm: one tick = 1/192 s.
    let track = [
        0x00, 0x90, 60, 100, // C4 on
        0x60, 64, 90, // running status: E4 on one beat later
        0x60, 60, 0, // running status: C4 off (velocity 0) at beat 2
        0x00, 0x80, 64, 0, // E4 off at beat 2
        0x30, 0xB0, 64, 127, // pedal down
        0x00, 0xE0, 0x00, 0x60, // bend: +0.5 of the range
        0x30, 0xB0, 64, 0, // pedal up
    ]
    .iter()
    .chain(&END)
    .copied()
    .collect::<Vec<u8>>();
    let mut bytes = header(0, 1, 96);
    bytes.extend(chunk(b"MTrk", &track));
    let score = parse_midi(&bytes, "type0.mid").expect("valid");
    assert_eq!((score.format, score.tracks), (0, 1));
    assert_eq!(score.notes.len(), 2);
    let (c, e) = (score.notes[0], score.notes[1]);
    assert_eq!((c.key, c.velocity), (60, 100));
    assert!((c.start - 0.0).abs() < 1e-9 && (c.end - 1.0).abs() < 1e-9);
    assert_eq!((e.key, e.velocity), (64, 90));
    assert!((e.start - 0.5).abs() < 1e-9 && (e.end - 1.0).abs() < 1e-9);
    // The overlap: E4 starts before C4 ends.
    assert!(e.start < c.end);
    let kinds: Vec<NoteEvent> = score.events.iter().map(|t| t.event).collect();
    assert!(kinds.contains(&NoteEvent::Sustain {
        channel: 0,
        down: true
    }));
    let bend = kinds.iter().find_map(|k| match k {
        NoteEvent::PitchBend { semitones, .. } => Some(*semitones),
        _ => None,
    });
    // 0x3000 above centre of 0x2000 … 0x3FFF: half the default ±2 semitone range.
    assert!(bend.is_some_and(|s| (s - 1.0).abs() < 0.01), "{bend:?}");
    assert!((score.duration() - 1.5).abs() < 1e-9);
}

#[test]
fn type_1_follows_tempo_changes_across_tracks() {
    // Track 0: 120 bpm, then 60 bpm from beat 2. Track 1: notes on beats 0, 2 and 3.
    let tempo = [
        0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, // 500,000 µs
        0x81, 0x40, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40, // at tick 192: 1,000,000 µs
    ]
    .iter()
    .chain(&END)
    .copied()
    .collect::<Vec<u8>>();
    let notes = [
        0x00, 0x91, 67, 80, // channel 1
        0x81, 0x40, 0x81, 67, 0, // off at tick 192
        0x00, 0x91, 69, 80, // on at 192
        0x60, 0x81, 69, 0, // off at 288
        0x00, 0xB1, 101, 0, 0x00, 0xB1, 100, 0, 0x00, 0xB1, 6, 12, // bend range 12
        0x00, 0xE1, 0x7F, 0x7F, // full bend up
    ]
    .iter()
    .chain(&END)
    .copied()
    .collect::<Vec<u8>>();
    let mut bytes = header(1, 2, 96);
    bytes.extend(chunk(b"MTrk", &tempo));
    bytes.extend(chunk(b"MTrk", &notes));
    let score = parse_midi(&bytes, "type1.mid").expect("valid");
    assert_eq!((score.format, score.tracks), (1, 2));
    let times: Vec<(u8, f64, f64)> = score
        .notes
        .iter()
        .map(|n| (n.key, n.start, n.end))
        .collect();
    // Two beats at 120 bpm = 1 s; the next beat at 60 bpm = 1 s more.
    assert_eq!(times.len(), 2);
    assert!((times[0].2 - 1.0).abs() < 1e-9, "{times:?}");
    assert!((times[1].1 - 1.0).abs() < 1e-9 && (times[1].2 - 2.0).abs() < 1e-9);
    assert!(score.notes.iter().all(|n| n.channel == 1));
    let bend = score.events.iter().find_map(|t| match t.event {
        NoteEvent::PitchBend { semitones, .. } => Some(semitones),
        _ => None,
    });
    assert!(bend.is_some_and(|s| (s - 12.0).abs() < 0.01), "{bend:?}");
    // One channel's part keeps its notes and controllers; another channel's is empty.
    let part = score.channel(1);
    assert_eq!(part.notes, score.notes);
    assert_eq!(part.events.len(), score.events.len());
    let other = score.channel(0);
    assert!(other.notes.is_empty());
    assert!(other.events.iter().all(|e| !matches!(
        e.event,
        NoteEvent::NoteOn { .. } | NoteEvent::PitchBend { .. }
    )));
}

#[test]
fn malformed_files_give_clear_errors() {
    for bytes in [b"not a midi file at all".to_vec(), header(0, 1, 96), {
        let mut b = header(0, 1, 96);
        b.extend(chunk(b"MTrk", &[0x00, 0x90, 60]));
        b
    }] {
        let err = parse_midi(&bytes, "broken.mid").expect_err("must be refused");
        assert!(matches!(err, MidiError::Parse { .. }));
        assert!(err.to_string().contains("broken.mid"), "{err}");
    }
}
