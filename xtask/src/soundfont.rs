//! Fetching the test soundfont from Debian's `fluid-soundfont-gm` package (FluidR3_GM.sf2, MIT).

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::debian;

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
    eprintln!("Fetching fluid-soundfont-gm (about 130 MB) with apt-get download…");
    let unpacked = debian::download_unpacked("fluid-soundfont-gm", &work)?;
    let sf2 = unpacked.join("usr/share/sounds/sf2/FluidR3_GM.sf2");
    // Copy under a temporary name and rename, so an interrupted fetch never leaves half a file.
    let partial = target.with_extension("sf2.partial");
    fs::copy(&sf2, &partial).with_context(|| format!("{} not in the package", sf2.display()))?;
    fs::rename(&partial, &target)?;
    fs::remove_dir_all(&work)?;
    eprintln!("Soundfont ready: {}", target.display());
    Ok(target)
}
