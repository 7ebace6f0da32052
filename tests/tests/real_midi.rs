//! A real MIDI file nobody on the team wrote — the opening of Mozart's *Eine kleine
//! Nachtmusik* (K. 525) as shipped in the music21 package — played part by part by the default
//! model: the pitch track of each monophonic part follows its notes.

use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::demo::default_model;
use timbrespace_models::midi::read_midi;
use timbrespace_models::midi_render::{pitch_agreement, render_score};
use timbrespace_tests::real_midi;

#[test]
fn mozart_parts_render_in_tune() {
    let model = default_model().expect("the embedded model validates");
    let score = read_midi(&real_midi("k525short.mid")).expect("a valid MIDI file");
    assert_eq!(score.format, 1);
    // Channels 3 (viola) and 4 (cello) are monophonic; the violins play double stops.
    for (channel, instrument) in [(2u8, "Violin"), (3, "Cello")] {
        let part = score.channel(channel);
        assert!(
            part.notes.len() > 20,
            "channel {} has its notes",
            channel + 1
        );
        let rendering = render_score(
            &model,
            &part,
            PhaseMode::Rtpghi(Lookahead::One),
            Some(instrument),
        )
        .expect("renders");
        assert!(rendering.audio.iter().all(|s| s.is_finite()));
        let agreement = pitch_agreement(&part, &rendering.audio, rendering.rate, 50.0)
            .expect("a monophonic part");
        println!(
            "channel {} on {instrument}: pitch within ±50 cents {:.1} % of the sounding time",
            channel + 1,
            100.0 * agreement
        );
        assert!(
            agreement >= 0.9,
            "channel {} on {instrument}: {:.1} %",
            channel + 1,
            100.0 * agreement
        );
    }
}
