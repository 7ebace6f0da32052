//! The co-exploration agent inside the instrument: it moves the sound in glides, learns from
//! the momentary feedback parameters, keeps what it learned across deactivation and in the
//! project's state, and its worker thread ends on deactivation and restarts for a new model.

mod common;

use std::time::{Duration, Instant};

use common::{note_on, render, rms, session, RATE};
use nice_plug::prelude::Plugin;
use timbrespace_engine::player::PlayMode;
use timbrespace_plugin::instrument::HostConfig;
use timbrespace_plugin::loader::default_model;
use timbrespace_plugin::params::{AgentControls, Controls, PhaseParam};
use timbrespace_plugin::session::Session;
use timbrespace_plugin::Timbrespace;

const BLOCK: usize = 256;
/// The default model's agent memory is filed under this name.
const DEFAULT_IDENTITY: &str = "|16";

/// Free mode with the agent on at its fastest rate.
fn with_agent() -> Controls {
    Controls {
        mode: PlayMode::Free,
        agent: AgentControls {
            on: true,
            dims: 2,
            period: 0.03,
            explore: 0.5,
            reward_plus: false,
            reward_minus: false,
            reset: false,
        },
        ..Controls::default()
    }
}

/// Waits (at most 10 s) until `done` holds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn activate(s: &mut Session) {
    assert!(s.activate(
        HostConfig {
            rate: RATE,
            max_block: BLOCK
        },
        PhaseParam::Rtpghi
    ));
}

#[test]
fn the_agent_moves_the_sound_in_glides_and_learns_from_the_feedback_parameters() {
    let (mut s, _) = session(BLOCK);
    let mut controls = with_agent();
    let mut out = render(&mut s, &controls, &[(0, note_on(60, 100))], BLOCK, BLOCK);
    let mut previous = *s.synth().agent_offset();
    let mut largest_change: f32 = 0.0;
    let mut farthest: f32 = 0.0;
    let start = Instant::now();
    let mut blocks = 0;
    while start.elapsed() < Duration::from_millis(1500) {
        // "Reward +" pressed for one block in every 20.
        controls.agent.reward_plus = blocks % 20 == 10;
        out.extend(render(&mut s, &controls, &[], BLOCK, BLOCK));
        let offset = *s.synth().agent_offset();
        for (a, b) in offset.iter().zip(&previous) {
            largest_change = largest_change.max((a - b).abs());
            farthest = farthest.max(a.abs());
        }
        previous = offset;
        blocks += 1;
        std::thread::sleep(Duration::from_millis(3));
    }
    let view = s.shared().agent.link().view();
    assert!(view.status.actions >= 10, "it moved: {view:?}");
    assert!(view.status.feedback >= 3, "it heard the presses: {view:?}");
    assert!(farthest >= 0.2, "the sound followed it ({farthest} σ)");
    // A move is 0.25 σ; the sound glides there (≈ 10 % of the way per 256-sample block), so
    // no block moves it by a whole step unless the test thread stalls for eight moves.
    assert!(
        largest_change < 0.2,
        "the offset jumped {largest_change} σ in one block"
    );
    assert!(out.iter().all(|x| x.is_finite()));
    assert!(rms(&out[out.len() / 2..]) > 1e-4, "it keeps sounding");

    // Off: the sound glides back to the sliders.
    controls.agent.on = false;
    for _ in 0..200 {
        render(&mut s, &controls, &[], BLOCK, BLOCK);
    }
    assert!(s.synth().agent_offset().iter().all(|v| v.abs() < 1e-3));

    // Reset: it forgets (its count of moves starts again).
    controls.agent.on = true;
    controls.agent.reset = true;
    render(&mut s, &controls, &[], BLOCK, BLOCK);
    let link = s.shared().agent.link().clone();
    wait_until("the agent reset", || link.view().status.feedback == 0);
}

#[test]
fn the_worker_ends_on_deactivation_and_restarts_for_another_model() {
    let (mut s, _) = session(BLOCK);
    assert_eq!(
        s.shared().agent.running_model().as_deref(),
        Some(DEFAULT_IDENTITY)
    );
    // Deactivation joins the thread (this returns only once it has ended).
    s.deactivate();
    assert_eq!(s.shared().agent.running_model(), None);
    activate(&mut s);
    assert_eq!(
        s.shared().agent.running_model().as_deref(),
        Some(DEFAULT_IDENTITY)
    );

    // Another model: the worker for the old one ends and a fresh one starts.
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let other = dir.join("other.tsm");
    default_model().save(&other).expect("writes");
    let controls = with_agent();
    render(&mut s, &controls, &[], BLOCK * 40, BLOCK);
    let link = s.shared().agent.link().clone();
    wait_until("the agent moved", || link.view().status.actions > 0);
    assert!(s.load(other.clone()));
    let wanted = format!("{}|16", other.display());
    let start = Instant::now();
    while s.shared().agent.running_model().as_deref() != Some(wanted.as_str()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the worker restarted"
        );
        render(&mut s, &controls, &[], BLOCK, BLOCK);
        std::thread::sleep(Duration::from_millis(2));
    }
    s.deactivate();
    // The memory saved is the new model's (the old model's learning does not carry over).
    assert_eq!(s.shared().agent.saved().read().memory.model, wanted);
}

#[test]
fn what_the_agent_learned_survives_deactivation_and_the_project_state() {
    let (mut s, _) = session(BLOCK);
    let controls = with_agent();
    let link = s.shared().agent.link().clone();
    render(&mut s, &controls, &[], BLOCK, BLOCK);
    wait_until("the agent moved", || link.view().status.actions > 3);
    for _ in 0..3 {
        assert!(link.give_feedback(1.0));
    }
    wait_until("the feedback arrived", || link.view().status.feedback == 3);
    s.deactivate();
    let saved = s.shared().agent.saved().read().clone();
    assert_eq!(saved.memory.model, DEFAULT_IDENTITY);
    assert_eq!(saved.memory.feedback, 3);
    assert!(saved.memory.actions > 3 && !saved.memory.weights.is_empty());

    // Through the plugin's persisted fields, as a host saves and loads a project.
    let a = Timbrespace::default();
    *a.parameters().agent_memory.write() = saved.clone();
    let fields = a.params().serialize_fields();
    assert!(fields.contains_key("agent"));
    let b = Timbrespace::default();
    b.params().deserialize_fields(&fields);
    assert_eq!(*b.parameters().agent_memory.read(), saved);

    // A new instance with that state takes up where the agent was.
    let mut restored = Session::new(Default::default());
    *restored.shared().agent.saved().write() = saved.clone();
    activate(&mut restored);
    let link = restored.shared().agent.link().clone();
    wait_until("the memory was recalled", || {
        link.view().status.actions == saved.memory.actions
    });
    assert_eq!(link.view().status.feedback, 3);

    // A state restored into a running instance replaces what it had.
    let mut other = saved.clone();
    other.stamp = saved.stamp.wrapping_add(1);
    other.memory.feedback = 7;
    *restored.shared().agent.saved().write() = other;
    activate(&mut restored);
    wait_until("the restored memory was taken up", || {
        link.view().status.feedback == 7
    });

    // A memory from another model, or a damaged one, starts a fresh agent.
    restored.deactivate();
    let mut foreign = saved.clone();
    foreign.memory.model = "/elsewhere.tsm|16".into();
    *restored.shared().agent.saved().write() = foreign;
    activate(&mut restored);
    wait_until("a fresh agent", || link.view().status.actions == 0);
}
