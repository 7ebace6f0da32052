"""Writes folk songs of the music21 corpus (abc notation) as standard MIDI files, one per song.

usage: abc_to_midi.py OUT_DIR MAX_SONGS_PER_COLLECTION

Each collection becomes a folder of OUT_DIR named after its style, so that the motif tools can
colour their style plots by source collection. Songs music21 cannot read or write are skipped
and counted.
"""

import pathlib
import sys

from music21 import converter, corpus

# Style name -> corpus files (relative to music21's corpus folder).
COLLECTIONS = {
    "chinese-han": ["essenFolksong/han1.abc", "essenFolksong/han2.abc"],
    "german-altdeu": ["essenFolksong/altdeu10.abc", "essenFolksong/altdeu20.abc"],
    "german-kinder": ["essenFolksong/kinder0.abc"],
    "irish-oneills": [
        "oneills1850/0001-0050.abc",
        "oneills1850/0051-0100.abc",
        "oneills1850/0101-0200.abc",
        "oneills1850/0201-0300.abc",
    ],
}


def songs(path):
    """The scores in one abc file (an opus holds many)."""
    parsed = converter.parse(path)
    return list(parsed.scores) if hasattr(parsed, "scores") else [parsed]


def main():
    out, limit = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    root = pathlib.Path(corpus.__file__).parent
    for style, files in COLLECTIONS.items():
        folder = out / style
        folder.mkdir(parents=True, exist_ok=True)
        written, skipped = 0, 0
        for name in files:
            for score in songs(root / name):
                if written >= limit:
                    break
                target = folder / f"{written:04}.mid"
                try:
                    score.write("midi", fp=str(target))
                    written += 1
                except Exception:  # music21 refuses a few malformed tunes; skip them
                    skipped += 1
        print(f"{style}: {written} songs written, {skipped} skipped", flush=True)


if __name__ == "__main__":
    main()
