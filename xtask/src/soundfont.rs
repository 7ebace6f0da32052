//! Fetching the test soundfont from Debian's `fluid-soundfont-gm` package (FluidR3_GM.sf2, MIT).

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{find_with_extension, Run};

/// Where the soundfont lives, relative to the workspace root (git-ignored).
pub const SOUNDFONT: &str = "data/soundfonts/FluidR3_GM.sf2";

/// Makes sure `data/soundfonts/FluidR3_GM.sf2` exists, downloading the Debian package and
/// unpacking it without installing when it does not. Returns its path.
pub fn fetch() -> Result<PathBuf> {
    let target = PathBuf::from(SOUNDFONT);
    if target.is_file() {
        return Ok(target);
    }
    let work = PathBuf::from("data/soundfonts/download");
    fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    eprintln!("Fetching fluid-soundfont-gm (about 130 MB) with apt-get download…");
    let download = || {
        Command::new("apt-get")
            .args(["download", "-q", "fluid-soundfont-gm"])
            .current_dir(&work)
            .run()
    };
    if download().is_err() {
        // A fresh machine may have no package lists yet.
        Command::new("apt-get").args(["update", "-qq"]).run().context(
            "apt-get update failed; run `apt-get update` as root, then `cargo xtask fetch-soundfont`",
        )?;
        download().context("apt-get download fluid-soundfont-gm failed")?;
    }
    let deb = find_with_extension(&work, "deb", "apt-get download")?;
    let unpacked = work.join("unpacked");
    Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacked)
        .run()
        .context("dpkg-deb could not unpack the soundfont package")?;
    let sf2 = unpacked.join("usr/share/sounds/sf2/FluidR3_GM.sf2");
    // Copy under a temporary name and rename, so an interrupted fetch never leaves half a file.
    let partial = target.with_extension("sf2.partial");
    fs::copy(&sf2, &partial).with_context(|| format!("{} not in the package", sf2.display()))?;
    fs::rename(&partial, &target)?;
    fs::remove_dir_all(&work)?;
    eprintln!("Soundfont ready: {}", target.display());
    Ok(target)
}
