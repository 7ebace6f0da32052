//! `timbrespace render`, `cross` and `demo`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::audio_file::write_wav;
use timbrespace_models::audio_file::MonoAudio;
use timbrespace_models::audio_import::resample;
use timbrespace_models::demo::{default_model, morph_ends, DEMO_INSTRUMENT, DEMO_PHRASE};
use timbrespace_models::midi::{parse_midi, read_midi, Score};
use timbrespace_models::midi_render::render_score;
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
    /// Play a standard MIDI file instead (all tracks and channels; needs a model trained
    /// with symbols).
    #[arg(long, conflicts_with_all = ["morph", "from", "to"])]
    pub midi: Option<PathBuf>,
    /// With --midi: the model's instrument to play (default: its first).
    #[arg(long, requires = "midi")]
    pub instrument: Option<String>,
    /// With --midi: play only the part on this MIDI channel (1–16).
    #[arg(long, requires = "midi", value_parser = clap::value_parser!(u8).range(1..=16))]
    pub channel: Option<u8>,
    /// Transpose the trajectory by this many semitones along the model's learned pitch
    /// direction (models trained with --factorise).
    #[arg(
        long,
        default_value_t = 0.0,
        allow_hyphen_values = true,
        conflicts_with = "midi"
    )]
    pub transpose: f32,
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
    if let Some(midi) = &args.midi {
        let mut score = read_midi(midi)?;
        if let Some(channel) = args.channel {
            score = score.channel(channel - 1);
            if score.notes.is_empty() {
                bail!("{} has no notes on channel {channel}", midi.display());
            }
        }
        return render_midi(
            &model,
            &score,
            args.instrument.as_deref(),
            &args.output,
            None,
            &args.out,
            &midi.display().to_string(),
        );
    }
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
    let (mut a, mut b) = (a, b);
    if args.transpose != 0.0 {
        if !args.transpose.is_finite() || args.transpose.abs() > 48.0 {
            bail!(
                "--transpose takes a number of semitones within ±48, not {}",
                args.transpose
            );
        }
        let Some(direction) = &model.manifest.pitch_direction else {
            bail!(
                "{} has no learned pitch direction to transpose along; train it with --factorise",
                args.model.display()
            );
        };
        direction.transpose(&mut a, args.transpose);
        direction.transpose(&mut b, args.transpose);
    }
    let rendering = render_morph(&model, &a, &b, args.seconds, args.output.phase.mode()?)?;
    write_rendering(rendering, args.output.rate, &args.out, &what)
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

/// Play `score` with `model` and write it, printing what the musician should know.
fn render_midi(
    model: &ModelFile,
    score: &Score,
    instrument: Option<&str>,
    output: &OutputArgs,
    peak_dbfs: Option<f32>,
    out: &std::path::Path,
    what: &str,
) -> Result<()> {
    let rendering = render_score(model, score, output.phase.mode()?, instrument)?;
    for warning in &rendering.warnings {
        println!("warning: {warning}");
    }
    let audio = MonoAudio {
        samples: rendering.audio,
        rate: rendering.rate,
    };
    let written = write_audio(audio, output.rate, peak_dbfs, out)?;
    println!(
        "rendered {what} (type-{} MIDI, {} tracks, {} notes) on {}: {:.2} s at {} Hz → {}",
        score.format,
        score.tracks,
        score.notes.len(),
        instrument.unwrap_or("the first instrument"),
        written.samples.len() as f64 / f64::from(written.rate),
        written.rate,
        out.display()
    );
    Ok(())
}

/// Resample if asked, scale to `peak_dbfs` if given (or only down to 0 dBFS, so nothing
/// clips) and write the WAV; returns what was written.
fn write_audio(
    audio: MonoAudio,
    rate: Option<u32>,
    peak_dbfs: Option<f32>,
    out: &std::path::Path,
) -> Result<MonoAudio> {
    let mut audio = match rate {
        Some(rate) if rate != audio.rate => resample(&audio, rate)?,
        _ => audio,
    };
    let peak = audio.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let target = peak_dbfs.map_or(1.0, |db| 10f32.powf(db / 20.0));
    if peak > 0.0 && (peak > 1.0 || peak_dbfs.is_some()) {
        let gain = target / peak;
        audio.samples.iter_mut().for_each(|s| *s *= gain);
    }
    write_wav(out, &audio)?;
    Ok(audio)
}

/// Write a latent rendering and say what it was.
fn write_rendering(
    rendering: Rendering,
    rate: Option<u32>,
    out: &std::path::Path,
    what: &str,
) -> Result<()> {
    let frames = rendering.magnitudes.frames();
    let audio = write_audio(rendering.audio, rate, None, out)?;
    println!(
        "rendered {what}: {frames} frames, {:.2} s at {} Hz, phase consistency {:.1} dB → {}",
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
    /// Output rate in Hz.
    #[arg(long, default_value_t = 44_100)]
    pub rate: u32,
    /// The default model's instrument to play the phrase on.
    #[arg(long, default_value = DEMO_INSTRUMENT)]
    pub instrument: String,
    #[command(flatten)]
    pub phase: PhaseArg,
}

/// The main job: the embedded MIDI phrase played by the embedded default model.
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
    let score = parse_midi(DEMO_PHRASE, "the demo phrase")?;
    let output = OutputArgs {
        rate: Some(args.rate),
        phase: args.phase.clone(),
    };
    render_midi(
        &model,
        &score,
        Some(&args.instrument),
        &output,
        Some(DEMO_PEAK_DBFS),
        &args.out,
        "the demo phrase",
    )
}
