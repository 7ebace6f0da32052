//! Motif tools: onset rolls from MIDI (tempo changes, overlapping notes, the drum channel),
//! corpora with broken files, onset scores and corruption, and a CONV-WTA dictionary learned
//! from toy drum patterns, and the motif bank it makes for the engine.

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_models::midi::parse_midi;
use timbrespace_models::motifs::bank::motif_bank;
use timbrespace_models::motifs::corpus::{Corpus, CorpusError};
use timbrespace_models::motifs::evaluate::{fit_cleaning, score_motifs, Cleaning};
use timbrespace_models::motifs::onsets::{corrupt, OnsetScore};
use timbrespace_models::motifs::piano_roll::{PianoRoll, RollKind, DRUM_CHANNEL};
use timbrespace_models::motifs::wta::{train_wta, WtaConfig};

const TICKS_PER_BEAT: u16 = 96;

/// A track event `delta` ticks after the previous one.
fn event(delta: u32, kind: TrackEventKind<'static>) -> TrackEvent<'static> {
    TrackEvent {
        delta: u28::new(delta),
        kind,
    }
}

fn note(delta: u32, channel: u8, key: u8, on: bool) -> TrackEvent<'static> {
    let (key, vel) = (u7::new(key), u7::new(if on { 100 } else { 0 }));
    let message = if on {
        MidiMessage::NoteOn { key, vel }
    } else {
        MidiMessage::NoteOff { key, vel }
    };
    event(
        delta,
        TrackEventKind::Midi {
            channel: u4::new(channel),
            message,
        },
    )
}

fn end() -> TrackEvent<'static> {
    event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack))
}

/// A type-1 file of `tracks`.
fn midi_bytes(tracks: Vec<Vec<TrackEvent<'static>>>) -> Vec<u8> {
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(TICKS_PER_BEAT)),
    ));
    smf.tracks = tracks;
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).expect("write MIDI");
    bytes
}

const BEAT: u32 = TICKS_PER_BEAT as u32;

/// Track 0: 120 bpm, then 40 bpm from beat 2. Track 1: a melody with an overlap (C4 held
/// under E4) and a note two octaves above the rolls' range. Track 2: drums on channel 10.
fn song() -> Vec<u8> {
    let tempo = vec![
        event(
            0,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))),
        ),
        event(
            2 * BEAT,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(1_500_000))),
        ),
        end(),
    ];
    let melody = vec![
        note(0, 0, 60, true),     // C4 on beat 0
        note(BEAT, 0, 64, true),  // E4 on beat 1, C4 still held
        note(BEAT, 0, 60, false), // C4 off at beat 2
        note(BEAT / 2, 0, 64, false),
        note(BEAT / 4, 0, 103, true), // G7 on beat 2.75, folded into the rows
        note(BEAT / 4, 0, 103, false),
        end(),
    ];
    let drums = vec![
        note(0, DRUM_CHANNEL, 36, true), // kick, beat 0
        note(10, DRUM_CHANNEL, 36, false),
        note(BEAT - 10, DRUM_CHANNEL, 42, true), // closed hat, beat 1
        note(0, DRUM_CHANNEL, 38, true),         // snare, beat 1
        note(BEAT, DRUM_CHANNEL, 42, false),
        note(0, DRUM_CHANNEL, 38, false),
        note(BEAT + BEAT / 4, DRUM_CHANNEL, 81, true), // triangle, beat 3.25
        note(BEAT, DRUM_CHANNEL, 81, false),
        end(),
    ];
    midi_bytes(vec![tempo, melody, drums])
}

const MELODY: RollKind = RollKind::Melody {
    lowest: 48,
    rows: 36,
};

#[test]
fn rolls_follow_beats_across_tempo_changes_and_keep_overlapping_notes() {
    let score = parse_midi(&song(), "song.mid").expect("valid");
    // Beat 3 comes 1 s + 1.5 s after the start, but sits on step 12 of the grid.
    let g7 = score.notes.iter().find(|n| n.key == 103).expect("G7");
    assert!((g7.start - (1.0 + 0.75 * 1.5)).abs() < 1e-9, "{}", g7.start);
    assert!((g7.start_beat - 2.75).abs() < 1e-9);
    let roll = PianoRoll::from_score(&score, MELODY);
    assert_eq!(roll.rows, 36);
    assert!(roll.onset(60 - 48, 0), "C4 at step 0");
    assert!(roll.onset(64 - 48, 4), "E4 at step 4 while C4 sounds");
    // G7 = 103 is folded down by octaves into C3–B5: 103 − 24 = 79.
    assert!(roll.onset(79 - 48, 11));
    assert_eq!(roll.onset_count(), 3, "drums stay out of a melody roll");
    // The roll lasts until the last note ends (beat 3).
    assert_eq!(roll.steps, 12);
}

#[test]
fn drum_rolls_read_only_the_drum_channel_by_class() {
    let score = parse_midi(&song(), "song.mid").expect("valid");
    let roll = PianoRoll::from_score(&score, RollKind::Drums);
    assert_eq!(roll.rows, 9);
    assert!(roll.onset(0, 0), "kick");
    assert!(
        roll.onset(1, 4) && roll.onset(2, 4),
        "snare and hat together"
    );
    assert!(roll.onset(8, 13), "other percussion");
    assert_eq!(
        roll.onset_count(),
        4,
        "melody notes stay out of a drum roll"
    );
}

#[test]
fn windows_start_on_bars_and_skip_sparse_ones() {
    let mut roll = PianoRoll::empty(2, 40);
    for step in [0, 3, 16, 35, 39] {
        roll.set(1, step);
    }
    // Windows of 16 steps: steps 0–15 (2 onsets), 16–31 (1), the rest is too short.
    let windows = roll.windows(16, 2);
    assert_eq!(windows.len(), 1);
    assert!(windows[0].onset(1, 0) && windows[0].onset(1, 3));
    let tail = roll.window(32, 16);
    assert!(tail.onset(1, 3) && tail.onset(1, 7) && tail.onset_count() == 2);
}

#[test]
fn a_corpus_skips_broken_files_and_an_empty_one_is_refused() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let styles = dir.join("style-a");
    std::fs::create_dir_all(&styles).expect("dir");
    std::fs::write(styles.join("good.mid"), song()).expect("write");
    std::fs::write(dir.join("broken.mid"), b"MThd not really").expect("write");
    let corpus = Corpus::load(dir, RollKind::Drums).expect("corpus");
    assert_eq!(corpus.pieces.len(), 1);
    assert_eq!(corpus.pieces[0].collection, "style-a");
    assert_eq!(corpus.unreadable.len(), 1);
    assert!(corpus.unreadable[0].contains("broken.mid"));
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let err = Corpus::load(&empty, RollKind::Drums).expect_err("empty");
    assert!(matches!(err, CorpusError::Empty(_)));
    assert!(err.to_string().contains("cargo xtask dataset midi"));
}

#[test]
fn onset_scores_count_hits_misses_and_false_alarms() {
    let mut truth = PianoRoll::empty(1, 4);
    truth.set(0, 0);
    truth.set(0, 2);
    let mut guess = PianoRoll::empty(1, 4);
    guess.set(0, 0);
    guess.set(0, 3);
    let s = OnsetScore::compare(&[guess], &[truth.clone()]);
    assert_eq!(
        (s.true_positives, s.false_positives, s.false_negatives),
        (1, 1, 1)
    );
    assert!((s.f1() - 0.5).abs() < 1e-12);
    assert!((OnsetScore::compare(&[truth.clone()], &[truth]).f1() - 1.0).abs() < 1e-12);
}

#[test]
fn corruption_drops_and_adds_the_requested_shares() {
    let mut roll = PianoRoll::empty(8, 100);
    for step in 0..100 {
        roll.set(step % 8, step);
    }
    let mut rng = fastrand::Rng::with_seed(3);
    let noisy = corrupt(&roll, 0.2, 0.2, &mut rng);
    let s = OnsetScore::compare(&[noisy], &[roll]);
    // About 20 of the 100 notes dropped and about 20 wrong ones added.
    assert!((10..=30).contains(&s.false_negatives), "{s:?}");
    assert!((10..=21).contains(&s.false_positives), "{s:?}");
}

/// Toy drum windows: one of three two-beat patterns, repeated, at a random offset.
fn toy_drums(count: usize, seed: u64) -> Vec<PianoRoll> {
    let patterns: [&[(usize, usize)]; 3] = [
        &[(0, 0), (2, 0), (2, 2), (1, 4), (2, 4), (2, 6)],
        &[(0, 0), (0, 3), (3, 2), (1, 4), (3, 6)],
        &[(4, 0), (5, 2), (4, 4), (6, 0), (5, 6), (7, 5)],
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..count)
        .map(|_| {
            let pattern = patterns[rng.usize(0..3)];
            let offset = rng.usize(0..8);
            let mut roll = PianoRoll::empty(9, 32);
            for start in (0..32).step_by(8) {
                for &(row, step) in pattern {
                    roll.set(row, start + step + offset);
                }
            }
            roll
        })
        .collect()
}

#[test]
fn conv_wta_learns_shifted_toy_patterns_denoises_and_makes_a_bank_the_engine_plays() {
    let config = WtaConfig {
        maps: 8,
        atom_steps: 8,
        hidden: 32,
        winners: 4,
        epochs: 40,
        ..WtaConfig::default()
    };
    let (model, history) = train_wta(&toy_drums(240, 1), &config).expect("train");
    assert!(history.last() < history.first(), "{history:?}");
    let test = toy_drums(60, 2);
    // Fitted on windows the model did not train on, as on validation pieces.
    let cleaning = fit_cleaning(&model, &toy_drums(60, 3), 0.15, 6).expect("fit");
    let scores = score_motifs(&model, &test, 0.15, cleaning, 5).expect("score");
    assert!(scores.reconstruction.f1() > 0.9, "{scores:?}");
    assert!(
        scores.denoised.f1() > scores.corrupted.f1(),
        "denoising must beat the corrupted input: {scores:?}"
    );
    assert!(
        scores.cleaned.f1() > scores.corrupted.f1(),
        "cleaning must beat the corrupted input: {scores:?}"
    );
    // Cleaning that changes nothing scores as the corrupted input.
    let unchanged = score_motifs(&model, &test, 0.15, Cleaning::NONE, 5).expect("score");
    assert_eq!(unchanged.cleaned, unchanged.corrupted);

    // A bank of 5 motifs: the engine, without candle, decodes each exactly as the model
    // reconstructs the window it came from.
    let bank = motif_bank(&model, &test, 5, 36, "toy").expect("bank");
    assert_eq!(bank.motifs.len(), 5);
    let text = serde_json::to_string(&bank).expect("json");
    let engine = MotifBank::from_json(text.as_bytes()).expect("the engine reads it");
    let reconstructions = model.reconstruct(&test).expect("reconstruct");
    let mut decoded = vec![0.0; 9 * 32];
    let mut scratch = engine.scratch();
    for i in 0..5 {
        engine.decode(i as f32 / 4.0, (0, 0), &mut scratch, &mut decoded);
        let closest = reconstructions
            .iter()
            .map(|r| {
                r.cells
                    .iter()
                    .zip(&decoded)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max)
            })
            .fold(f32::INFINITY, f32::min);
        assert!(
            closest < 1e-4,
            "motif {i} is no window's reconstruction ({closest})"
        );
    }
}
