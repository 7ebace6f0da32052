//! `timbrespace eval`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use timbrespace_engine::axes::{AxisBasis, DescriptorMap, LatentAxes};
use timbrespace_engine::descriptors::Descriptor;
use timbrespace_engine::model::file::{POINTS_LABELS, POINTS_MU};
use timbrespace_engine::model::ModelFile;
use timbrespace_models::dataset::Dataset;
use timbrespace_models::evaluate::evaluate;
use timbrespace_models::factorisation::BINS_PER_OCTAVE;
use timbrespace_models::plots::{descriptor_heat_map, latent_map, training_curves};
use timbrespace_models::projection::Projection;
use timbrespace_models::symbol_eval::evaluate_symbols;
use timbrespace_models::timbre_ratings::TimbreRatings;
use timbrespace_models::transposition::{transposition_score, TRANSPOSED_SOUNDS};

use super::data_args::options_of_model;
use super::report::{
    print_comparison, print_import, print_report, print_symbol_report, print_transposition,
};

/// Options of `eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The model file.
    pub model: PathBuf,
    /// The folder it was trained on (the same test files are held out).
    pub data: PathBuf,
    /// Folder for `report.json` and the PNG plots.
    #[arg(long, short, default_value = "eval")]
    pub out: PathBuf,
    /// Label CSV (default: DATA/labels.csv when present).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Another model of the same data (e.g. trained without perceptual regularisation) to
    /// score on the same test files and print beside this one.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Folder of timbre ratings (default: the built-in copy).
    #[arg(long)]
    pub timbre_ratings: Option<PathBuf>,
}

/// Evaluate, print, and write the report and plots.
pub fn run(args: &EvalArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let options = options_of_model(&model, &args.data, args.labels.clone())?;
    let dataset = Dataset::import(&args.data, &options)?;
    print_import(&dataset);
    let training = &model.manifest.training;
    let split = dataset.split(training.test_fraction, training.seed)?;
    let ratings = TimbreRatings::load_or_embedded(args.timbre_ratings.as_deref())?;
    let report = evaluate(&model, &dataset, &split, &ratings, training.seed)?;
    print_report(&report);
    let baseline = match &args.baseline {
        Some(path) => {
            let base = ModelFile::load(path)?;
            let same_signal = base.manifest.signal == model.manifest.signal
                && base.manifest.scaling == model.manifest.scaling;
            if !same_signal {
                bail!(
                    "{} was trained on other STFT settings or scaling than {}; they cannot be compared on the same frames",
                    path.display(),
                    args.model.display()
                );
            }
            let scores = evaluate(&base, &dataset, &split, &ratings, training.seed)?;
            println!("\nthis model beside the baseline {}:", path.display());
            print_comparison("this model", &report, "baseline", &scores);
            Some(scores)
        }
        None => None,
    };
    let symbols = evaluate_symbols(&model, &dataset, &split, training.seed)?;
    if let Some(symbols) = &symbols {
        print_symbol_report(symbols);
    }
    let transposition = transposition_score(&model, &dataset, &split, TRANSPOSED_SOUNDS)?;
    if let Some(score) = &transposition {
        print_transposition(score);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let json = args.out.join("report.json");
    let both = serde_json::json!({ "reconstruction": report, "symbols": symbols, "transposition": transposition, "baseline": baseline });
    std::fs::write(&json, serde_json::to_string_pretty(&both)?)
        .with_context(|| format!("cannot write {}", json.display()))?;
    training_curves(&args.out.join("curves.png"), &training.history)?;
    let written = draw_latent_maps(&model, &args.out)?;
    draw_pitch_moves(&report.pitch_moves, &args.out)?;
    draw_descriptor_maps(&model, &args.out)?;
    println!(
        "wrote {}, curves.png, pitch_moves.png, {} latent maps and {} descriptor maps to {}",
        json.display(),
        written,
        Descriptor::ALL.len(),
        args.out.display()
    );
    Ok(())
}

/// `pitch_moves.png`: the latent moves of transposed test frames on their first two principal
/// axes, coloured by the transposition in semitones (one line through the origin, ordered by
/// shift, when pitch is a direction).
fn draw_pitch_moves(moves: &[(f64, f64, i32)], out: &Path) -> Result<()> {
    let mut shifts: Vec<i32> = moves.iter().map(|m| m.2).collect();
    shifts.sort_unstable();
    shifts.dedup();
    let names: Vec<String> = shifts
        .iter()
        .map(|&bins| format!("{:+.1} st", f64::from(bins) * 12.0 / BINS_PER_OCTAVE as f64))
        .collect();
    let points: Vec<(f64, f64)> = moves.iter().map(|m| (m.0, m.1)).collect();
    let classes: Vec<Option<usize>> = moves
        .iter()
        .map(|m| shifts.binary_search(&m.2).ok())
        .collect();
    latent_map(
        &out.join("pitch_moves.png"),
        "latent moves of transposed test frames (PCA of the moves)",
        &points,
        &classes,
        &names,
    )?;
    Ok(())
}

/// Points per side of the descriptor maps.
const DESCRIPTOR_MAP_SIZE: usize = 64;

/// `descriptor_<name>.png`: each descriptor over PCA axes 1–2: the maps stored in the model,
/// else decoded over ±3 σ (raw axes for a model without PCA).
fn draw_descriptor_maps(model: &ModelFile, out: &Path) -> Result<()> {
    let (basis, map) = match DescriptorMap::stored(model)? {
        Some(stored) => stored,
        None => {
            let axes = LatentAxes::new(model, AxisBasis::Pca)
                .or_else(|_| LatentAxes::new(model, AxisBasis::Raw))?;
            let map = DescriptorMap::new(model, &axes, DESCRIPTOR_MAP_SIZE, 3.0)?;
            (axes.basis(), map)
        }
    };
    for descriptor in Descriptor::ALL {
        descriptor_heat_map(
            &out.join(format!("descriptor_{}.png", descriptor.name())),
            &format!("{} over {} axes 1–2", descriptor.name(), basis.name()),
            map.size,
            map.span,
            &map.values(descriptor),
        )?;
    }
    Ok(())
}

/// One latent map per label kind (or one uncoloured map without labels).
fn draw_latent_maps(model: &ModelFile, out: &Path) -> Result<usize> {
    let latent = model.manifest.architecture.latent;
    let mu = &model.tensor(POINTS_MU)?.data;
    let labels = &model.tensor(POINTS_LABELS)?.data;
    let pca = Projection::from_model(model, "pca")?;
    let points: Vec<(f64, f64)> = mu
        .chunks_exact(latent)
        .map(|z| {
            let s = pca.project(z);
            (s[0], s[1])
        })
        .collect();
    let kinds = model.manifest.labels.len();
    if kinds == 0 {
        latent_map(
            &out.join("latent.png"),
            "Latent map",
            &points,
            &vec![None; points.len()],
            &[],
        )?;
        return Ok(1);
    }
    for (k, set) in model.manifest.labels.iter().enumerate() {
        let classes: Vec<Option<usize>> = labels
            .chunks_exact(kinds)
            .map(|row| (row[k] >= 0.0).then_some(row[k] as usize))
            .collect();
        latent_map(
            &out.join(format!("latent_{}.png", set.name)),
            &format!("Latent map by {}", set.name),
            &points,
            &classes,
            &set.classes,
        )?;
    }
    Ok(kinds)
}
