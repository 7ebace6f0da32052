//! `cargo xtask bench-plugin`: the instrument's processing driven like a host would, with held
//! chords re-struck every two seconds and the latent axes automated every block (so every voice
//! decodes a new spectrum at every hop: the worst case), at 48 kHz. Prints the share of real
//! time used on average and the slowest block's share of its period. The "+ agent" rows add the
//! co-exploration agent at its fastest rate, its worker thread moving and learning beside the
//! audio thread (on this machine's two cores); the "paced" rows run in real time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::motif::pattern::MotifSettings;
use timbrespace_engine::motif::sequencer::TransportInfo;
use timbrespace_engine::player::NoteEvent;
use timbrespace_plugin::instrument::HostConfig;
use timbrespace_plugin::params::{Controls, PhaseParam};
use timbrespace_plugin::session::Session;

const RATE: f32 = 48_000.0;
/// Seconds of audio per measurement.
const SECONDS: f32 = 8.0;
/// The host's tempo in the Motif rows, BPM.
const MOTIF_TEMPO: f64 = 140.0;
/// A chord is re-struck this often, seconds.
const RESTRIKE: f32 = 2.0;

/// What runs besides the voices.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Extra {
    /// Nothing.
    None,
    /// Every voice follows an automated brightness target.
    Target,
    /// The agent moves every 30 ms (wall clock) and gets feedback twice a second (audio
    /// time); its worker thread runs beside the audio thread.
    Agent,
    /// Motif mode on a playing transport at 140 BPM: the held keys play dense motifs whose
    /// position and shifts are automated every block (so the motif is decoded every block).
    Motif,
}

/// Shares of real time: (mean, the 99.9th-percentile block, the slowest block), each block's
/// time divided by its period.
/// With `paced`, blocks are due at their real time, as a host's audio thread is woken once per
/// period; otherwise they run back to back.
fn measure(
    voices: usize,
    block: usize,
    phase: PhaseParam,
    extra: Extra,
    paced: bool,
) -> (f64, f64, f64) {
    let mut session = Session::new(Arc::new(RwLock::new(String::new())));
    assert!(session.activate(
        HostConfig {
            rate: RATE,
            max_block: block,
        },
        phase,
    ));
    let names = session.shared().instruments.read().clone();
    let mut controls = Controls {
        phase,
        instrument: names.iter().position(|n| n == "Clarinet").unwrap_or(0) as f32
            / names.len().saturating_sub(1).max(1) as f32,
        ..Controls::default()
    };
    // Keys spread over the trained range, two octaves from G3.
    let keys: Vec<u8> = (0..voices).map(|v| 55 + (v * 5 % 24) as u8).collect();
    let (mut left, mut right) = (vec![0.0; block], vec![0.0; block]);
    let blocks = (SECONDS * RATE) as usize / block;
    let restrike = (RESTRIKE * RATE) as usize / block;
    let mut events: Vec<(u32, NoteEvent)> = Vec::with_capacity(2 * voices);
    let mut times = Vec::with_capacity(blocks);
    if extra == Extra::Agent {
        controls.agent.on = true;
        controls.agent.period = 0.03;
    }
    let period = block as f64 / f64::from(RATE);
    let clock = Instant::now();
    for b in 0..blocks {
        events.clear();
        if b % restrike == 0 {
            for (i, &key) in keys.iter().enumerate() {
                if b > 0 {
                    events.push((0, NoteEvent::NoteOff { channel: 0, key }));
                }
                events.push((
                    (i * 7 % block) as u32,
                    NoteEvent::NoteOn {
                        channel: 0,
                        key,
                        velocity: 70 + (i * 13 % 50) as u8,
                    },
                ));
            }
        }
        let t = b as f32 * block as f32 / RATE;
        controls.axes[0] = 1.5 * (t * 0.7).sin();
        controls.axes[1] = 1.0 * (t * 0.45).cos();
        match extra {
            Extra::None => {}
            Extra::Target => {
                controls.target = Some(Descriptor::Centroid);
                controls.target_amount = 0.5 + 0.4 * (t * 0.3).sin();
            }
            Extra::Agent => controls.agent.reward_plus = (t * 2.0).fract() < 0.1,
            Extra::Motif => {
                controls.motif = Some(MotifSettings {
                    position: 0.5 + 0.5 * (t * 0.2).sin(),
                    density: 0.8,
                    pitch_shift: (t * 0.5) as i32 % 5,
                    time_shift: b as i32 % 3,
                })
            }
        }
        let transport = TransportInfo {
            playing: extra == Extra::Motif,
            beat: Some(f64::from(t) * MOTIF_TEMPO / 60.0),
            tempo: Some(MOTIF_TEMPO),
        };
        if paced {
            // Spin rather than sleep until the block is due: a host's audio thread is woken by
            // the audio device with its caches warm from the last period, which a sleeping
            // benchmark would not reproduce.
            let due = Duration::from_secs_f64(b as f64 * period);
            while clock.elapsed() < due {
                std::hint::spin_loop();
            }
        }
        let start = Instant::now();
        let mut outputs = [&mut left[..], &mut right[..]];
        session.process(&controls, transport, events.iter().copied(), &mut outputs);
        times.push(start.elapsed().as_secs_f64());
        std::hint::black_box(&left);
    }
    let mean = times.iter().sum::<f64>() / (times.len() as f64 * period);
    times.sort_by(f64::total_cmp);
    let p999 = times[(times.len() * 999 / 1000).min(times.len() - 1)] / period;
    let slowest = times.last().copied().unwrap_or(0.0) / period;
    (mean, p999, slowest)
}

fn main() {
    println!("Timbrespace plugin processing at 48 kHz, default model, axes automated every block");
    println!("(\"+ target\": every voice also follows an automated brightness target)");
    println!(
        "(\"+ motif\": Motif mode, dense motifs morphing every block, on a playing transport)"
    );
    println!("(\"+ agent\": the agent moving every 30 ms on its own thread; \"paced\": blocks due in real time)");
    println!("(share of one core; target: 16 voices ≤ 15 % on average, no block above 50 %)");
    println!(
        "{:<24} {:>7} {:>7} {:>10} {:>12} {:>14}",
        "phase", "voices", "block", "mean load", "p99.9 block", "slowest block"
    );
    // `cargo xtask bench-plugin agent` (or `motif`) runs only those rows.
    let only_agent = std::env::args().any(|a| a == "agent");
    let only_motif = std::env::args().any(|a| a == "motif");
    if !only_agent && !only_motif {
        for phase in [
            PhaseParam::Rtpghi,
            PhaseParam::LowLatency,
            PhaseParam::Refined,
        ] {
            for voices in [1usize, 8, 16] {
                for block in [64usize, 512] {
                    row(voices, block, phase, Extra::None, false);
                }
            }
        }
        for block in [64usize, 512] {
            row(16, block, PhaseParam::Rtpghi, Extra::Target, false);
        }
    }
    if !only_agent {
        for block in [64usize, 512] {
            row(16, block, PhaseParam::Rtpghi, Extra::Motif, false);
        }
    }
    if only_motif {
        return;
    }
    for paced in [false, true] {
        for extra in [Extra::None, Extra::Agent] {
            for block in [64usize, 512] {
                if paced || extra == Extra::Agent || only_agent {
                    row(16, block, PhaseParam::Rtpghi, extra, paced);
                }
            }
        }
    }
}

/// Measures and prints one configuration.
fn row(voices: usize, block: usize, phase: PhaseParam, extra: Extra, paced: bool) {
    let (mean, p999, worst) = measure(voices, block, phase, extra, paced);
    let name = format!(
        "{phase:?}{}{}",
        match extra {
            Extra::None => "",
            Extra::Target => " + target",
            Extra::Agent => " + agent",
            Extra::Motif => " + motif",
        },
        if paced { ", paced" } else { "" }
    );
    println!(
        "{name:<24} {voices:>7} {block:>7} {:>8.1} % {:>10.1} % {:>12.1} %",
        100.0 * mean,
        100.0 * p999,
        100.0 * worst
    );
}
