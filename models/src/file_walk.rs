//! Finding the files a tool reads in a folder tree.

use std::path::{Path, PathBuf};

/// A folder of the tree that could not be listed.
#[derive(Debug)]
pub struct WalkError {
    /// The folder.
    pub folder: PathBuf,
    /// Why listing it failed.
    pub source: std::io::Error,
}

/// Every file under `folder` (recursively) that `keep` accepts, sorted by path.
pub fn files_under(folder: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, WalkError> {
    let mut files = Vec::new();
    walk(folder, keep, &mut files)?;
    files.sort();
    Ok(files)
}

/// Appends the accepted files under `folder` to `out`.
fn walk(
    folder: &Path,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) -> Result<(), WalkError> {
    let fail = |source| WalkError {
        folder: folder.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(folder).map_err(fail)? {
        let path = entry.map_err(fail)?.path();
        if path.is_dir() {
            walk(&path, keep, out)?;
        } else if keep(&path) {
            out.push(path);
        }
    }
    Ok(())
}
