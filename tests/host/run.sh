#!/usr/bin/env bash
# Renders the host test in headless Ardour 7 (Debian's `ardour`): installs the VST3 bundle
# and the note generator into a private HOME, indexes the plugin, builds a session with
# render.lua and exports it. Usage: run.sh BUNDLE.vst3 WORKDIR. Prints the WAV's path last.
set -euo pipefail
bundle=$(realpath "$1")
work=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work/home/.vst3" "$work/home/.config/ardour7/scripts"
export HOME="$work/home"
cp -a "$bundle" "$HOME/.vst3/"
cp "$here/timbrespace_notes.lua" "$HOME/.config/ardour7/scripts/"
# The scanner's cache counts as stale when written in the same second as the plugin's file.
sleep 1
LD_LIBRARY_PATH=/usr/lib/ardour7 /usr/lib/ardour7/ardour-vst3-scanner -f "$HOME/.vst3/$(basename "$bundle")" >"$work/scan.log" 2>&1 || {
  cat "$work/scan.log"
  echo "the VST3 scanner failed" >&2
  exit 1
}
# Track creation aborts now and then in this Ardour version ("Port already exists"): retry.
for attempt in 1 2 3 4 5 6; do
  rm -rf "$work/session"
  if TS_SESSION="$work/session" TS_SECONDS=7 timeout 300 ardour7-lua "$here/render.lua" >"$work/ardour.log" 2>&1; then
    wav=$(find "$work/session" -name 'timbrespace*.wav' | head -n 1)
    if [ -n "$wav" ]; then
      echo "$wav"
      exit 0
    fi
  fi
  echo "attempt $attempt failed:" >&2
  tail -n 5 "$work/ardour.log" >&2
done
echo "headless Ardour did not render the session" >&2
exit 1
