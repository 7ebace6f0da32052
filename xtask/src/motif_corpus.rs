//! `cargo xtask dataset midi`: the symbolic corpus of the motif tools, built from registry
//! packages only.
//!
//! - `drums/openmsx/`: the songs of Debian's `openttd-openmsx` (GPL-2, multi-channel General
//!   MIDI songs with drum parts on channel 10), copied as they are.
//! - `drums/mma/`: the drum grooves of Debian's `mma` (Musical MIDI Accompaniment, GPL-2): one
//!   file per 4/4 style of its standard library, every groove of the style (variations,
//!   intros, fills, endings) played in turn by MMA itself (`xtask/scripts/mma_grooves.py`).
//! - `melodies/<style>/`: monophonic folk songs from the abc corpus of the pinned `music21`
//!   wheel on PyPI (Essen folk songs, Chinese and German; O'Neill's Irish tunes), written as MIDI
//!   by music21 itself in a private virtual environment (`xtask/scripts/abc_to_midi.py`).
//!
//! Each half is built once; delete its folder to build it again.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{debian, midi_corpus, Run};

/// Where the corpus goes, relative to the workspace root (git-ignored).
pub const CORPUS_DIR: &str = "data/midi-corpus";
/// Songs taken from each folk-song collection: enough for style plots and held-out bars,
/// few enough that music21 converts them in minutes.
const SONGS_PER_STYLE: &str = "250";
/// The script that converts abc to MIDI with music21.
const ABC_SCRIPT: &str = "xtask/scripts/abc_to_midi.py";
/// The script that plays MMA's grooves into MIDI files.
const MMA_SCRIPT: &str = "xtask/scripts/mma_grooves.py";
/// Bars each MMA groove is played for: two 2-bar windows, and the whole sequence of most
/// grooves (they repeat every 1, 2 or 4 bars).
const BARS_PER_GROOVE: &str = "4";

/// Builds whichever half of the corpus is missing.
pub fn build() -> Result<()> {
    let root = PathBuf::from(CORPUS_DIR);
    let drums = root.join("drums");
    if !drums.is_dir() {
        build_drums(&root, &drums)?;
    }
    let melodies = root.join("melodies");
    if !melodies.is_dir() {
        build_melodies(&root, &melodies)?;
    }
    eprintln!("MIDI corpus ready in {CORPUS_DIR} (drums/, melodies/<style>/)");
    Ok(())
}

/// Builds `drums`: the openttd-openmsx songs and MMA's grooves, each a collection.
fn build_drums(root: &Path, drums: &Path) -> Result<()> {
    // Fill a temporary folder and rename it, so an interrupted build leaves no half corpus.
    let partial = root.join("drums.partial");
    if partial.exists() {
        fs::remove_dir_all(&partial)?;
    }
    let songs = copy_openmsx(root, &partial.join("openmsx"))?;
    play_mma_grooves(root, &partial.join("mma"))?;
    fs::rename(&partial, drums)?;
    eprintln!(
        "{songs} openmsx songs and MMA's grooves in {}",
        drums.display()
    );
    Ok(())
}

/// Copies the openttd-openmsx songs into `out`; returns how many.
fn copy_openmsx(root: &Path, out: &Path) -> Result<usize> {
    let work = root.join("download-openmsx");
    eprintln!("Fetching openttd-openmsx (about 100 kB) with apt-get download…");
    let unpacked = debian::download_unpacked("openttd-openmsx", &work)?;
    let songs = unpacked.join("usr/share/games/openttd/baseset/openmsx");
    fs::create_dir_all(out)?;
    let mut count = 0;
    for entry in fs::read_dir(&songs).with_context(|| format!("{} missing", songs.display()))? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mid"))
        {
            if let Some(name) = path.file_name() {
                fs::copy(&path, out.join(name))?;
                count += 1;
            }
        }
    }
    if count == 0 {
        bail!("openttd-openmsx held no MIDI files in {}", songs.display());
    }
    fs::remove_dir_all(&work)?;
    Ok(count)
}

/// Plays the grooves of MMA's standard library into `out`, one MIDI file per style, with
/// MMA unpacked from its Debian package (nothing is installed).
fn play_mma_grooves(root: &Path, out: &Path) -> Result<()> {
    let work = root.join("download-mma");
    eprintln!("Fetching mma (about 4 MB) with apt-get download…");
    let unpacked = debian::download_unpacked("mma", &work)?;
    eprintln!("Playing MMA's grooves to MIDI (about 10 s)…");
    Command::new("python3")
        .arg(MMA_SCRIPT)
        .arg(unpacked.join("usr/share/mma"))
        .arg(out)
        .arg(BARS_PER_GROOVE)
        .run()
        .context("MMA could not play its grooves")?;
    fs::remove_dir_all(&work)?;
    Ok(())
}

/// Converts the folk-song collections of the music21 wheel into `melodies`.
fn build_melodies(root: &Path, melodies: &Path) -> Result<()> {
    let work = root.join("download-music21");
    let wheel = midi_corpus::download_wheel(&work)?;
    let venv = work.join("venv");
    Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .run()
        .context("python3 -m venv failed (Debian: apt-get install python3-venv)")?;
    let python = venv.join("bin/python");
    eprintln!(
        "Installing music21 and its dependencies into {}…",
        venv.display()
    );
    Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .arg(&wheel)
        .run()
        .context("pip could not install the music21 wheel's dependencies")?;
    eprintln!("Converting folk songs to MIDI with music21 (a few minutes)…");
    let partial = root.join("melodies.partial");
    if partial.exists() {
        fs::remove_dir_all(&partial)?;
    }
    Command::new(&python)
        .arg(ABC_SCRIPT)
        .arg(&partial)
        .arg(SONGS_PER_STYLE)
        .run()
        .context("the abc to MIDI conversion failed")?;
    fs::rename(&partial, melodies)?;
    fs::remove_dir_all(&work)?;
    Ok(())
}
