//! Proof that the instrument's per-block processing never allocates or frees memory: every
//! block runs inside nice-plug's `assert_no_alloc` (the allocator it installs with
//! `assert_process_allocs` in debug builds aborts the test on any allocator call) while blocks
//! play notes, chords beyond the polyphony, pedal, bends, every control change, the
//! co-exploration agent moving the sound and taking feedback, and a phase-mode switch whose new
//! instrument arrives from the loader thread (the loader's and the agent's own allocations
//! happen on their threads, where they belong), and Motif mode playing motifs on a moving
//! transport while its settings change and another motif bank arrives.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{note_off, note_on, session};
use timbrespace_engine::axes::AxisBasis;
use timbrespace_engine::motif::pattern::MotifSettings;
use timbrespace_engine::motif::sequencer::TransportInfo;
use timbrespace_engine::player::{NoteEvent, PlayMode};
use timbrespace_plugin::params::{Controls, PhaseParam};
use timbrespace_plugin::session::Session;

const BLOCK: usize = 256;

/// Processes one block with `events`; any allocator call aborts.
fn block(
    s: &mut Session,
    controls: &Controls,
    events: &[(u32, NoteEvent)],
    left: &mut [f32],
    right: &mut [f32],
) {
    block_at(s, controls, TransportInfo::default(), events, left, right);
}

/// [`block`] with the host's transport at `transport`.
fn block_at(
    s: &mut Session,
    controls: &Controls,
    transport: TransportInfo,
    events: &[(u32, NoteEvent)],
    left: &mut [f32],
    right: &mut [f32],
) {
    let mut outputs = [left, right];
    nice_assert_no_alloc::assert_no_alloc(|| {
        s.process(controls, transport, events.iter().copied(), &mut outputs);
    });
}

#[test]
fn processing_never_allocates() {
    let (mut s, _) = session(BLOCK);
    s.shared()
        .editor_open
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut left, mut right) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
    let mut controls = Controls::default();
    let chord: Vec<(u32, NoteEvent)> = (0..20u8)
        .map(|i| (u32::from(i) * 10, note_on(48 + i, 40 + 4 * i)))
        .collect();
    let changes: Vec<Controls> = vec![
        Controls {
            axes: [1.5; 16],
            rotation_degrees: 45.0,
            ..controls
        },
        Controls {
            basis: AxisBasis::Ica,
            instrument: 0.37,
            ..controls
        },
        Controls {
            basis: AxisBasis::Raw,
            mode: PlayMode::Free,
            ..controls
        },
        Controls {
            gain: 3.0,
            bend_range: 12.0,
            ..controls
        },
    ];
    let pedal_and_bend = [
        (
            3u32,
            NoteEvent::Sustain {
                channel: 0,
                down: true,
            },
        ),
        (
            50,
            NoteEvent::PitchBend {
                channel: 0,
                semitones: 1.5,
            },
        ),
        (100, note_off(50)),
        (
            200,
            NoteEvent::Sustain {
                channel: 0,
                down: false,
            },
        ),
    ];
    // Warm-up outside the count: the first blocks of a fresh session touch lazily
    // initialised library state (FFT twiddles are made up front; thread-locals are not).
    nice_assert_no_alloc::permit_alloc(|| {
        let mut outputs = [&mut left[..], &mut right[..]];
        s.process(
            &controls,
            TransportInfo::default(),
            chord[..2].iter().copied(),
            &mut outputs,
        );
    });
    block(&mut s, &controls, &chord, &mut left, &mut right);
    block(&mut s, &controls, &pedal_and_bend, &mut left, &mut right);
    for c in &changes {
        for _ in 0..8 {
            block(&mut s, c, &chord[..4], &mut left, &mut right);
        }
    }
    block(
        &mut s,
        &controls,
        &[(7, NoteEvent::AllNotesOff)],
        &mut left,
        &mut right,
    );

    // Motif mode: a held key plays motifs on the host's grid while every motif setting moves,
    // the transport starts, loops back and stops, and the mode switches back and forth.
    let mut motif = Controls {
        motif: Some(MotifSettings::default()),
        ..controls
    };
    let mut beat = 0.0;
    for i in 0..120 {
        let settings = motif.motif.as_mut().expect("motif mode");
        settings.position = (i as f32 / 119.0).min(1.0);
        settings.density = 0.3 + 0.5 * ((i % 7) as f32 / 6.0);
        settings.pitch_shift = i % 5 - 2;
        settings.time_shift = i % 9 - 4;
        let transport = TransportInfo {
            playing: (10..100).contains(&i),
            beat: Some(if i == 60 { 0.0 } else { beat }),
            tempo: Some(180.0),
        };
        beat += BLOCK as f64 * 3.0 / 48_000.0;
        let keys: &[(u32, NoteEvent)] = match i {
            0 => &[(5, NoteEvent::AllNotesOff), (10, chord[0].1)],
            40 => &chord[1..3],
            80 => &[(3, note_off(48)), (90, note_off(49)), (91, note_off(50))],
            85 => &chord[..1],
            _ => &[],
        };
        let controls = if i == 110 { &controls } else { &motif };
        block_at(&mut s, controls, transport, keys, &mut left, &mut right);
    }

    // Another motif bank — the dictionary kind, beside the embedded motif space — arrives from
    // the loader thread while a motif plays: the audio thread swaps the players' boxes and
    // hands the old one back, and the new kind decodes without allocating either.
    let bank = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/dictionary.tsmotif");
    let before = s.shared().motifs.read().clone();
    assert!(s.load_motifs(bank.into()));
    let start = Instant::now();
    let mut i = 0u32;
    while s
        .synth()
        .motif_bank()
        .is_none_or(|b| Arc::ptr_eq(b, &before))
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the bank arrived"
        );
        let keys: &[(u32, NoteEvent)] = if i == 0 { &chord[..1] } else { &[] };
        block_at(
            &mut s,
            &motif,
            TransportInfo::default(),
            keys,
            &mut left,
            &mut right,
        );
        std::thread::sleep(Duration::from_millis(1));
        i += 1;
    }
    for _ in 0..20 {
        block_at(
            &mut s,
            &motif,
            TransportInfo::default(),
            &chord[..1],
            &mut left,
            &mut right,
        );
    }

    // The agent on at its fastest rate, with feedback and a reset from the parameters: its
    // worker moves and learns on its own thread while the blocks glide after it.
    let link = s.shared().agent.link().clone();
    let mut agent = Controls {
        mode: PlayMode::Free,
        ..controls
    };
    agent.agent.on = true;
    agent.agent.period = 0.03;
    for i in 0..60 {
        agent.agent.reward_plus = i % 10 == 3;
        agent.agent.reward_minus = i % 10 == 7;
        agent.agent.reset = i == 50;
        block(&mut s, &agent, &chord[..2], &mut left, &mut right);
        std::thread::sleep(Duration::from_millis(3));
    }
    assert!(link.view().status.actions > 0, "the agent moved meanwhile");
    assert!(
        s.synth().agent_offset().iter().any(|v| v.abs() > 1e-3),
        "and the sound followed"
    );

    // A phase-mode switch: the audio thread asks for a rebuild and takes the new instrument.
    controls.phase = PhaseParam::Refined;
    let start = Instant::now();
    while s
        .instrument()
        .is_some_and(|i| i.phase() != PhaseParam::Refined)
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the rebuild arrived"
        );
        block(&mut s, &controls, &chord[..3], &mut left, &mut right);
        std::thread::sleep(Duration::from_millis(1));
    }
    for _ in 0..20 {
        block(&mut s, &controls, &chord[..3], &mut left, &mut right);
    }
    assert!(left.iter().all(|x| x.is_finite()));
}
