//! Debian packages fetched without installing them: `apt-get download` and `dpkg-deb -x`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{find_with_extension, Run};

/// Downloads `package` into `work` and unpacks it there; returns the folder it was unpacked
/// into (the package's files under their installed paths).
pub fn download_unpacked(package: &str, work: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    let download = || {
        Command::new("apt-get")
            .args(["download", "-q", package])
            .current_dir(work)
            .run()
    };
    if download().is_err() {
        // A fresh machine may have no package lists yet.
        Command::new("apt-get")
            .args(["update", "-qq"])
            .run()
            .context(
                "apt-get update failed; run `apt-get update` as root, then run this command again",
            )?;
        download().with_context(|| format!("apt-get download {package} failed"))?;
    }
    let deb = find_with_extension(work, "deb", "apt-get download")?;
    let unpacked = work.join("unpacked");
    Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacked)
        .run()
        .with_context(|| format!("dpkg-deb could not unpack {package}"))?;
    Ok(unpacked)
}
