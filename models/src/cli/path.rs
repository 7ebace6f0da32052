//! `timbrespace path`: descriptor-based path synthesis (thesis Algorithm 1).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use timbrespace_engine::axes::{audible_centre, AxisBasis, LatentAxes};
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::model::ModelFile;
use timbrespace_models::audio_file::write_wav;
use timbrespace_models::path_synthesis::{follow, read_target_curve, PathSettings};
use timbrespace_models::synth::{render_latents, sound_centroid};

use super::render::PhaseArg;

/// Share of the target a hop may miss by and still count as on target in the report.
const TOLERANCE: f32 = 0.1;

/// Options of `path`.
#[derive(Args, Debug)]
pub struct PathArgs {
    /// The model file.
    pub model: PathBuf,
    /// Start from this sound's latent centroid (default: an audible point of the model).
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Start from these axis coordinates instead, in σ, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        conflicts_with = "from"
    )]
    pub start: Vec<f32>,
    /// Descriptor to follow: centroid, bandwidth, flatness, rolloff or loudness.
    #[arg(long, default_value = "centroid")]
    pub descriptor: String,
    /// Target curve CSV: one value per hop, or `seconds,value` rows (interpolated).
    #[arg(long)]
    pub target: PathBuf,
    /// Axes to move along: raw, pca or ica.
    #[arg(long, default_value = "pca")]
    pub axes: String,
    /// How many of those axes (the first ones).
    #[arg(long, default_value_t = 4)]
    pub dims: usize,
    /// Largest move per hop along an axis, in σ.
    #[arg(long, default_value_t = 0.25)]
    pub max_step: f32,
    /// The WAV to write.
    #[arg(long, short, default_value = "path.wav")]
    pub out: PathBuf,
    /// Where to write `seconds,target,achieved` per hop (default: OUT with extension .csv).
    #[arg(long)]
    pub curve_out: Option<PathBuf>,
    #[command(flatten)]
    pub phase: PhaseArg,
}

/// Follow the curve, render it and write the achieved curve.
pub fn run(args: &PathArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let descriptor = Descriptor::from_name(&args.descriptor).ok_or_else(|| {
        let names: Vec<_> = Descriptor::ALL.iter().map(|d| d.name()).collect();
        anyhow!(
            "unknown --descriptor {:?}; choose one of {}",
            args.descriptor,
            names.join(", ")
        )
    })?;
    let basis = AxisBasis::from_name(&args.axes)
        .ok_or_else(|| anyhow!("unknown --axes {:?}; choose raw, pca or ica", args.axes))?;
    if !(args.max_step > 0.0 && args.max_step <= 3.0) || args.dims == 0 {
        bail!("--max-step must be in (0, 3] σ and --dims at least 1");
    }
    let axes = LatentAxes::new(&model, basis)?;
    let signal = &model.manifest.signal;
    let hop_seconds = signal.hop as f64 / f64::from(signal.sample_rate);
    let targets = read_target_curve(&args.target, hop_seconds)?;
    let start = match (&args.from, args.start.is_empty()) {
        (Some(sound), _) => sound_centroid(&model, sound)?,
        (None, false) => {
            let mut z = audible_centre(&model)?;
            axes.displace(&args.start, &mut z);
            z
        }
        (None, true) => audible_centre(&model)?,
    };
    let settings = PathSettings {
        descriptor,
        dims: args.dims,
        max_step: args.max_step,
    };
    let path = follow(&model, &axes, &start, &targets, settings)?;
    let rendering = render_latents(&model, &path.latents, args.phase.mode()?)?;
    write_wav(&args.out, &rendering.audio)?;
    let curve_out = args
        .curve_out
        .clone()
        .unwrap_or_else(|| args.out.with_extension("csv"));
    let mut csv = String::from("seconds,target,achieved\n");
    for (h, (t, a)) in path.targets.iter().zip(&path.achieved).enumerate() {
        let _ = writeln!(csv, "{:.4},{t},{a}", h as f64 * hop_seconds);
    }
    std::fs::write(&curve_out, csv)
        .with_context(|| format!("cannot write {}", curve_out.display()))?;
    println!(
        "followed {} over {} hops ({:.2} s) on {} axes 1–{}: {:.1} % of hops within {:.0} % of the target",
        descriptor.name(),
        targets.len(),
        targets.len() as f64 * hop_seconds,
        basis.name(),
        args.dims.min(axes.dims()),
        100.0 * path.share_within(TOLERANCE),
        100.0 * TOLERANCE
    );
    println!("wrote {} and {}", args.out.display(), curve_out.display());
    Ok(())
}
