//! `cargo xtask bench-phase`: quality and cost of every phase reconstruction method on the
//! shared phase-signals set (n_fft 1024, 44.1 kHz), printed as a table and written to a file.
//!
//! Arguments (all optional): `--signals DIR` (default `shared/data/phase-signals` beside the
//! workspace, or `$TIMBRESPACE_PHASE_SIGNALS`), `--out FILE` (default `target/bench-phase.md`),
//! `--quick` (skip the 100-iteration offline Griffin-Lim rows).

use std::path::{Path, PathBuf};
use std::time::Instant;

use timbrespace_engine::grid::TfGrid;
use timbrespace_engine::metrics::spectral_convergence_db;
use timbrespace_engine::phase::offline::{
    fast_griffin_lim, pghi, pghi_fast_griffin_lim, FGLA_MOMENTUM,
};
use timbrespace_engine::phase::refined::{RefineSettings, RefinedRtpghi};
use timbrespace_engine::phase::rtpghi::{Lookahead, Rtpghi};
use timbrespace_engine::phase::{FrameReconstructor, DEFAULT_TOLERANCE};
use timbrespace_engine::stft::{istft, magnitude_stft, StftConfig};
use timbrespace_engine::window::WindowKind;
use timbrespace_engine::Complex32;

const RATE: f64 = 44_100.0;
const N_FFT: usize = 1024;
const GLA_ITERATIONS: usize = 100;

struct Signal {
    name: String,
    samples: Vec<f32>,
}

/// One table row's measurements.
struct Row {
    method: &'static str,
    window: &'static str,
    hop: usize,
    scores: Vec<f64>,
    /// The signal each score belongs to.
    names: Vec<String>,
    /// Per-frame times in µs (real-time methods: every call; offline: total / frames).
    times: Vec<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let quick = args.iter().any(|a| a == "--quick");
    let dir = arg("--signals")
        .or_else(|| std::env::var("TIMBRESPACE_PHASE_SIGNALS").ok())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/phase-signals")
        });
    let out = arg("--out").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-phase.md")
    });
    let signals = match load_signals(&dir) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => fail(&format!("no .wav files in {}", dir.display())),
        Err(e) => fail(&format!("cannot read {}: {e}", dir.display())),
    };
    eprintln!("{} signals from {}", signals.len(), dir.display());

    let mut rows = Vec::new();
    for window in [WindowKind::Hann, WindowKind::GAUSSIAN] {
        for hop in [256, 128] {
            let Ok(cfg) = StftConfig::new(N_FFT, hop, window) else {
                fail("invalid STFT configuration");
            };
            rows.extend(measure_lattice(&cfg, &signals, quick));
        }
    }
    let table = render_table(&rows);
    println!("{table}");
    if let Err(e) = std::fs::write(&out, &table) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
    eprintln!("table written to {}", out.display());
}

fn fail(message: &str) -> ! {
    eprintln!("bench-phase: {message}");
    std::process::exit(1)
}

fn load_signals(dir: &Path) -> std::io::Result<Vec<Signal>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let mut reader = hound::WavReader::open(&p).map_err(std::io::Error::other)?;
            let samples = reader
                .samples::<f32>()
                .collect::<Result<Vec<_>, _>>()
                .map_err(std::io::Error::other)?;
            let name = p.file_stem().unwrap_or_default().to_string_lossy().into();
            Ok(Signal { name, samples })
        })
        .collect()
}

fn measure_lattice(cfg: &StftConfig, signals: &[Signal], quick: bool) -> Vec<Row> {
    type Build = fn(&StftConfig) -> Box<dyn FrameReconstructor>;
    let streaming: [(&str, Build); 3] = [
        ("RTPGHI, no look-ahead", |c| {
            Box::new(Rtpghi::new(c, Lookahead::Zero))
        }),
        ("RTPGHI, 1 frame look-ahead", |c| {
            Box::new(Rtpghi::new(c, Lookahead::One))
        }),
        ("Refined (RTPGHI + 3 it., 2 frames)", |c| {
            Box::new(RefinedRtpghi::new(c, RefineSettings::default()))
        }),
    ];
    let targets: Vec<TfGrid<f32>> = signals
        .iter()
        .map(|s| magnitude_stft(cfg, &s.samples))
        .collect();
    let mut rows = Vec::new();
    for (method, build) in streaming {
        rows.push(measure(method, cfg, signals, &targets, |signal, target| {
            let (spectra, times) = timed_stream(build(cfg).as_mut(), target);
            (istft(cfg, &spectra, signal.samples.len()), times)
        }));
    }
    type Offline = fn(&StftConfig, &TfGrid<f32>, usize) -> Vec<f32>;
    let mut offline: Vec<(&str, Offline)> = vec![("Offline PGHI", |c, s, len| {
        istft(c, &pghi(c, s, DEFAULT_TOLERANCE), len)
    })];
    if !quick {
        offline.push(("Fast Griffin-Lim, 100 it.", |c, s, len| {
            fast_griffin_lim(c, s, None, GLA_ITERATIONS, FGLA_MOMENTUM, len)
        }));
        offline.push(("PGHI + Fast Griffin-Lim, 100 it.", |c, s, len| {
            pghi_fast_griffin_lim(c, s, GLA_ITERATIONS, len)
        }));
    }
    for (method, run) in offline {
        rows.push(measure(method, cfg, signals, &targets, |signal, target| {
            let start = Instant::now();
            let y = run(cfg, target, signal.samples.len());
            let per_frame = start.elapsed().as_secs_f64() * 1e6 / target.frames() as f64;
            (y, vec![per_frame])
        }));
    }
    rows
}

/// Runs one method over every signal: `run` returns the reconstruction and per-frame times.
fn measure(
    method: &'static str,
    cfg: &StftConfig,
    signals: &[Signal],
    targets: &[TfGrid<f32>],
    mut run: impl FnMut(&Signal, &TfGrid<f32>) -> (Vec<f32>, Vec<f64>),
) -> Row {
    let mut row = Row {
        method,
        window: cfg.window().name(),
        hop: cfg.hop(),
        scores: vec![],
        names: vec![],
        times: vec![],
    };
    for (signal, target) in signals.iter().zip(targets) {
        let (y, times) = run(signal, target);
        row.scores.push(spectral_convergence_db(cfg, target, &y));
        row.names.push(signal.name.clone());
        row.times.extend(times);
    }
    eprintln!("  {method} {} hop {}: done", row.window, row.hop);
    row
}

/// Streams a spectrogram through a reconstructor, timing each call.
fn timed_stream(
    reconstructor: &mut dyn FrameReconstructor,
    target: &TfGrid<f32>,
) -> (TfGrid<Complex32>, Vec<f64>) {
    let (frames, bins) = (target.frames(), target.bins());
    let latency = reconstructor.latency_frames();
    let silence = vec![0.0; bins];
    let mut out = TfGrid::zeros(frames, bins);
    let mut times = Vec::with_capacity(frames + latency);
    for j in 0..frames + latency {
        let input = if j < frames {
            target.frame(j)
        } else {
            &silence
        };
        let start = Instant::now();
        let spectrum = reconstructor.process(input);
        times.push(start.elapsed().as_secs_f64() * 1e6);
        if j >= latency {
            out.frame_mut(j - latency).copy_from_slice(spectrum);
        }
    }
    (out, times)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn render_table(rows: &[Row]) -> String {
    let mut s = String::from(
        "Phase reconstruction on shared/data/phase-signals (n_fft 1024, 44.1 kHz, one core)\n\n\
         | method | window | hop | mean SC dB | worst SC dB | worst on | µs/frame p50 | µs/frame p99 | real-time factor |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let mean = row.scores.iter().sum::<f64>() / row.scores.len() as f64;
        let (worst_at, worst) =
            row.scores
                .iter()
                .cloned()
                .enumerate()
                .fold(
                    (0, f64::MIN),
                    |(i, w), (j, x)| if x > w { (j, x) } else { (i, w) },
                );
        let mut times = row.times.clone();
        times.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        // How many times faster than real time one core runs it (hop duration / mean cost).
        let mean_time = times.iter().sum::<f64>() / times.len() as f64;
        let factor = row.hop as f64 / RATE * 1e6 / mean_time;
        s.push_str(&format!(
            "| {} | {} | {} | {mean:.2} | {worst:.2} | {} | {p50:.1} | {p99:.1} | {factor:.1} |\n",
            row.method, row.window, row.hop, row.names[worst_at]
        ));
    }
    s
}
