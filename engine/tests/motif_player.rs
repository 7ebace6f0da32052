//! The Motif mode's engine side against a simulated host: a hand-made bank whose motifs are
//! known exactly decodes to them (blended, shifted, thresholded), and the sequencer puts every
//! note-on on the first sample at or after its sixteenth-note grid point through odd block
//! sizes, a transport that starts off the grid, tempo changes, a loop jump, a stopped
//! transport and key releases — with a note-off for every note-on.

use std::sync::Arc;

use timbrespace_engine::motif::bank::{CodeEntry, MotifBank, MotifBankFile, BANK_FORMAT};
use timbrespace_engine::motif::pattern::{MotifSettings, Pattern};
use timbrespace_engine::motif::sequencer::{MotifSequencer, TransportInfo, REFERENCE_ROOT};
use timbrespace_engine::player::NoteEvent;

const ROWS: usize = 12;
const STEPS: usize = 16;
const LOWEST: u8 = 48;
const RATE: f32 = 44_100.0;

/// Motif A: (row, step) onsets.
const MOTIF_A: [(usize, usize); 4] = [(0, 0), (4, 4), (7, 8), (0, 12)];

/// A bank whose atoms are single cells (one map per row, one step wide), so each code entry
/// is exactly one onset: motif A, then motif B (row 2 on every other step).
fn bank() -> Arc<MotifBank> {
    let mut atoms = vec![0.0; ROWS * ROWS];
    for r in 0..ROWS {
        atoms[r * ROWS + r] = 20.0;
    }
    let entry = |(row, step): (usize, usize)| CodeEntry {
        map: row as u16,
        step: step as u16,
        value: 1.0,
    };
    let file = MotifBankFile {
        format: BANK_FORMAT,
        lowest_key: LOWEST,
        rows: ROWS,
        steps: STEPS,
        maps: ROWS,
        atom_steps: 1,
        atoms,
        bias: vec![-10.0; ROWS],
        motifs: vec![
            MOTIF_A.iter().copied().map(entry).collect(),
            (0..STEPS).step_by(2).map(|s| entry((2, s))).collect(),
        ],
        source: "test".into(),
    };
    let text = serde_json::to_string(&file).expect("json");
    Arc::new(MotifBank::from_json(text.as_bytes()).expect("bank"))
}

fn onsets(pattern: &Pattern) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for row in 0..pattern.rows() {
        for step in 0..pattern.steps() {
            if pattern.plays(row, step) {
                out.push((row, step));
            }
        }
    }
    out.sort_by_key(|&(r, s)| (s, r));
    out
}

#[test]
fn a_bank_decodes_its_motifs_blends_and_shifts_them() {
    let bank = bank();
    let mut pattern = Pattern::new(&bank);
    let mut settings = MotifSettings {
        position: 0.0,
        ..MotifSettings::default()
    };
    pattern.update(&bank, &settings);
    assert_eq!(onsets(&pattern), MOTIF_A.to_vec());
    settings.time_shift = 3;
    pattern.update(&bank, &settings);
    let shifted: Vec<_> = MOTIF_A.iter().map(|&(r, s)| (r, (s + 3) % STEPS)).collect();
    assert_eq!(onsets(&pattern), shifted);
    // Halfway, both motifs' codes are at half strength: logit 0, probability 0.5.
    settings = MotifSettings {
        position: 0.5,
        density: 0.45,
        ..settings
    };
    pattern.update(&bank, &settings);
    assert!(onsets(&pattern).is_empty(), "{:?}", onsets(&pattern));
    settings.density = 0.55;
    pattern.update(&bank, &settings);
    assert_eq!(onsets(&pattern).len(), MOTIF_A.len() + STEPS / 2);
    settings.position = 1.0;
    pattern.update(&bank, &settings);
    assert!(onsets(&pattern).iter().all(|&(r, _)| r == 2));
    assert_eq!(onsets(&pattern).len(), STEPS / 2);
    // Notes last until the next step that plays: motif B, shifted by 3, plays on odd steps.
    assert_eq!((pattern.gate(1), pattern.gate(2)), (2, 1));
    // Damaged banks are refused with a reason.
    for broken in [
        r#"{"format": 1}"#,
        r#"{"format": 9, "lowest_key": 0, "rows": 1, "steps": 1, "maps": 1, "atom_steps": 1, "atoms": [0], "bias": [0], "motifs": [[]]}"#,
        r#"{"format": 1, "lowest_key": 0, "rows": 1, "steps": 1, "maps": 1, "atom_steps": 1, "atoms": [0], "bias": [0], "motifs": [[{"map": 3, "step": 0, "value": 1}]]}"#,
        r#"{"format": 1, "lowest_key": 0, "rows": 1, "steps": 1, "maps": 1, "atom_steps": 1, "atoms": [0], "bias": [0], "motifs": []}"#,
    ] {
        assert!(MotifBank::from_json(broken.as_bytes()).is_err(), "{broken}");
    }
}

/// A simulated host: blocks of changing sizes, a transport position per block.
struct Host {
    sequencer: MotifSequencer,
    /// Samples played so far.
    clock: u64,
    /// (absolute sample, event) produced.
    events: Vec<(u64, NoteEvent)>,
}

impl Host {
    fn new() -> Self {
        Self {
            sequencer: MotifSequencer::new(bank(), RATE),
            clock: 0,
            events: Vec::new(),
        }
    }

    /// One block of `len` samples with the transport at `transport` and `keys` (offsets).
    fn block(&mut self, len: usize, transport: TransportInfo, keys: &[(u32, NoteEvent)]) {
        for &(offset, key) in keys {
            self.sequencer.key(offset, key);
        }
        let settings = MotifSettings::default();
        for &(offset, event) in self.sequencer.run(len, transport, &settings) {
            assert!(
                (offset as usize) < len,
                "offset {offset} outside a {len}-sample block"
            );
            self.events.push((self.clock + u64::from(offset), event));
        }
        self.clock += len as u64;
    }

    /// Absolute samples and keys of the note-ons.
    fn note_ons(&self) -> Vec<(u64, u8)> {
        self.events
            .iter()
            .filter_map(|&(t, e)| match e {
                NoteEvent::NoteOn { key, .. } => Some((t, key)),
                _ => None,
            })
            .collect()
    }

    /// Every note-on is ended by a later (or simultaneous) note-off of its key.
    fn assert_every_note_ends(&self) {
        let mut open: Vec<(u8, u64)> = Vec::new();
        for &(t, e) in &self.events {
            match e {
                NoteEvent::NoteOn { key, .. } => {
                    assert!(
                        open.iter().all(|&(k, _)| k != key),
                        "{key} struck twice at {t}"
                    );
                    open.push((key, t));
                }
                NoteEvent::NoteOff { key, .. } => {
                    let i = open.iter().position(|&(k, _)| k == key);
                    open.remove(
                        i.unwrap_or_else(|| panic!("note-off of {key} at {t} without a note-on")),
                    );
                }
                _ => {}
            }
        }
        assert!(open.is_empty(), "left sounding: {open:?}");
    }
}

fn key_on(key: u8) -> NoteEvent {
    NoteEvent::NoteOn {
        channel: 0,
        key,
        velocity: 100,
    }
}

fn key_off(key: u8) -> NoteEvent {
    NoteEvent::NoteOff { channel: 0, key }
}

/// The keys motif A plays at step `step` (of the loop) from `root`.
fn motif_a_keys(step: usize, root: u8) -> Vec<u8> {
    MOTIF_A
        .iter()
        .filter(|&&(_, s)| s == step % STEPS)
        .map(|&(r, _)| (i32::from(LOWEST) + r as i32 + i32::from(root) - REFERENCE_ROOT) as u8)
        .collect()
}

#[test]
fn motif_notes_land_on_the_hosts_grid_through_odd_blocks_and_tempo_changes() {
    let mut host = Host::new();
    let sizes = [100usize, 333, 512, 64, 1000, 7];
    let start_beat = 2.37;
    let mut beat: f64 = start_beat;
    // (first block, tempo): the tempo changes twice, at block boundaries.
    let tempi = [(0usize, 123.0f64), (150, 97.5), (260, 140.0)];
    let mut expected: Vec<(u64, u8)> = Vec::new();
    let root = 64;
    for b in 0..3000 {
        let len = sizes[b % sizes.len()];
        let tempo = tempi.iter().rev().find(|(from, _)| b >= *from).unwrap().1;
        let samples_per_beat = f64::from(RATE) * 60.0 / tempo;
        // Where the grid's steps fall in this block.
        let first = (beat * 4.0).ceil() as i64 - 1;
        for step in first.. {
            let time = (step as f64 / 4.0 - beat) * samples_per_beat;
            // The first sample at or after the grid point.
            let at = time.ceil();
            if at >= len as f64 {
                break;
            }
            if at >= 0.0 && step as f64 / 4.0 >= start_beat {
                let sample = host.clock + at as u64;
                for key in motif_a_keys(step as usize, root) {
                    expected.push((sample, key));
                }
            }
        }
        let keys = if b == 0 {
            vec![(0, key_on(root))]
        } else {
            vec![]
        };
        host.block(
            len,
            TransportInfo {
                playing: true,
                beat: Some(beat),
                tempo: Some(tempo),
            },
            &keys,
        );
        beat += len as f64 / samples_per_beat;
    }
    let played = host.note_ons();
    assert!(played.len() > 40, "{} notes", played.len());
    assert_eq!(played, expected);
    host.block(
        64,
        TransportInfo {
            playing: true,
            beat: Some(beat),
            tempo: Some(140.0),
        },
        &[(10, key_off(root))],
    );
    host.assert_every_note_ends();
}

#[test]
fn a_loop_jump_restarts_the_grid_and_a_stopped_transport_runs_free_from_the_key() {
    let mut host = Host::new();
    let tempo = 120.0;
    let samples_per_beat = f64::from(RATE) * 60.0 / tempo;
    let block = 441; // a hundredth of a second: 0.02 beats
    let mut beat = 0.0;
    let playing = |beat: f64| TransportInfo {
        playing: true,
        beat: Some(beat),
        tempo: Some(tempo),
    };
    host.block(block, playing(beat), &[(0, key_on(60))]);
    beat += 0.02;
    while beat < 3.5 {
        host.block(block, playing(beat), &[]);
        beat += 0.02;
    }
    // The host loops back to beat 1: what sounds ends, the grid's step 4 plays at once.
    let jump_at = host.clock;
    host.block(block, playing(1.0), &[]);
    let at_jump: Vec<NoteEvent> = host
        .events
        .iter()
        .filter(|(t, _)| *t == jump_at)
        .map(|(_, e)| *e)
        .collect();
    assert!(
        at_jump
            .iter()
            .any(|e| matches!(e, NoteEvent::NoteOff { .. })),
        "{at_jump:?}"
    );
    assert!(
        at_jump.contains(&key_on(motif_a_keys(4, 60)[0])),
        "{at_jump:?}"
    );
    // The transport stops: the motif's notes end; the key still held plays on its own clock.
    let stopped = TransportInfo {
        playing: false,
        beat: None,
        tempo: Some(tempo),
    };
    host.block(block, stopped, &[(0, key_off(60))]);
    host.assert_every_note_ends();
    // Pressed mid-block with the transport stopped, the motif starts on that very sample.
    host.events.clear();
    let pressed_at = host.clock + 100;
    host.block(block, stopped, &[(100, key_on(62))]);
    for _ in 0..1000 {
        host.block(block, stopped, &[]);
    }
    let played = host.note_ons();
    let step = samples_per_beat / 4.0;
    for &(t, key) in &played {
        let steps = (t - pressed_at) as f64 / step;
        let nearest = steps.round();
        assert!(
            (steps - nearest) * step < 1.0 && (steps - nearest) * step >= 0.0 - 1e-9,
            "{t}"
        );
        assert_eq!(vec![key], motif_a_keys(nearest as usize, 62));
    }
    assert_eq!(played.first().map(|p| p.0), Some(pressed_at));
    assert!(played.len() >= 15, "{}", played.len());
    // Released, everything ends at the release and nothing more plays.
    let released_at = host.clock + 5;
    host.block(block, stopped, &[(5, key_off(62))]);
    for _ in 0..50 {
        host.block(block, stopped, &[]);
    }
    assert!(host
        .events
        .iter()
        .all(|(t, e)| *t <= released_at || !matches!(e, NoteEvent::NoteOn { .. })));
    host.assert_every_note_ends();
}
