//! `timbrespace patches`: the multi-frame patch model with and without the soft pitch/time
//! factorisation, scored with the notebook's metrics on held-out notes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use timbrespace_models::dataset::Dataset;
use timbrespace_models::factorisation::log_frequency::LOWEST_FREQUENCY;
use timbrespace_models::factorisation::patches::{
    patch_grid, score_patches, train_patches, PatchConfig, PatchScores, PatchSet,
};
use timbrespace_models::factorisation::{GridGeometry, Shift, ShiftKind, BINS_PER_OCTAVE};
use timbrespace_models::plots::latent_map;

use super::data_args::DataArgs;
use super::report::print_import;

/// Options of `patches`.
#[derive(Args, Debug)]
pub struct PatchArgs {
    /// Folder of notes (the soundfont notes, or any folder of sounds with one note each).
    pub data: PathBuf,
    /// Weight of the soft factorisation term (the model without it is trained beside).
    #[arg(long, default_value_t = PatchConfig::default().weight)]
    pub weight: f64,
    /// Gaussian blur along log-frequency, in bins, of the encoder's view of each patch (0 =
    /// none).
    #[arg(long, default_value_t = PatchConfig::default().blur)]
    pub blur: f64,
    /// Weight of the SIGReg term on the codes (0 = off).
    #[arg(long, default_value_t = 0.0)]
    pub sigreg: f64,
    /// Frames per patch.
    #[arg(long, default_value_t = PatchConfig::default().frames)]
    pub patch_frames: usize,
    /// Latent size.
    #[arg(long, default_value_t = PatchConfig::default().latent)]
    pub latent: usize,
    /// Largest transposition, in quarter-tone bins.
    #[arg(long, default_value_t = PatchConfig::default().max_pitch)]
    pub max_pitch: usize,
    /// Largest time shift, in frames.
    #[arg(long, default_value_t = PatchConfig::default().max_time)]
    pub max_time: usize,
    /// Passes over the notes.
    #[arg(long, default_value_t = PatchConfig::default().epochs)]
    pub epochs: usize,
    /// Seed of the split, weights, batches and shifts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for `patches.json` and `patch_moves.png`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub data_args: DataArgs,
}

/// Train without and with the factorisation, print and write the scores.
pub fn run(args: &PatchArgs) -> Result<()> {
    if !(2..=64).contains(&args.latent) || args.epochs == 0 || args.weight < 0.0 {
        anyhow::bail!("--latent must be 2–64, --epochs at least 1 and --weight not negative");
    }
    if !(2..=256).contains(&args.patch_frames) {
        anyhow::bail!("--patch-frames must be 2–256, not {}", args.patch_frames);
    }
    if !(0.0..=48.0).contains(&args.blur) {
        anyhow::bail!("--blur must be 0–48 log-frequency bins, not {}", args.blur);
    }
    if !(0.0..=1e6).contains(&args.sigreg) {
        anyhow::bail!("--sigreg must be between 0 and 10⁶, not {}", args.sigreg);
    }
    let mut options = args.data_args.options(&args.data)?;
    // A patch needs every frame of a note from its start.
    options.max_frames_per_file = 0;
    let dataset = Dataset::import(&args.data, &options)?;
    print_import(&dataset);
    let grid = patch_grid(&dataset)?;
    let split = dataset.split(0.1, args.seed)?;
    let train = PatchSet::new(&dataset, &split.train_files, &grid, args.patch_frames);
    let test = PatchSet::new(&dataset, &split.test_files, &grid, args.patch_frames);
    println!(
        "{} training and {} test notes; patches of {} frames × {} log-frequency bins ({BINS_PER_OCTAVE} per octave from {LOWEST_FREQUENCY} Hz)",
        train.len(),
        test.len(),
        args.patch_frames,
        grid.bins()
    );
    let mut results = Vec::new();
    let mut factorised_codes = None;
    for weight in [0.0, args.weight] {
        let config = PatchConfig {
            frames: args.patch_frames,
            latent: args.latent,
            weight,
            max_pitch: args.max_pitch,
            max_time: args.max_time,
            sigreg: args.sigreg,
            blur: args.blur,
            epochs: args.epochs,
            seed: args.seed,
            ..PatchConfig::default()
        };
        let start = Instant::now();
        let (model, history) = train_patches(&train, &config)?;
        let (scores, codes) = score_patches(&model, &test, &dataset, &grid, &config, args.seed)?;
        print_scores(weight, &scores, start.elapsed().as_secs_f64());
        if let Some(last) = history.last() {
            println!(
                "  last epoch: −ELBO {:.1}, factorisation {:.3}, SIGReg {:.4}",
                last.elbo, last.factorise, last.sigreg
            );
        }
        results.push(serde_json::json!({ "weight": weight, "scores": scores }));
        factorised_codes = Some(codes);
    }
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let path = out.join("patches.json");
        std::fs::write(&path, serde_json::to_string_pretty(&results)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        if let Some(codes) = &factorised_codes {
            draw_moves(&codes.principal_plane(), out)?;
        }
        println!(
            "wrote patches.json and patch_moves.png to {}",
            out.display()
        );
    }
    Ok(())
}

/// One model's line of scores.
fn print_scores(weight: f64, s: &PatchScores, seconds: f64) {
    let g = &s.geometry;
    println!(
        "factorisation weight {weight}: SC {:.2} dB on the log-frequency grid, {:.2} dB on the STFT (the grid alone: {:.2} dB); {:.0} s",
        s.spectral_convergence_db, s.stft_spectral_convergence_db, s.grid_floor_db, seconds
    );
    print_geometry(g, &format!("{} test notes", s.notes));
}

/// The notebook's metrics of a pitch/time grid, three lines; `measured_on` says on what.
pub fn print_geometry(g: &GridGeometry, measured_on: &str) {
    println!(
        "  pitch: same-sign cos {:.3}, opposite-sign {:.3}, up/down angle {:.0}°, across sounds {:.3}",
        g.pitch.same_sign, g.pitch.opposite_sign, g.pitch.up_down_angle, g.pitch.across_sounds
    );
    println!(
        "  time:  same-sign cos {:.3}, opposite-sign {:.3}, up/down angle {:.0}°, across sounds {:.3}",
        g.time.same_sign, g.time.opposite_sign, g.time.up_down_angle, g.time.across_sounds
    );
    println!(
        "  mean |cos| pitch vs time {:.3}; grid first singular value {:.1} % of the energy ({measured_on})",
        g.pitch_vs_time,
        100.0 * g.grid_first_singular_share,
    );
}

/// `patch_moves.png`: the pitch and time moves of the test patches on their first two
/// principal axes, coloured by shift (two lines through the origin when factored).
fn draw_moves(moves: &[(f64, f64, Shift)], out: &Path) -> Result<()> {
    let mut shifts: Vec<(bool, i32)> = moves
        .iter()
        .map(|m| (m.2.kind == ShiftKind::Time, m.2.amount))
        .collect();
    shifts.sort_unstable();
    shifts.dedup();
    let names: Vec<String> = shifts
        .iter()
        .map(|&(time, amount)| {
            if time {
                format!("time {amount:+} frames")
            } else {
                format!(
                    "pitch {:+.1} st",
                    f64::from(amount) * 12.0 / BINS_PER_OCTAVE as f64
                )
            }
        })
        .collect();
    let points: Vec<(f64, f64)> = moves.iter().map(|m| (m.0, m.1)).collect();
    let classes: Vec<Option<usize>> = moves
        .iter()
        .map(|m| {
            shifts
                .binary_search(&(m.2.kind == ShiftKind::Time, m.2.amount))
                .ok()
        })
        .collect();
    latent_map(
        &out.join("patch_moves.png"),
        "latent moves of shifted test patches (PCA of the moves)",
        &points,
        &classes,
        &names,
    )?;
    Ok(())
}
