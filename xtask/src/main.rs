//! `cargo xtask`: project chores.
//!
//! - `cargo xtask test` — the whole test suite as CI runs it: fetch the test soundfont,
//!   `cargo fmt --check`, `cargo clippy --all-targets -- -D warnings`, `cargo test`.
//! - `cargo xtask fetch-soundfont` — put FluidR3_GM.sf2 (MIT, Debian's fluid-soundfont-gm)
//!   into `data/soundfonts/`.
//! - `cargo xtask dataset notes [ARGS]` — render isolated instrument notes into `data/notes/`
//!   (ARGS go to `timbrespace dataset notes`).
//! - `cargo xtask bench-phase [ARGS]` — the phase reconstruction benchmark table.
//! - `cargo xtask bundle …` — nice-plug's plugin bundler.

mod soundfont;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    nice_plug_xtask::chdir_workspace_root()?;
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("fetch-soundfont") => soundfont::fetch().map(|_| ()),
        Some("dataset") if args.get(1).map(String::as_str) == Some("notes") => {
            soundfont::fetch()?;
            cargo(&[
                "run",
                "--release",
                "--quiet",
                "-p",
                "timbrespace-models",
                "--bin",
            ])
            .arg("timbrespace")
            .args(["--", "dataset", "notes"])
            .args(&args[2..])
            .run()
        }
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
            nice_plug_xtask::main_with_args("xtask", args)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <test | fetch-soundfont | dataset notes [ARGS] | \
                 bench-phase [ARGS] | bundle PACKAGE [--release]>"
            );
            bail!("unknown or missing command")
        }
    }
}

/// The README's test command: everything CI checks, in order.
fn test() -> Result<()> {
    soundfont::fetch()?;
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
    run_tests_with_summary()
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

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args);
    command
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
