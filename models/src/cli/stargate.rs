//! `timbrespace stargate`: the operational-latent-space ring task — points on a line mapped to
//! a ring walked by one learned operator — with FiLMR and with a square matrix, in 2-D and in
//! 64-D, in order and as the circle of fifths.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use timbrespace_models::operations::stargate::{
    train_stargate, Operator, StargateConfig, StargateScores,
};

use super::report::write_json;

/// Options of `stargate`.
#[derive(Args, Debug)]
pub struct StargateArgs {
    /// Points on the line and the ring.
    #[arg(long, default_value_t = StargateConfig::default().points)]
    pub points: usize,
    /// Code dimensions to try.
    #[arg(long, value_delimiter = ',', default_value = "2,64")]
    pub dims: Vec<usize>,
    /// Full-batch Adam steps per run.
    #[arg(long, default_value_t = StargateConfig::default().iterations)]
    pub iterations: usize,
    /// Trainings per run from different initialisations (the lowest final loss is kept).
    #[arg(long, default_value_t = StargateConfig::default().restarts)]
    pub restarts: usize,
    /// Initialisation seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write stargate.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Every (dimension, walk, operator) run, printed as a table.
pub fn run(args: &StargateArgs) -> Result<()> {
    if !(3..=256).contains(&args.points) || args.iterations == 0 || args.restarts == 0 {
        bail!("--points must be 3–256, --iterations and --restarts at least 1");
    }
    if args.dims.iter().any(|d| !(2..=1024).contains(d)) {
        bail!("every --dims value must be 2–1024");
    }
    // In order, and by fifths when the ring has 12 notes.
    let mut walks = vec![("next point", 1)];
    if args.points == 12 {
        walks.push(("circle of fifths", 7));
    }
    println!(
        "{:>5}  {:<17} {:<14} {:>12} {:>11} {:>13} {:>9} {:>13}",
        "dims",
        "walk",
        "operator",
        "worst error",
        "mean error",
        "radius spread",
        "angle",
        "decoding err"
    );
    let mut report = Vec::new();
    for &dims in &args.dims {
        for &(walk, step) in &walks {
            for operator in [Operator::FilmRotation, Operator::Matrix] {
                let config = StargateConfig {
                    points: args.points,
                    dims,
                    step,
                    iterations: args.iterations,
                    restarts: args.restarts,
                    seed: args.seed,
                    ..StargateConfig::default()
                };
                let scores = train_stargate(&config, operator)?;
                print_row(dims, walk, operator, &scores);
                report.push(serde_json::json!({
                    "dims": dims, "step": step, "operator": operator, "scores": scores
                }));
            }
        }
    }
    println!("errors are shares of the ring's radius; the target is a worst error ≤ 5 %");
    if let Some(out) = &args.out {
        write_json(out, "stargate.json", &serde_json::Value::Array(report))?;
    }
    Ok(())
}

fn print_row(dims: usize, walk: &str, operator: Operator, s: &StargateScores) {
    let name = match operator {
        Operator::FilmRotation => "FiLMR",
        Operator::Matrix => "square matrix",
    };
    let angle = s
        .angle_degrees
        .map_or("—".to_string(), |a| format!("{a:.1}°"));
    println!(
        "{dims:>5}  {walk:<17} {name:<14} {:>11.2}% {:>10.2}% {:>12.2}% {angle:>9} {:>12.2}%",
        100.0 * s.worst_error,
        100.0 * s.mean_error,
        100.0 * s.radius_spread,
        100.0 * s.decoding_error
    );
}
