//! Fetching real MIDI files nobody on the team wrote, for the tests: Mozart's *Eine kleine
//! Nachtmusik* (K. 525), first movement and its opening, as shipped in the `music21` wheel on
//! PyPI (BSD-3-Clause), downloaded with pip and checked against a pinned hash.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{find_with_extension, Run};

/// Where the files go, relative to the workspace root (git-ignored).
pub const MIDI_DIR: &str = "data/midi";
/// The wheel the files come from.
const WHEEL: &str = "music21==10.5.1";
/// Its SHA-256, so a different file is never used silently.
const WHEEL_SHA256: &str = "dc3309498c4c95cebdf8d4f20c868deb6b63bce1d929cad4f51a7ccc982987b1";
/// The members taken from it, and their names under [`MIDI_DIR`].
const MEMBERS: [(&str, &str); 2] = [
    ("music21/omr/k525short.mid", "k525short.mid"),
    ("music21/omr/k525MIDIMvt1.mid", "k525MIDIMvt1.mid"),
];

/// Makes sure the MIDI files exist in [`MIDI_DIR`], downloading the wheel when they do not.
pub fn fetch() -> Result<()> {
    let dir = PathBuf::from(MIDI_DIR);
    if MEMBERS.iter().all(|(_, name)| dir.join(name).is_file()) {
        return Ok(());
    }
    let work = dir.join("download");
    let wheel = download_wheel(&work)?;
    for (member, name) in MEMBERS {
        let target = dir.join(name);
        // Extract under a temporary name and rename, so an interrupted fetch leaves no half file.
        let partial = target.with_extension("mid.partial");
        Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile; open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))",
            ])
            .arg(&wheel)
            .arg(member)
            .arg(&partial)
            .run()
            .with_context(|| format!("cannot extract {member}"))?;
        fs::rename(&partial, &target)?;
    }
    fs::remove_dir_all(&work)?;
    eprintln!("MIDI files ready in {MIDI_DIR}");
    Ok(())
}

/// Downloads the pinned music21 wheel into `work` and checks its hash; returns its path.
pub fn download_wheel(work: &Path) -> Result<PathBuf> {
    fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    eprintln!("Fetching the {WHEEL} wheel (about 20 MB) from PyPI…");
    Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .arg("--dest")
        .arg(work)
        .arg(WHEEL)
        .run()
        .context("pip could not download the music21 wheel (needs python3 with pip and PyPI)")?;
    let wheel = find_with_extension(work, "whl", "pip download")?;
    check_hash(&wheel)?;
    Ok(wheel)
}

/// Refuses a wheel whose SHA-256 is not the pinned one.
fn check_hash(wheel: &Path) -> Result<()> {
    let out = Command::new("sha256sum")
        .arg(wheel)
        .output()
        .context("sha256sum is needed to check the download")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.split_whitespace().next() != Some(WHEEL_SHA256) {
        bail!(
            "{} does not have the expected SHA-256 ({WHEEL_SHA256}); refusing to use it",
            wheel.display()
        );
    }
    Ok(())
}
