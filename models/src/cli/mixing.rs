//! `timbrespace mixing`: the operational-latent-space mixing test — a projector after a model's
//! audio encoder in whose space the mix of two notes is the sum of the notes — trained on mixes
//! of one set of sounds and scored on mixes of the others, with the sums decoded back to audio.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use timbrespace_engine::model::ModelFile;
use timbrespace_engine::phase::refined::RefineSettings;
use timbrespace_engine::stft::magnitude_stft;
use timbrespace_engine::voice::PhaseMode;
use timbrespace_models::audio_file::{write_wav, MonoAudio};
use timbrespace_models::audio_import::{is_audio_file, load_audio};
use timbrespace_models::demo::default_model;
use timbrespace_models::file_walk::files_under;
use timbrespace_models::operations::mixing::{
    add, mix_frames, row_sums, DecodedMixes, MixingConfig, MixingProjector, MixingScores,
};
use timbrespace_models::synth::{encode_grid, render_latents};

/// Options of `mixing`.
#[derive(Args, Debug)]
pub struct MixingArgs {
    /// Folder of sounds to mix (e.g. data/notes-22k), read at the model's rate.
    pub data: PathBuf,
    /// The model whose encoder is used (default: the embedded default model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Training pairs (mixes of two different sounds).
    #[arg(long, default_value_t = 5000)]
    pub pairs: usize,
    /// Held-out pairs, from sounds no training pair uses.
    #[arg(long, default_value_t = 300)]
    pub test_pairs: usize,
    /// Frames taken from each mix where both sounds are audible.
    #[arg(long, default_value_t = 4)]
    pub frames_per_pair: usize,
    /// Dimensions of the projector's space.
    #[arg(long, default_value_t = MixingConfig::default().dims)]
    pub dims: usize,
    /// Adam steps.
    #[arg(long, default_value_t = MixingConfig::default().iterations)]
    pub iterations: usize,
    /// Weight of the inverse's terms against the mixing term.
    #[arg(long, default_value_t = MixingConfig::default().inverse_weight)]
    pub inverse_weight: f64,
    /// Seed of the split, pairs and training.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for mixing.json and a held-out mix as audio: the real mix, its sounds' sum
    /// decoded from h-space and from the latents, and the mix through the model.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Train, score and (with `--out`) render.
pub fn run(args: &MixingArgs) -> Result<()> {
    if args.pairs == 0 || args.test_pairs == 0 || args.frames_per_pair == 0 {
        bail!("--pairs, --test-pairs and --frames-per-pair must be at least 1");
    }
    if !(1..=512).contains(&args.dims) || args.iterations == 0 {
        bail!("--dims must be 1–512 and --iterations at least 1");
    }
    if !(args.inverse_weight.is_finite() && args.inverse_weight > 0.0) {
        bail!("--inverse-weight must be a positive number");
    }
    let model = match &args.model {
        Some(path) => {
            ModelFile::load(path).with_context(|| format!("cannot load {}", path.display()))?
        }
        None => default_model()?,
    };
    let mut files = files_under(&args.data, &is_audio_file)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {}", e.folder.display(), e.source))?;
    if files.len() < 4 {
        bail!(
            "{} holds {} sounds; mixing needs at least 4 (two to train, two to test); e.g. cargo xtask dataset notes --rate 22050 --out data/notes-22k",
            args.data.display(),
            files.len()
        );
    }
    fastrand::Rng::with_seed(args.seed).shuffle(&mut files);
    let test_files = files.split_off(files.len() * 4 / 5);
    let start = Instant::now();
    let train = mix_frames(&model, &files, args.pairs, args.frames_per_pair, args.seed)?;
    let test = mix_frames(
        &model,
        &test_files,
        args.test_pairs,
        args.frames_per_pair,
        args.seed + 1,
    )?;
    println!(
        "{} training frames from {} sounds, {} held-out frames from {} other sounds ({:.0} s)",
        train.len(),
        files.len(),
        test.len(),
        test_files.len(),
        start.elapsed().as_secs_f64()
    );
    let config = MixingConfig {
        dims: args.dims,
        iterations: args.iterations,
        inverse_weight: args.inverse_weight,
        seed: args.seed,
        ..MixingConfig::default()
    };
    let start = Instant::now();
    let (projector, history) = MixingProjector::train(&train, &config)?;
    println!(
        "trained in {:.0} s; loss {:.4} → {:.4}",
        start.elapsed().as_secs_f64(),
        history.first().copied().unwrap_or(f64::NAN),
        history.last().copied().unwrap_or(f64::NAN)
    );
    let scores = projector.score(&test)?;
    let decoded = projector.decode_scores(&model, &test)?;
    print_scores(&scores, &decoded);
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let report = serde_json::json!({ "config": config, "scores": scores, "decoded": decoded, "history": history });
        std::fs::write(
            out.join("mixing.json"),
            serde_json::to_string_pretty(&report)?,
        )
        .with_context(|| format!("cannot write into {}", out.display()))?;
        render_example(&model, &projector, &test_files[0], &test_files[1], out)?;
    }
    Ok(())
}

/// The held-out table.
fn print_scores(s: &MixingScores, d: &DecodedMixes) {
    println!("held-out mixes, {} frames:", s.frames);
    println!(
        "  relative error of mix vs sum: latents {:.3}, h-space {:.3} ({:.1}× lower)",
        s.latent_error,
        s.projected_error,
        s.improvement()
    );
    println!("  g∘h loses {:.1} % of a code", 100.0 * s.inverse_error);
    println!(
        "  the mix's spectrum decoded from: g(h(a) + h(b)) {:.1} dB, enc(a) + enc(b) {:.1} dB, enc(mix) {:.1} dB (spectral convergence)",
        d.sum_in_h_db, d.sum_in_latent_db, d.mix_itself_db
    );
}

/// The mix of `a` and `b`, and as decoded from h-space sums, from latent sums and from its own
/// codes (the model's best), as WAV.
fn render_example(
    model: &ModelFile,
    projector: &MixingProjector,
    a: &Path,
    b: &Path,
    out: &Path,
) -> Result<()> {
    let rate = model.manifest.signal.sample_rate;
    let stft = model.manifest.signal.stft()?;
    let (x, y) = (load_audio(a, rate)?.samples, load_audio(b, rate)?.samples);
    let n = x.len().min(y.len());
    let mix = add(&x, &y);
    let codes = |s: &[f32]| -> Result<Vec<f32>> {
        Ok(encode_grid(model, &magnitude_stft(&stft, s))?
            .into_iter()
            .flatten()
            .collect())
    };
    let (za, zb, zm) = (codes(&x[..n])?, codes(&y[..n])?, codes(&mix)?);
    let latent = model.manifest.architecture.latent;
    let in_h = projector.mixed_codes(&za, &zb)?;
    let in_latent = row_sums(&za, &zb, latent);
    write_wav(&out.join("mix.wav"), &MonoAudio { samples: mix, rate })?;
    let own: Vec<Vec<f32>> = zm.chunks(latent).map(<[f32]>::to_vec).collect();
    for (name, points) in [
        ("sum-in-h.wav", &in_h),
        ("sum-in-latents.wav", &in_latent),
        ("mix-through-model.wav", &own),
    ] {
        let rendering =
            render_latents(model, points, PhaseMode::Refined(RefineSettings::default()))?;
        write_wav(&out.join(name), &rendering.audio)?;
    }
    println!(
        "wrote mixing.json, mix.wav ({} + {}), sum-in-h.wav, sum-in-latents.wav and mix-through-model.wav to {}",
        a.file_stem().unwrap_or_default().to_string_lossy(),
        b.file_stem().unwrap_or_default().to_string_lossy(),
        out.display()
    );
    Ok(())
}
