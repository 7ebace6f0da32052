//! `cargo xtask`: project chores.
//!
//! - `cargo xtask test` — the whole test suite as CI runs it: fetch the test soundfont and MIDI,
//!   `cargo fmt --check`, `cargo clippy --all-targets -- -D warnings`, `cargo test`, then the
//!   plugin in headless Ardour (`tests/host/`).
//! - `cargo xtask fetch-soundfont` — put FluidR3_GM.sf2 (MIT, Debian's fluid-soundfont-gm)
//!   into `data/soundfonts/`.
//! - `cargo xtask fetch-midi` — put real MIDI files (Mozart's K. 525 from the music21 wheel on
//!   PyPI) into `data/midi/` for the real-MIDI test.
//! - `cargo xtask dataset notes [ARGS]` — render isolated instrument notes into `data/notes/`
//!   (ARGS go to `timbrespace dataset notes`).
//! - `cargo xtask dataset midi` — the motif tools' symbolic corpus in `data/midi-corpus/`: drum
//!   songs from Debian's `openttd-openmsx` and the grooves of Debian's `mma`, folk songs from
//!   the `music21` wheel's abc corpus.
//! - `cargo xtask bench-phase [ARGS]` — the phase reconstruction benchmark table.
//! - `cargo xtask bench-model` — model load time and decoder-kernel cost per frame.
//! - `cargo xtask train-default` — rebuild `assets/default.tsm` from the soundfont notes.
//! - `cargo xtask bench-vae` — VAE vs PCA at latent sizes 4, 8, 16 on toy and soundfont data.
//! - `cargo xtask bench-timbre` — the default setup trained without and with each perceptual
//!   regulariser, each evaluated beside the unregularised model.
//! - `cargo xtask bench-plugin [agent|motif]` — the instrument's share of real time (1, 8, 16
//!   voices; 64- and 512-sample blocks at 48 kHz; with a descriptor target; in Motif mode; in
//!   real time with the agent; `agent` runs only the real-time rows, `motif` only Motif mode's).
//! - `cargo xtask bundle timbrespace [--release]` — nice-plug's plugin bundler (writes
//!   `target/bundled/Timbrespace.clap` and `Timbrespace.vst3`).

mod debian;
mod midi_corpus;
mod motif_corpus;
mod soundfont;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The plugin's cargo package.
const PLUGIN_PACKAGE: &str = "timbrespace-plugin";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    nice_plug_xtask::chdir_workspace_root()?;
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("fetch-soundfont") => soundfont::fetch().map(|_| ()),
        Some("fetch-midi") => midi_corpus::fetch(),
        Some("dataset") if args.get(1).map(String::as_str) == Some("notes") => {
            soundfont::fetch()?;
            timbrespace(&["dataset", "notes"]).args(&args[2..]).run()
        }
        Some("dataset") if args.get(1).map(String::as_str) == Some("midi") => motif_corpus::build(),
        Some("train-default") => train_default(),
        Some("bench-vae") => bench_vae(),
        Some("bench-timbre") => bench_timbre(),
        Some("bench-model") => {
            cargo(&["bench", "-p", "timbrespace-engine", "--bench", "model"]).run()
        }
        Some("bench-plugin") => cargo(&[
            "bench",
            "-p",
            "timbrespace-plugin",
            "--bench",
            "realtime",
            "--",
        ])
        .args(&args[1..])
        .run(),
        Some("bench-phase") => cargo(&[
            "bench",
            "-p",
            "timbrespace-engine",
            "--bench",
            "phase",
            "--",
        ])
        .args(&args[1..])
        .run(),
        Some("bundle" | "bundle-universal" | "known-packages") => {
            // The plugin's package is `timbrespace-plugin`; `timbrespace` names it too.
            let args: Vec<String> = args
                .into_iter()
                .map(|a| {
                    if a == "timbrespace" {
                        PLUGIN_PACKAGE.to_string()
                    } else {
                        a
                    }
                })
                .collect();
            nice_plug_xtask::main_with_args("xtask", args)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <test | fetch-soundfont | fetch-midi | dataset notes [ARGS] | dataset midi | \
                 bench-phase [ARGS] | bench-model | bench-plugin | bench-vae | bench-timbre | \
                 train-default | bundle timbrespace [--release]>"
            );
            bail!("unknown or missing command")
        }
    }
}

/// The README's test command: everything CI checks, in order.
fn test() -> Result<()> {
    soundfont::fetch()?;
    midi_corpus::fetch()?;
    cargo(&["fmt", "--all", "--check"]).run()?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
    .run()?;
    run_tests_with_summary()?;
    host_test()
}

/// Where the host test works (git-ignored under `target/`).
const HOST_WORK: &str = "target/host-test";

/// The plugin in a real host: bundle it (debug build, so nice-plug's allocation check is on
/// inside the host), render `tests/host/render.lua` in headless Ardour and check the WAV.
/// Machines without Ardour skip it with a notice; CI (`CI` set) requires it.
fn host_test() -> Result<()> {
    let found = Command::new("sh")
        .args(["-c", "command -v ardour7-lua"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            bail!("the host test needs Debian's `ardour` package (ardour7-lua)");
        }
        println!("host test skipped: install Debian's `ardour` package to run it");
        return Ok(());
    }
    nice_plug_xtask::main_with_args("xtask", vec!["bundle".into(), PLUGIN_PACKAGE.into()])?;
    let output = Command::new("tests/host/run.sh")
        .args(["target/bundled/Timbrespace.vst3", HOST_WORK])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run tests/host/run.sh")?;
    if !output.status.success() {
        bail!("headless Ardour failed; see {HOST_WORK}/ardour.log");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let wav = stdout.lines().last().unwrap_or_default().trim().to_string();
    println!("host test: Ardour rendered {wav}");
    cargo(&[
        "test",
        "-p",
        "timbrespace-tests",
        "--test",
        "host",
        "--",
        "--ignored",
    ])
    .env("TS_HOST_WAV", wav)
    .run()
}

/// `cargo test --workspace`, echoing its output and closing with one line that totals every
/// test binary's results (cargo's own last line is that of the last, often empty, binary).
fn run_tests_with_summary() -> Result<()> {
    let mut child = cargo(&["test", "--workspace"])
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo test")?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(counts) = line.strip_prefix("test result: ") {
                passed += count_before(counts, "passed");
                failed += count_before(counts, "failed");
            }
        }
    }
    let status = child.wait()?;
    println!("summary: {passed} passed, {failed} failed");
    if !status.success() {
        bail!("cargo test failed ({status})");
    }
    Ok(())
}

/// The number just before `label` in a cargo `test result:` line
/// (`ok. 6 passed; 0 failed; …`).
fn count_before(line: &str, label: &str) -> u64 {
    line.split(';')
        .find_map(|part| part.trim().strip_suffix(label))
        .and_then(|n| n.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Folder of the default model's training notes (22.05 kHz, git-ignored).
const DEFAULT_NOTES: &str = "data/notes-22k";

/// The default model's recipe: FluidR3 notes of the 12 timbre-study instruments at 22.05 kHz,
/// a 16-dimensional MLP VAE (β-KL), seed 0. The result replaces `assets/default.tsm`.
fn train_default() -> Result<()> {
    soundfont::fetch()?;
    render_default_notes()?;
    timbrespace(&["train", DEFAULT_NOTES, "--out", "assets/default.tsm"])
        .args(DEFAULT_TRAINING)
        .run()
}

/// The default model's training settings (besides data and output).
const DEFAULT_TRAINING: [&str; 10] = [
    "--latent",
    "16",
    "--max-frames-per-file",
    "8",
    "--epochs",
    "120",
    "--patience",
    "8",
    "--seed",
    "0",
];

/// Train the default model's setup without and with each perceptual regulariser, and evaluate
/// each regularised model beside the unregularised one: `target/bench-timbre/*.log`.
fn bench_timbre() -> Result<()> {
    soundfont::fetch()?;
    render_default_notes()?;
    let dir = "target/bench-timbre";
    std::fs::create_dir_all(dir)?;
    let baseline = format!("{dir}/none.tsm");
    for variant in ["none", "prior", "l2", "gaussian", "student-t"] {
        println!("training with perceptual regulariser: {variant}");
        let out = format!("{dir}/{variant}.tsm");
        let mut train = timbrespace(&["train", DEFAULT_NOTES, "--out", &out, "--quiet"]);
        train.args(DEFAULT_TRAINING);
        if variant != "none" {
            train.args(["--perceptual", variant]);
        }
        train
            .stdout(std::fs::File::create(format!("{dir}/{variant}.log"))?)
            .run()?;
        if variant != "none" {
            timbrespace(&[
                "eval",
                &out,
                DEFAULT_NOTES,
                "--baseline",
                &baseline,
                "--out",
                &format!("{dir}/eval-{variant}"),
            ])
            .stdout(std::fs::File::create(format!("{dir}/eval-{variant}.log"))?)
            .run()?;
        }
    }
    Ok(())
}

/// Train VAEs of latent size 4, 8 and 16 on additive toy sounds and on the soundfont notes;
/// each run prints its evaluation table (VAE vs PCA of the same size) into
/// `target/bench-vae/*.log`.
fn bench_vae() -> Result<()> {
    soundfont::fetch()?;
    timbrespace(&[
        "dataset",
        "toy",
        "additive",
        "--out",
        "data/toy-additive",
        "--count",
        "3000",
    ])
    .run()?;
    render_default_notes()?;
    std::fs::create_dir_all("target/bench-vae")?;
    for (name, data, frames) in [
        ("toy", "data/toy-additive", "4"),
        ("notes", DEFAULT_NOTES, "8"),
    ] {
        for latent in ["4", "8", "16"] {
            let out = format!("target/bench-vae/{name}-{latent}.tsm");
            let log = std::fs::File::create(format!("target/bench-vae/{name}-{latent}.log"))?;
            println!("training {name} with latent {latent}");
            timbrespace(&[
                "train",
                data,
                "--out",
                &out,
                "--latent",
                latent,
                "--max-frames-per-file",
                frames,
                "--epochs",
                "150",
                "--quiet",
            ])
            .stdout(log)
            .run()?;
        }
    }
    Ok(())
}

/// The soundfont notes at 22.05 kHz the default model and `bench-vae` train on.
fn render_default_notes() -> Result<()> {
    timbrespace(&[
        "dataset",
        "notes",
        "--rate",
        "22050",
        "--out",
        DEFAULT_NOTES,
    ])
    .run()
}

/// `timbrespace ARGS` from a release build.
fn timbrespace(args: &[&str]) -> Command {
    let mut command = cargo(&[
        "run",
        "--release",
        "--quiet",
        "-p",
        "timbrespace-models",
        "--bin",
        "timbrespace",
        "--",
    ]);
    command.args(args);
    command
}

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args);
    command
}

/// The file with extension `ext` that `tool` left in `dir`.
fn find_with_extension(dir: &std::path::Path, ext: &str, tool: &str) -> Result<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == ext) {
            return Ok(path);
        }
    }
    bail!("{tool} left no .{ext} file in {}", dir.display())
}

/// Running a command and failing on a non-zero exit.
trait Run {
    fn run(&mut self) -> Result<()>;
}

impl Run for Command {
    fn run(&mut self) -> Result<()> {
        let status = self
            .status()
            .with_context(|| format!("cannot start {:?}", self.get_program()))?;
        if !status.success() {
            bail!("{:?} failed ({status})", self);
        }
        Ok(())
    }
}
