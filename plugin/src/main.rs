//! The Timbrespace instrument as a standalone program (JACK or ALSA, or `--backend dummy`
//! without audio hardware): `cargo run -p timbrespace-plugin --features standalone --release`.

use nice_plug::prelude::*;
use timbrespace_plugin::Timbrespace;

fn main() {
    nice_export_standalone::<Timbrespace>();
}
