//! `timbrespace inspect`, `encode` and `decode`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use timbrespace_engine::model::ModelFile;
use timbrespace_models::audio_file::write_wav;
use timbrespace_models::synth::{encode_sound, render_latents};

use super::render::PhaseArg;

/// Options of `inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The model file.
    pub model: PathBuf,
    /// Print the whole manifest as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Print a model's manifest and sizes.
pub fn inspect(args: &InspectArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let model = ModelFile::load(&args.model)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&model.manifest)?);
        return Ok(());
    }
    let m = &model.manifest;
    let a = &m.architecture;
    println!(
        "{} (format {} v{}, loaded and validated in {load_ms:.1} ms)",
        args.model.display(),
        m.format,
        m.version
    );
    println!(
        "signal      {} Hz, n_fft {}, hop {}, {} window, {} bins",
        m.signal.sample_rate, m.signal.n_fft, m.signal.hop, m.signal.window, a.bins
    );
    println!("scaling     ln(1 + {:.4}·|X|)", m.scaling.gain);
    println!(
        "network     {:?}, latent {}, hidden {:?}{}, decoder σ {}",
        a.kind,
        a.latent,
        a.hidden,
        a.conv.map_or(String::new(), |c| format!(", conv {c:?}")),
        a.sigma
    );
    let mut groups: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (name, t) in &model.tensors {
        let group = name.split('.').next().unwrap_or(name);
        let entry = groups.entry(group).or_default();
        entry.0 += 1;
        entry.1 += t.data.len();
    }
    for (group, (count, values)) in groups {
        println!(
            "tensors     {group:<11} {count:>3} tensors {values:>10} values ({:.2} MB)",
            values as f64 * 4.0 / 1e6
        );
    }
    for set in &m.labels {
        println!("label       {:<11} {}", set.name, set.classes.join(" "));
    }
    for p in &m.projections {
        println!("projection  {:<11} {} axes", p.name, p.dims);
    }
    let t = &m.training;
    println!(
        "training    {} ({} files, {} train / {} test frames), {}, seed {}, {} epochs in {:.1} s",
        t.dataset, t.files, t.train_frames, t.test_frames, t.objective, t.seed, t.epochs, t.seconds
    );
    for (name, value) in &m.scores {
        println!("score       {name:<16} {value:.4}");
    }
    Ok(())
}

/// Options of `encode`.
#[derive(Args, Debug)]
pub struct EncodeArgs {
    /// The model file.
    pub model: PathBuf,
    /// A sound file (any supported format and rate).
    pub audio: PathBuf,
    /// CSV of latent means, one row per frame.
    #[arg(long, short, default_value = "latents.csv")]
    pub out: PathBuf,
}

/// Encode a sound frame by frame into a CSV of latent means.
pub fn encode(args: &EncodeArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let latents = encode_sound(&model, &args.audio)?;
    let latent = model.manifest.architecture.latent;
    let mut csv = (0..latent)
        .map(|j| format!("z{j}"))
        .collect::<Vec<_>>()
        .join(",");
    csv.push('\n');
    for z in &latents {
        let _ = writeln!(
            csv,
            "{}",
            z.iter()
                .map(|v| format!("{v:.6}"))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    std::fs::write(&args.out, csv)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote {} frames × {latent} dimensions to {}",
        latents.len(),
        args.out.display()
    );
    Ok(())
}

/// Options of `decode`.
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// The model file.
    pub model: PathBuf,
    /// CSV of latent vectors, one row per frame (as `encode` writes; a header row is optional).
    pub latents: PathBuf,
    /// The WAV to write.
    #[arg(long, short, default_value = "decoded.wav")]
    pub out: PathBuf,
    #[command(flatten)]
    pub phase: PhaseArg,
}

/// Decode a CSV of latent vectors to audio.
pub fn decode(args: &DecodeArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let latents = read_latent_csv(&args.latents)?;
    let rendering = render_latents(&model, &latents, args.phase.mode()?)?;
    write_wav(&args.out, &rendering.audio)?;
    println!(
        "decoded {} frames to {} ({:.2} s at {} Hz)",
        latents.len(),
        args.out.display(),
        rendering.audio.samples.len() as f64 / f64::from(rendering.audio.rate),
        rendering.audio.rate
    );
    Ok(())
}

/// Rows of numbers; a first row that does not parse is taken as a header.
fn read_latent_csv(path: &Path) -> Result<Vec<Vec<f32>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match line
            .split(',')
            .map(|c| c.trim().parse::<f32>())
            .collect::<Result<Vec<f32>, _>>()
        {
            Ok(row) => rows.push(row),
            Err(_) if i == 0 => {}
            Err(e) => bail!("{}, line {}: {e}", path.display(), i + 1),
        }
    }
    Ok(rows)
}
