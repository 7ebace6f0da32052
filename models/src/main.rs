//! `timbrespace`: the command line of Timbrespace's offline tools.

mod cli;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// candle allocates a fresh buffer for every operation; glibc's malloc returns the big ones to
/// the OS and page-faults on reuse, which made training 2–3× slower (NOTES).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "timbrespace",
    version,
    about = "Timbrespace: train, evaluate and play spectral VAE models of sounds"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Play the embedded MIDI phrase with the embedded default model.
    Demo(cli::render::DemoArgs),
    /// Generate datasets (soundfont notes, toy sounds).
    Dataset {
        #[command(subcommand)]
        kind: cli::dataset::DatasetKind,
    },
    /// Train a model on a folder of sounds and write a .tsm file.
    Train(Box<cli::train::TrainArgs>),
    /// Score a model on its test split against PCA; write report.json and plots.
    Eval(cli::eval::EvalArgs),
    /// Show a model's manifest and sizes.
    Inspect(cli::model_io::InspectArgs),
    /// Encode a sound into latent vectors (CSV, one row per frame).
    Encode(cli::model_io::EncodeArgs),
    /// Decode latent vectors (CSV) to audio.
    Decode(cli::model_io::DecodeArgs),
    /// Render a MIDI file, a latent trajectory or a morph between two sounds to WAV.
    Render(cli::render::RenderArgs),
    /// Cross-synthesis: play any sound through the model, frame by frame.
    Cross(cli::render::CrossArgs),
    /// Read pitch, octave, dynamics and instrument from a sound (models trained with symbols).
    Transcribe(cli::transcribe::TranscribeArgs),
    /// Follow a target descriptor curve through the latent space and render it.
    Path(cli::path::PathArgs),
    /// Place sounds of instruments the model never saw in its timbre space.
    Timbre(cli::timbre::TimbreArgs),
    /// Evaluate the co-exploration agent with simulated musicians against a random walk.
    AgentSim(cli::agent_sim::AgentSimArgs),
    /// Learn a pitch factor linear in pitch from scales by physical symmetry (SPS).
    Sps(cli::sps::SpsArgs),
    /// Factor pitch from time in a multi-frame patch model (soft factorisation, both halves).
    Patches(Box<cli::patches::PatchArgs>),
    /// Learn a dictionary of time-shiftable motifs (CONV-WTA) from MIDI drum parts or melodies.
    Motifs(Box<cli::motifs::MotifArgs>),
    /// Factor transposition from time shift in a space of one-bar melodies (soft factorisation).
    MotifSpace(Box<cli::motif_space::MotifSpaceArgs>),
    /// Map points on a line to a ring walked by one learned operator (FiLMR vs a matrix).
    Stargate(cli::stargate::StargateArgs),
    /// Train a projector after the audio encoder in whose space a mix is the sum of its sounds.
    Mixing(Box<cli::mixing::MixingArgs>),
}

fn main() -> Result<()> {
    configure_threads();
    match Cli::parse().command {
        Command::Demo(args) => cli::render::demo(&args),
        Command::Dataset { kind } => cli::dataset::run(&kind),
        Command::Train(args) => cli::train::run(&args),
        Command::Eval(args) => cli::eval::run(&args),
        Command::Inspect(args) => cli::model_io::inspect(&args),
        Command::Encode(args) => cli::model_io::encode(&args),
        Command::Decode(args) => cli::model_io::decode(&args),
        Command::Render(args) => cli::render::render(&args),
        Command::Cross(args) => cli::render::cross(&args),
        Command::Transcribe(args) => cli::transcribe::run(&args),
        Command::Timbre(args) => cli::timbre::run(&args),
        Command::Path(args) => cli::path::run(&args),
        Command::AgentSim(args) => cli::agent_sim::run(&args),
        Command::Sps(args) => cli::sps::run(&args),
        Command::Patches(args) => cli::patches::run(&args),
        Command::Motifs(args) => cli::motifs::run(&args),
        Command::MotifSpace(args) => cli::motif_space::run(&args),
        Command::Stargate(args) => cli::stargate::run(&args),
        Command::Mixing(args) => cli::mixing::run(&args),
    }
}

/// Use every core for matrix products but keep candle's element-wise pool to one thread: its
/// workers spin after each op and steal cores from the matrix products (NOTES). A user's own
/// settings win.
fn configure_threads() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (name, value) in [("RAYON_NUM_THREADS", cores), ("CANDLE_NUM_THREADS", 1)] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value.to_string());
        }
    }
}
