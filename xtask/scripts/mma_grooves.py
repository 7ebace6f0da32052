"""Writes the drum grooves of MMA's standard library as standard MIDI files, one per style.

usage: mma_grooves.py MMA_HOME OUT_DIR BARS_PER_GROOVE

MMA_HOME is an unpacked Debian `mma` package's share/mma folder (its MMA/ modules and lib/).
Every 4/4 style file of lib/stdlib becomes OUT_DIR/<style>.mid: each groove it defines
(main grooves, their variations, intros, fills and endings) played for BARS_PER_GROOVE bars
of C major at 120 BPM, one after another. Random timing, volume and skipped notes are turned
off so the patterns land on their grid exactly and every run writes the same notes. MMA also
plays its bass, chord and arpeggio tracks; the motif tools read only channel 10. Styles in
other metres are skipped, and styles MMA cannot play are counted.
"""

import os
import pathlib
import re
import subprocess
import sys

DEFINITION = re.compile(r"^\s*defgroove\s+(\S+)", re.IGNORECASE | re.MULTILINE)
METRE = re.compile(r"^\s*time\s+(\d+)", re.IGNORECASE | re.MULTILINE)


def grooves(style):
    """The names of the grooves a style file defines, if it is in 4/4 throughout."""
    text = style.read_text(encoding="latin-1")
    if any(beats != "4" for beats in METRE.findall(text)):
        return []
    return list(dict.fromkeys(DEFINITION.findall(text)))


def script(style, names, bars):
    """An MMA song playing each groove of `style` for `bars` bars."""
    lines = ["Tempo 120", "RndSeed 1", f"Use stdlib/{style}"]
    for name in names:
        lines += [
            f"Groove {name}",
            "AllTracks RTime 0",
            "AllTracks RVolume 0",
            "AllTracks RSkip 0",
        ]
        lines += ["C"] * bars
    return "\n".join(lines) + "\n"


def main():
    home, out, bars = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    mma = home.parent.parent / "bin" / "mma"
    written, failed = 0, 0
    for style in sorted((home / "lib" / "stdlib").glob("*.mma")):
        names = grooves(style)
        if not names:
            continue
        song = out / f"{style.stem}.mma"
        song.write_text(script(style.stem, names, bars))
        result = subprocess.run(
            [sys.executable, str(mma), "-f", str(out / f"{style.stem}.mid"), str(song)],
            env=dict(os.environ, MMA_HOME=str(home)),
            capture_output=True,
            text=True,
        )
        song.unlink()
        if result.returncode == 0 and (out / f"{style.stem}.mid").is_file():
            written += 1
        else:
            failed += 1
    print(f"wrote {written} styles' grooves, {failed} styles MMA could not play")
    if written == 0:
        sys.exit("MMA played none of its styles")


if __name__ == "__main__":
    main()
