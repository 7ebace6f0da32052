//! `timbrespace agent-sim`: the co-exploration agent against simulated musicians (consistent,
//! noisy, contradictory, silent), beside a random walk over the same moves; medians over many
//! seeds.

use anyhow::{ensure, Result};
use clap::Args;
use timbrespace_engine::agent::simulation::{summarise, Explorer, Musician, Scenario, Summary};
use timbrespace_engine::agent::{AgentSettings, MAX_DIMS};

/// Options of `agent-sim`.
#[derive(Args, Debug)]
pub struct AgentSimArgs {
    /// Sessions (seeds) per line; the table shows medians.
    #[arg(long, default_value_t = 50)]
    pub sessions: usize,
    /// Moves per session.
    #[arg(long, default_value_t = 2000)]
    pub actions: usize,
    /// Dimensions explored, one table each (comma-separated, 1–8).
    #[arg(long, value_delimiter = ',', default_value = "2")]
    pub dims: Vec<usize>,
    /// Explore ↔ Exploit, 0–1.
    #[arg(long, default_value_t = 0.5)]
    pub explore: f32,
    /// Size of a move, σ.
    #[arg(long, default_value_t = 0.25)]
    pub step: f32,
    /// Seconds between moves.
    #[arg(long, default_value_t = 0.1)]
    pub period: f64,
    /// Radius of the hidden target region, σ.
    #[arg(long, default_value_t = 0.6)]
    pub radius: f32,
}

/// Runs every musician with the agent and with a random walk and prints the medians.
pub fn run(args: &AgentSimArgs) -> Result<()> {
    ensure!(args.sessions > 0, "--sessions must be at least 1");
    ensure!(args.actions > 0, "--actions must be at least 1");
    ensure!(
        args.period.is_finite() && args.period > 0.0,
        "--period must be a positive number of seconds"
    );
    ensure!(
        args.radius.is_finite() && args.radius > 0.0,
        "--radius must be a positive number of σ"
    );
    for &dims in &args.dims {
        ensure!(
            (1..=MAX_DIMS).contains(&dims),
            "--dims {dims}: the agent explores 1 to {MAX_DIMS} dimensions"
        );
        let scenario = Scenario {
            settings: AgentSettings {
                dims,
                step: args.step,
                explore: args.explore,
            },
            actions: args.actions,
            period: args.period,
            radius: args.radius,
        };
        println!(
            "\n{dims} dimension(s), step {} σ every {} s, explore {}, region radius {} σ, {} moves, medians of {} sessions",
            args.step, args.period, args.explore, args.radius, args.actions, args.sessions
        );
        println!(
            "{:<14} {:<8} {:>9} {:>9} {:>8} {:>9}",
            "musician", "mover", "to reach", "reached", "stayed", "coverage"
        );
        for musician in Musician::ALL {
            let agent = summarise(&scenario, musician, Explorer::Agent, args.sessions);
            let walk = summarise(&scenario, musician, Explorer::RandomWalk, args.sessions);
            print_row(musician.name(), "agent", &agent, args.actions);
            print_row("", "random", &walk, args.actions);
            if musician != Musician::Silent {
                let ratio = match (agent.reached, walk.reached) {
                    (Some(a), Some(w)) => format!("{:.1}×", w as f32 / a.max(1) as f32),
                    (Some(a), None) => format!("> {:.1}×", args.actions as f32 / a.max(1) as f32),
                    _ => "—".into(),
                };
                println!("{:<14} agent reaches the region {ratio} sooner", "");
            }
        }
    }
    println!(
        "\n'to reach': moves until the sound first enters the region (after the change of mind \
         for 'contradictory'); 'stayed': share of the later moves that end inside it; \
         'coverage': share of a 10 × 10 grid over axes 1–2 visited."
    );
    Ok(())
}

fn print_row(musician: &str, mover: &str, s: &Summary, actions: usize) {
    let reach = s
        .reached
        .map_or_else(|| format!("> {actions}"), |r| r.to_string());
    println!(
        "{musician:<14} {mover:<8} {reach:>9} {:>8.0}% {:>7.0}% {:>8.0}%",
        100.0 * s.reached_share,
        100.0 * s.stayed,
        100.0 * s.coverage
    );
}
