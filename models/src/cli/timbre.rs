//! `timbrespace timbre`: where sounds of unseen instruments fall in a model's timbre space.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use timbrespace_engine::model::ModelFile;
use timbrespace_models::dataset::Dataset;
use timbrespace_models::export::encode_means;
use timbrespace_models::labels::INSTRUMENT;
use timbrespace_models::timbre_inference::{Placement, TimbreSpace};
use timbrespace_models::timbre_ratings::TimbreRatings;
use timbrespace_models::vae::Vae;

use super::data_args::options_of_model;
use super::report::print_import;

/// Options of `timbre`.
#[derive(Args, Debug)]
pub struct TimbreArgs {
    /// A model trained with instrument labels.
    pub model: PathBuf,
    /// Folder of sounds; files in a sub-folder are placed together under its name.
    pub sounds: PathBuf,
    /// How many of the nearest known instruments to print.
    #[arg(long, default_value_t = 3)]
    pub nearest: usize,
    /// One line per file instead of per sub-folder.
    #[arg(long)]
    pub files: bool,
    /// Folder of timbre ratings (default: the built-in copy).
    #[arg(long)]
    pub timbre_ratings: Option<PathBuf>,
}

/// Place each sound (or sub-folder of sounds) and print its neighbours.
pub fn run(args: &TimbreArgs) -> Result<()> {
    let model = ModelFile::load(&args.model)?;
    let ratings = TimbreRatings::load_or_embedded(args.timbre_ratings.as_deref())?;
    let space = TimbreSpace::from_model(&model, &ratings)?;
    let dataset = Dataset::import(&args.sounds, &options_of_model(&model, &args.sounds, None)?)?;
    print_import(&dataset);
    let vae = Vae::from_tensors(&model.manifest.architecture, &model.tensors)?;
    println!(
        "known instruments: {}",
        space
            .known()
            .iter()
            .map(|k| k.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(a) = space.agreement() {
        println!(
            "its training centroids follow the human ratings of {} instruments with Spearman {:.3}, Pearson {:.3}",
            a.instruments, a.spearman, a.pearson
        );
    }
    let groups = groups(&dataset, args.files);
    if groups.is_empty() {
        bail!("no frames to place in {}", args.sounds.display());
    }
    for (name, frames) in groups {
        let placement = space.place(&encode_means(&vae, &dataset, &frames)?);
        print_placement(&name, frames.len(), &placement, args.nearest, &ratings);
    }
    Ok(())
}

/// Frames to place together, named: per instrument folder, else per file.
fn groups(dataset: &Dataset, per_file: bool) -> Vec<(String, Vec<usize>)> {
    let column = dataset.label_sets.iter().position(|l| l.name == INSTRUMENT);
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for file in dataset.files.iter().filter(|f| !f.frames.is_empty()) {
        let name = match column.and_then(|c| file.labels[c].map(|l| (c, l))) {
            Some((c, l)) if !per_file => dataset.label_sets[c].classes[l].clone(),
            _ => file
                .path
                .strip_prefix(&dataset.source)
                .unwrap_or(&file.path)
                .display()
                .to_string(),
        };
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, frames)) => frames.extend(file.frames.clone()),
            None => out.push((name, file.frames.clone().collect())),
        }
    }
    out
}

/// One placement: PCA coordinates and the nearest known instruments, with the listeners'
/// rating beside the prediction when both instruments are rated.
fn print_placement(
    name: &str,
    frames: usize,
    placement: &Placement,
    nearest: usize,
    ratings: &TimbreRatings,
) {
    let pca: Vec<String> = placement.pca.iter().map(|v| format!("{v:+.2}")).collect();
    println!(
        "{name} ({frames} frames): PCA axes 1–3 at ({}) σ",
        pca.join(", ")
    );
    for n in placement.neighbours.iter().take(nearest.max(1)) {
        let predicted = n
            .predicted_dissimilarity
            .map_or(String::new(), |d| format!(", listeners ≈ {d:.2}"));
        let rated = match (ratings.index_of(name), ratings.index_of(&n.name)) {
            (Some(i), Some(j)) => format!(" (rated {:.2})", ratings.dissimilarity(i, j)),
            _ => String::new(),
        };
        println!(
            "    near {:<12} latent distance {:.2}{predicted}{rated}",
            n.name, n.distance
        );
    }
}
