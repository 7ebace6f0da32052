//! Printing what the commands found.

use std::path::Path;

use anyhow::Context;
use timbrespace_models::dataset::Dataset;
use timbrespace_models::evaluate::{EvalReport, ReconScores};
use timbrespace_models::symbol_eval::SymbolReport;
use timbrespace_models::transposition::{self, TranspositionScore};

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
    let g = &report.pitch_geometry;
    println!(
        "  pitch as a direction (transpositions of 1–12 quarter tones): same-way cos {:.3}, opposite-way cos {:.3}, up/down angle {:.0}°",
        g.same_sign, g.opposite_sign, g.up_down_angle
    );
    println!(
        "    across sounds cos {:.3}, first singular value {:.1} % of each sound's shift grid, one global direction explains {:.1} % of the moves",
        g.across_sounds,
        100.0 * g.first_singular_share,
        100.0 * g.explained_by_direction
    );
    if let Some(p) = &report.perceptual {
        println!(
            "  timbre space: instrument-centroid distances vs human dissimilarity over {} instruments: Spearman {:.3}, Pearson {:.3}",
            p.instruments, p.spearman, p.pearson
        );
    }
    if let Some(p) = &report.perceptual_held_out {
        println!(
            "    (centroids of the test notes only: Spearman {:.3}, Pearson {:.3})",
            p.spearman, p.pearson
        );
    }
}

/// Two evaluations side by side: the headline reconstruction, timbre and probe scores.
pub fn print_comparison(
    name: &str,
    report: &EvalReport,
    baseline_name: &str,
    baseline: &EvalReport,
) {
    println!("{:<28} {:>14} {:>14}", "", name, baseline_name);
    let row = |label: &str, a: Option<f64>, b: Option<f64>, unit: &str, scale: f64| {
        let cell =
            |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.3}{unit}", v * scale));
        println!("{label:<28} {:>14} {:>14}", cell(a), cell(b));
    };
    row(
        "spectral convergence",
        Some(report.vae.spectral_convergence_db),
        Some(baseline.vae.spectral_convergence_db),
        " dB",
        1.0,
    );
    let spearman = |r: &EvalReport| r.perceptual.map(|p| p.spearman);
    let pearson = |r: &EvalReport| r.perceptual.map(|p| p.pearson);
    let held_out = |r: &EvalReport| r.perceptual_held_out.map(|p| p.spearman);
    row(
        "timbre Spearman",
        spearman(report),
        spearman(baseline),
        "",
        1.0,
    );
    row(
        "timbre Pearson",
        pearson(report),
        pearson(baseline),
        "",
        1.0,
    );
    row(
        "timbre Spearman (test notes)",
        held_out(report),
        held_out(baseline),
        "",
        1.0,
    );
    for name in report.probes.keys() {
        let accuracy = |r: &EvalReport| r.probes.get(name).map(|p| p.accuracy);
        row(
            &format!("probe {name}"),
            accuracy(report),
            accuracy(baseline),
            " %",
            100.0,
        );
    }
}

/// The symbol evaluation table.
pub fn print_symbol_report(report: &SymbolReport) {
    println!(
        "symbols on {} held-out notes: accuracy per frame / per note (PCA + linear classifier per frame)",
        report.test_notes
    );
    for (name, a) in &report.accuracy {
        println!(
            "  {name:<11} {:>5.1} % / {:>5.1} %   (PCA {})   {} classes",
            100.0 * a.frames,
            100.0 * a.notes,
            a.pca_frames
                .map_or("n/a".to_string(), |p| format!("{:.1} %", 100.0 * p)),
            a.classes
        );
    }
    let p = &report.pitch;
    if p.notes == 0 {
        println!("  rendered pitch: no held-out notes with a pitch label to render");
    } else {
        println!(
            "  rendered pitch: {:.1} % of {} notes within ±30 cents (median error {} cents); \
             the real notes read within ±30 cents {:.1} % of the time, and where they do the \
             rendered ones {:.1} %",
            100.0 * p.in_tune,
            p.notes,
            decimal(p.median_abs_cents),
            100.0 * p.data_in_tune,
            100.0 * p.in_tune_where_data_is
        );
        for i in &p.by_instrument {
            let missed: Vec<String> = i
                .missed
                .iter()
                .map(|(note, cents)| match cents {
                    Some(c) => format!("{note} {c:+.0} c"),
                    None => format!("{note} unvoiced"),
                })
                .collect();
            println!(
                "    {:<12} pitch {:>5.1} % of {:>3} notes (real {:>5.1} %){}{}",
                i.instrument,
                100.0 * i.in_tune,
                i.notes,
                100.0 * i.data_in_tune,
                if missed.is_empty() { "" } else { "; missed: " },
                missed.join(", ")
            );
        }
    }
    let d = &report.dynamics;
    if d.pairs == 0 {
        println!("  louder dynamics: no held-out pairs of the same note at two dynamics");
    } else {
        println!(
            "  louder dynamics: higher level in {:.1} %, brighter in {:.1} % of {} pairs (real notes brighter in {:.1} %)",
            100.0 * d.louder,
            100.0 * d.brighter,
            d.pairs,
            100.0 * d.data_brighter
        );
    }
    if !report.dynamics_by_instrument.is_empty() {
        let differing: Vec<_> = report
            .dynamics_by_instrument
            .iter()
            .filter(|d| d.timbre_differs)
            .collect();
        let notes: usize = differing.iter().map(|d| d.notes).sum();
        let right: f64 = differing.iter().map(|d| d.accuracy * d.notes as f64).sum();
        if notes > 0 {
            println!(
                "  dynamics on instruments whose velocity layers change timbre ({}): {:.1} % of {notes} notes",
                differing
                    .iter()
                    .map(|d| d.instrument.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                100.0 * right / notes as f64
            );
        } else {
            println!("  dynamics: no instrument's velocity layers change its timbre (they differ in level only)");
        }
        for d in &report.dynamics_by_instrument {
            println!(
                "    {:<12} dynamics {:>5.1} % of {:>3} notes; louder is brighter in {:>5.1} % of its pairs{}",
                d.instrument,
                100.0 * d.accuracy,
                d.notes,
                100.0 * d.louder_brighter,
                if d.timbre_differs { " (timbre differs)" } else { "" }
            );
        }
    }
    if let Some(t) = &report.trajectories {
        println!(
            "  envelope over time vs real notes (LSD dB, {} notes): attack {} (frozen {}), sustain {} (frozen {})",
            t.notes,
            decimal(t.attack_db),
            decimal(t.frozen_attack_db),
            decimal(t.sustain_db),
            decimal(t.frozen_sustain_db)
        );
    }
}

/// A score with two decimals, or "n/a" when nothing stood behind it (no frames, no pitch found).
fn decimal(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}")
    } else {
        "n/a".into()
    }
}

/// Prints how well the stored pitch direction transposes.
pub fn print_transposition(score: &TranspositionScore) {
    println!(
        "transposition along the stored pitch direction ({} test sounds, {} more left out as their own rendering reads off their key; ±{} semitones): {:.1} % within ±{} cents, median error {:.0} cents",
        score.sounds,
        score.off_key,
        transposition::RANGE,
        100.0 * score.in_tune,
        transposition::TOLERANCE_CENTS,
        score.median_abs_cents
    );
    let steps: Vec<String> = score
        .per_step
        .iter()
        .map(|(n, e)| format!("{n:+}: {e:.0}"))
        .collect();
    println!("  median |error| per step, cents: {}", steps.join("  "));
}

/// Headline transposition scores kept in the manifest.
pub fn record_transposition(
    scores: &mut std::collections::BTreeMap<String, f64>,
    score: &TranspositionScore,
) {
    scores.insert("transpose_in_tune".into(), score.in_tune);
    if score.median_abs_cents.is_finite() {
        scores.insert("transpose_median_cents".into(), score.median_abs_cents);
    }
}

/// Headline symbol scores kept in the manifest.
pub fn record_symbol_scores(
    scores: &mut std::collections::BTreeMap<String, f64>,
    report: &SymbolReport,
) {
    let mut record = |name: String, value: f64| {
        // A score with nothing behind it (no pairs, no notes) is left out, not stored as null.
        if value.is_finite() {
            scores.insert(name, value);
        }
    };
    for (name, a) in &report.accuracy {
        record(format!("symbols_{name}_notes"), a.notes);
        record(format!("symbols_{name}_frames"), a.frames);
    }
    if report.pitch.notes > 0 {
        record("symbols_pitch_in_tune".into(), report.pitch.in_tune);
        record(
            "symbols_pitch_in_tune_where_data_is".into(),
            report.pitch.in_tune_where_data_is,
        );
    }
    if report.dynamics.pairs > 0 {
        record("symbols_louder".into(), report.dynamics.louder);
    }
    if let Some(t) = &report.trajectories {
        record("trajectory_attack_lsd_db".into(), t.attack_db);
        record("trajectory_sustain_lsd_db".into(), t.sustain_db);
        record("frozen_attack_lsd_db".into(), t.frozen_attack_db);
        record("frozen_sustain_lsd_db".into(), t.frozen_sustain_db);
    }
}

/// Writes `value` as pretty JSON to `out/name`, creating `out`, and says so.
pub fn write_json(out: &Path, name: &str, value: &serde_json::Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
