//! Printing what the commands found.

use timbrespace_models::dataset::Dataset;
use timbrespace_models::evaluate::{EvalReport, ReconScores};

/// What an import kept and skipped.
pub fn print_import(dataset: &Dataset) {
    println!(
        "imported {} files, {} frames of {} bins from {}",
        dataset.files.len(),
        dataset.frame_count(),
        dataset.bins,
        dataset.source.display()
    );
    for set in &dataset.label_sets {
        println!("  label {:<11} {} classes", set.name, set.classes.len());
    }
    if !dataset.skipped.is_empty() {
        println!("skipped {} files:", dataset.skipped.len());
        for (path, reason) in dataset.skipped.iter().take(20) {
            println!("  {}: {reason}", path.display());
        }
        if dataset.skipped.len() > 20 {
            println!("  … and {} more", dataset.skipped.len() - 20);
        }
    }
}

/// The evaluation table.
pub fn print_report(report: &EvalReport) {
    println!(
        "test split: {} frames, latent size {}",
        report.test_frames, report.latent
    );
    println!(
        "  {:<5} {:>10} {:>8} {:>9} {:>9} {:>9}",
        "", "-log p", "l2", "SC dB", "IS", "LSD-l1"
    );
    let row = |name: &str, s: &ReconScores| {
        println!(
            "  {name:<5} {:>10.1} {:>8.3} {:>9.2} {:>9.4} {:>9.4}",
            s.nll, s.l2, s.spectral_convergence_db, s.itakura_saito, s.log_spectral_l1
        );
    };
    row("VAE", &report.vae);
    row("PCA", &report.pca);
    println!(
        "  VAE is {:.2} dB better than PCA in spectral convergence",
        report.sc_gain_db()
    );
    println!(
        "  latent KL to prior {:.3}, MMD {:.4}",
        report.latent_kl, report.latent_mmd
    );
    for (name, probe) in &report.probes {
        println!(
            "  probe {name:<11} accuracy {:>5.1} % (chance {:>5.1} %, {} classes)",
            100.0 * probe.accuracy,
            100.0 * probe.chance,
            probe.classes
        );
    }
}
