//! `timbrespace render`, `cross` and `demo`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::audio_file::write_wav;
use timbrespace_models::audio_import::resample;
use timbrespace_models::demo::{default_model, morph_ends};
use timbrespace_models::resynthesis::{phase_mode, PHASE_MODES};
use timbrespace_models::synth::{encode_sound, morph, render_latents, sound_centroid, Rendering};

/// Peak level of the demo file: the default model's morph is normalised to it.
const DEMO_PEAK_DBFS: f32 = -3.0;

/// Phase reconstruction choice.
#[derive(Args, Debug, Clone)]
pub struct PhaseArg {
    /// Phase reconstruction: rtpghi-0, rtpghi-1 or refined.
    #[arg(long, default_value = "refined")]
    pub phase: String,
}

impl PhaseArg {
    /// The engine's mode.
    pub fn mode(&self) -> Result<PhaseMode> {
        phase_mode(&self.phase).ok_or_else(|| {
            let names: Vec<_> = PHASE_MODES.iter().map(|(n, _)| *n).collect();
            anyhow!(
                "unknown --phase {:?}; choose one of {}",
                self.phase,
                names.join(", ")
            )
        })
    }
}

/// Output rate and phase reconstruction of a render.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output rate in Hz (default: the model's rate).
    #[arg(long)]
    pub rate: Option<u32>,
    #[command(flatten)]
    pub phase: PhaseArg,
}

/// Options of `render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The model file.
    pub model: PathBuf,
    /// Start latent point, comma-separated (default: see --morph, else the ends of PCA axis 1).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub from: Vec<f32>,
    /// End latent point, comma-separated.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub to: Vec<f32>,
    /// Morph between the latent centroids of two sounds instead.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub morph: Vec<PathBuf>,
    /// Length in seconds.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// The WAV to write.
    #[arg(long, short, default_value = "render.wav")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Render a straight latent trajectory.
pub fn render(args: &RenderArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let (a, b, what) = if args.morph.len() == 2 {
        (
            sound_centroid(&model, &args.morph[0])?,
            sound_centroid(&model, &args.morph[1])?,
            format!("{} → {}", args.morph[0].display(), args.morph[1].display()),
        )
    } else if !args.from.is_empty() || !args.to.is_empty() {
        let latent = model.manifest.architecture.latent;
        if args.from.len() != latent || args.to.len() != latent {
            bail!("--from and --to need {latent} comma-separated values each (the model's latent size)");
        }
        (
            args.from.clone(),
            args.to.clone(),
            "the given points".to_string(),
        )
    } else {
        morph_ends(&model)?
    };
    let rendering = render_morph(&model, &a, &b, args.seconds, args.output.phase.mode()?)?;
    write_rendering(rendering, args.output.rate, None, &args.out, &what)
}

/// Decode a morph of `seconds` between two latent points.
fn render_morph(
    model: &ModelFile,
    a: &[f32],
    b: &[f32],
    seconds: f64,
    mode: PhaseMode,
) -> Result<Rendering> {
    if !(0.05..=600.0).contains(&seconds) {
        bail!("--seconds {seconds} is outside 0.05–600");
    }
    let signal = &model.manifest.signal;
    let frames = (seconds * f64::from(signal.sample_rate) / signal.hop as f64).ceil() as usize;
    Ok(render_latents(model, &morph(a, b, frames), mode)?)
}

/// Resample if asked, scale to `peak_dbfs` if given (or only down to 0 dBFS, so nothing
/// clips) and write the WAV.
fn write_rendering(
    rendering: Rendering,
    rate: Option<u32>,
    peak_dbfs: Option<f32>,
    out: &std::path::Path,
    what: &str,
) -> Result<()> {
    let mut audio = match rate {
        Some(rate) if rate != rendering.audio.rate => resample(&rendering.audio, rate)?,
        _ => rendering.audio,
    };
    let peak = audio.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let target = peak_dbfs.map_or(1.0, |db| 10f32.powf(db / 20.0));
    if peak > 0.0 && (peak > 1.0 || peak_dbfs.is_some()) {
        let gain = target / peak;
        audio.samples.iter_mut().for_each(|s| *s *= gain);
    }
    write_wav(out, &audio)?;
    println!(
        "rendered {what}: {} frames, {:.2} s at {} Hz, phase consistency {:.1} dB → {}",
        rendering.magnitudes.frames(),
        audio.samples.len() as f64 / f64::from(audio.rate),
        audio.rate,
        rendering.consistency_db,
        out.display()
    );
    Ok(())
}

/// Options of `cross`.
#[derive(Args, Debug)]
pub struct CrossArgs {
    /// The model file.
    pub model: PathBuf,
    /// Any sound (it need not resemble the training data).
    pub audio: PathBuf,
    /// The WAV to write.
    #[arg(long, short, default_value = "cross.wav")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Cross-synthesis: the sound's frames through the model's encoder and decoder.
pub fn cross(args: &CrossArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let latents = encode_sound(&model, &args.audio)?;
    let rendering = render_latents(&model, &latents, args.output.phase.mode()?)?;
    write_rendering(
        rendering,
        args.output.rate,
        None,
        &args.out,
        &format!("{} through the model", args.audio.display()),
    )
}

/// Options of `demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The WAV to write.
    #[arg(long, short, default_value = "demo.wav")]
    pub out: PathBuf,
    /// Length in seconds.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Output rate in Hz.
    #[arg(long, default_value_t = 44_100)]
    pub rate: u32,
    #[command(flatten)]
    pub phase: PhaseArg,
}

/// The main job: a morph with the embedded default model.
pub fn demo(args: &DemoArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let model = default_model()?;
    let m = &model.manifest;
    println!(
        "default model: {} Hz, n_fft {}, latent {}, trained on {} ({} files), loaded in {:.1} ms",
        m.signal.sample_rate,
        m.signal.n_fft,
        m.architecture.latent,
        m.training.dataset,
        m.training.files,
        started.elapsed().as_secs_f64() * 1e3
    );
    let (a, b, what) = morph_ends(&model)?;
    let rendering = render_morph(&model, &a, &b, args.seconds, args.phase.mode()?)?;
    write_rendering(
        rendering,
        Some(args.rate),
        Some(DEMO_PEAK_DBFS),
        &args.out,
        &format!("latent morph {what}"),
    )
}
