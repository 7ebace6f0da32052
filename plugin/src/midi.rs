//! Host note events → engine note events.

use nice_plug::midi::{Channel, Key};
use timbrespace_engine::player::NoteEvent;

/// MIDI CC of the sustain pedal.
const SUSTAIN_PEDAL: u8 = 64;
/// MIDI CC "all sound off".
const ALL_SOUND_OFF: u8 = 120;
/// MIDI CC "all notes off".
const ALL_NOTES_OFF: u8 = 123;

/// A host event the instrument understands, as (offset in the block, engine event).
/// `bend_range` is the pitch-bend range in semitones. Returns `None` for events it ignores.
pub fn engine_event<S>(
    event: &nice_plug::midi::NoteEvent<S>,
    bend_range: f32,
) -> Option<(u32, NoteEvent)> {
    use nice_plug::midi::NoteEvent as Host;
    let to_u7 = |v: f32| (v.clamp(0.0, 1.0) * 127.0).round() as u8;
    let number = |c: Channel| c.number().unwrap_or(0);
    Some(match *event {
        Host::NoteOn {
            timing,
            channel,
            key: Key::Number(key),
            velocity,
            ..
        } => (
            timing,
            NoteEvent::NoteOn {
                channel: number(channel),
                key,
                // Velocity 0 means note-off in MIDI; a host's tiny float velocity still plays.
                velocity: to_u7(velocity).max(1),
            },
        ),
        Host::NoteOff {
            timing,
            channel,
            key,
            ..
        }
        | Host::Choke {
            timing,
            channel,
            key,
            ..
        } => match key {
            Key::Number(key) => (
                timing,
                NoteEvent::NoteOff {
                    channel: number(channel),
                    key,
                },
            ),
            // Any key: release them all.
            Key::Wildcard => (timing, NoteEvent::AllNotesOff),
        },
        Host::MidiPitchBend {
            timing,
            channel,
            value,
        } => (
            timing,
            NoteEvent::PitchBend {
                channel,
                semitones: (value.clamp(0.0, 1.0) - 0.5) * 2.0 * bend_range,
            },
        ),
        Host::MidiCC {
            timing,
            channel,
            cc: SUSTAIN_PEDAL,
            value,
        } => (
            timing,
            NoteEvent::Sustain {
                channel,
                down: value >= 0.5,
            },
        ),
        Host::MidiCC {
            timing,
            cc: ALL_SOUND_OFF | ALL_NOTES_OFF,
            ..
        } => (timing, NoteEvent::AllNotesOff),
        _ => return None,
    })
}

/// A press of one of the agent's feedback controllers: `ccs` are the "Reward +" and
/// "Reward −" CC numbers, `held` whether each is down. A value of 64 or more presses (once,
/// until it falls below again). Returns +1 or −1 on a press.
pub fn reward_press<S>(
    event: &nice_plug::midi::NoteEvent<S>,
    ccs: (u8, u8),
    held: &mut [bool; 2],
) -> Option<f32> {
    let nice_plug::midi::NoteEvent::MidiCC { cc, value, .. } = *event else {
        return None;
    };
    let (slot, reward) = if cc == ccs.0 {
        (0, 1.0)
    } else if cc == ccs.1 {
        (1, -1.0)
    } else {
        return None;
    };
    let down = value >= 0.5;
    let pressed = down && !held[slot];
    held[slot] = down;
    pressed.then_some(reward)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(cc: u8, value: f32) -> nice_plug::midi::NoteEvent<()> {
        nice_plug::midi::NoteEvent::MidiCC {
            timing: 0,
            channel: 0,
            cc,
            value,
        }
    }

    #[test]
    fn a_feedback_controller_presses_once_per_push() {
        let ccs = (20, 21);
        let mut held = [false; 2];
        let presses: Vec<Option<f32>> = [
            cc(20, 1.0),
            cc(20, 0.8), // still down: no second press
            cc(21, 1.0),
            cc(20, 0.0),
            cc(20, 0.6),
            cc(7, 1.0), // another controller
            cc(21, 0.2),
        ]
        .iter()
        .map(|e| reward_press(e, ccs, &mut held))
        .collect();
        assert_eq!(
            presses,
            vec![Some(1.0), None, Some(-1.0), None, Some(1.0), None, None]
        );
        assert_eq!(held, [true, false]);
        // The mapping is the musician's: CC 7 can be "Reward +".
        assert_eq!(
            reward_press(&cc(7, 1.0), (7, 8), &mut [false; 2]),
            Some(1.0)
        );
    }
}
