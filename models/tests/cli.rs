//! Smoke tests of the `timbrespace` command on tiny inputs: every subcommand runs, writes what
//! it says, and bad input gives a message that says what to do.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::temp_dir;
use timbrespace_engine::model::ModelFile;
use timbrespace_models::audio_file::read_wav;

fn timbrespace(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_timbrespace"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs")
}

fn ok(args: &[&str], dir: &Path) -> String {
    let out = timbrespace(args, dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "timbrespace {args:?} failed:\n{text}");
    text
}

fn fails(args: &[&str], dir: &Path) -> String {
    let out = timbrespace(args, dir);
    assert!(!out.status.success(), "timbrespace {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_command_works_on_a_tiny_model() {
    let scratch = temp_dir("cli");
    let dir = scratch.path();
    ok(
        &[
            "dataset",
            "toy",
            "fm",
            "--out",
            "toy",
            "--count",
            "16",
            "--seconds",
            "0.3",
            "--rate",
            "8000",
        ],
        dir,
    );
    assert!(dir.join("toy/labels.csv").exists());
    let small = [
        "--rate",
        "8000",
        "--n-fft",
        "256",
        "--hop",
        "64",
        "--max-frames-per-file",
        "4",
    ];
    let mut train = vec![
        "train", "toy", "--out", "m.tsm", "--latent", "3", "--hidden", "32", "--epochs", "3",
        "--batch", "16", "--quiet",
    ];
    train.extend(small);
    let text = ok(&train, dir);
    assert!(
        text.contains("frames/s") && text.contains("better than PCA"),
        "{text}"
    );
    let model = ModelFile::load(&dir.join("m.tsm")).expect("a valid model");
    assert_eq!(model.manifest.architecture.latent, 3);
    assert!(model.manifest.scores.contains_key("test_sc_db"));
    assert!(
        !dir.join("m.ckpt").exists(),
        "the finished model replaces its checkpoint"
    );

    let text = ok(&["inspect", "m.tsm"], dir);
    assert!(
        text.contains("latent 3") && text.contains("projection  ica"),
        "{text}"
    );
    ok(
        &["encode", "m.tsm", "toy/tone00000.wav", "--out", "z.csv"],
        dir,
    );
    let rows = std::fs::read_to_string(dir.join("z.csv"))
        .expect("csv")
        .lines()
        .count();
    assert!(rows > 10, "one row per frame plus a header: {rows}");
    ok(
        &[
            "decode",
            "m.tsm",
            "z.csv",
            "--out",
            "decoded.wav",
            "--phase",
            "rtpghi-1",
        ],
        dir,
    );
    ok(
        &[
            "render",
            "m.tsm",
            "--from",
            "-1,0,0",
            "--to",
            "1,0,0",
            "--seconds",
            "0.5",
            "--out",
            "r.wav",
            "--rate",
            "16000",
        ],
        dir,
    );
    let render = read_wav(&dir.join("r.wav")).expect("wav");
    assert_eq!(render.rate, 16_000);
    assert!(render.samples.len() >= 8_000 && render.samples.iter().all(|s| s.is_finite()));
    ok(
        &[
            "render",
            "m.tsm",
            "--morph",
            "toy/tone00001.wav",
            "toy/tone00002.wav",
            "--seconds",
            "0.3",
            "--out",
            "morph.wav",
        ],
        dir,
    );
    ok(
        &["cross", "m.tsm", "toy/tone00003.wav", "--out", "cross.wav"],
        dir,
    );
    // The toy labels name notes, so the model learned pitch symbols: read a sound back as
    // symbols, and play a MIDI file through the note player.
    ok(
        &["transcribe", "m.tsm", "toy/tone00001.wav", "--out", "t.csv"],
        dir,
    );
    let csv = std::fs::read_to_string(dir.join("t.csv")).expect("csv");
    assert!(
        csv.lines().next().is_some_and(|h| h.contains("pitch")) && csv.lines().count() > 10,
        "{csv}"
    );
    let phrase = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/phrase.mid");
    let phrase = phrase.to_str().expect("a UTF-8 path");
    ok(
        &["render", "m.tsm", "--midi", phrase, "--out", "phrase.wav"],
        dir,
    );
    let rendered = read_wav(&dir.join("phrase.wav")).expect("a WAV file");
    let peak = rendered.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(
        rendered.samples.len() > rendered.rate as usize && peak > 1e-4 && peak.is_finite(),
        "the phrase is seconds of sound, not silence: peak {peak}"
    );
    let message = fails(
        &["render", "m.tsm", "--midi", phrase, "--channel", "16"],
        dir,
    );
    assert!(message.contains("no notes on channel 16"), "{message}");
    let message = fails(
        &["render", "m.tsm", "--midi", "t.csv", "--out", "x.wav"],
        dir,
    );
    assert!(
        message.contains("not a valid standard MIDI file"),
        "{message}"
    );
    ok(&["eval", "m.tsm", "toy", "--out", "eval"], dir);
    for file in [
        "report.json",
        "curves.png",
        "descriptor_centroid.png",
        "descriptor_loudness.png",
        "latent_pitch.png",
        "latent_index.png",
    ] {
        assert!(
            dir.join("eval")
                .join(file)
                .metadata()
                .is_ok_and(|m| m.len() > 100),
            "{file}"
        );
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("eval/report.json")).expect("json"))
            .expect("parses");
    assert!(report["reconstruction"]["vae"]["spectral_convergence_db"].is_number());

    // A descriptor path: one target per hop, rendered, with the achieved curve beside it.
    let curve: String = (0..40).map(|h| format!("{}\n", 600 + 10 * h)).collect();
    std::fs::write(dir.join("curve.csv"), curve).expect("writes");
    let text = ok(
        &[
            "path",
            "m.tsm",
            "--from",
            "toy/tone00001.wav",
            "--target",
            "curve.csv",
            "--out",
            "path.wav",
        ],
        dir,
    );
    assert!(text.contains("of hops within 10 %"), "{text}");
    let achieved = std::fs::read_to_string(dir.join("path.csv")).expect("the achieved curve");
    assert_eq!(achieved.lines().count(), 41, "a header and one row per hop");
    assert!(read_wav(&dir.join("path.wav")).is_ok_and(|w| w.samples.iter().all(|s| s.is_finite())));
    let message = fails(
        &[
            "path",
            "m.tsm",
            "--target",
            "curve.csv",
            "--descriptor",
            "pitchiness",
        ],
        dir,
    );
    assert!(message.contains("choose one of centroid"), "{message}");
    // The toy model knows no instruments, so it has no timbre space to place sounds in.
    let message = fails(&["timbre", "m.tsm", "toy"], dir);
    assert!(message.contains("without instrument labels"), "{message}");
    let message = fails(&["train", "toy", "--perceptual", "student-t"], dir);
    assert!(
        message.contains("at least 3 of the rated instruments"),
        "{message}"
    );

    // Bad input: clear messages, no panics.
    assert!(fails(&["train", "missing-folder"], dir).contains("does not exist"));
    std::fs::write(dir.join("junk.tsm"), b"definitely not a model").expect("writes");
    let message = fails(&["inspect", "junk.tsm"], dir);
    assert!(
        message.contains("truncated") || message.contains("not a Timbrespace model"),
        "{message}"
    );
    let message = fails(&["render", "m.tsm", "--from", "1,2", "--to", "3,4"], dir);
    assert!(message.contains("3 comma-separated values"), "{message}");
    let message = fails(&["render", "m.tsm", "--transpose", "2"], dir);
    assert!(message.contains("train it with --factorise"), "{message}");
    let message = fails(&["render", "m.tsm", "--transpose", "60"], dir);
    assert!(message.contains("semitones within ±48"), "{message}");
    assert!(fails(&["train", "toy", "--latent", "100"], dir).contains("2–64"));
    // The patch model: both halves of the soft factorisation, with and without the term.
    let patches = |extra: &[&'static str]| -> Vec<&str> {
        let rest = [
            "--latent",
            "3",
            "--epochs",
            "2",
            "--max-pitch",
            "4",
            "--max-time",
            "2",
        ];
        [&["patches", "toy"][..], &small, &rest, extra].concat()
    };
    let text = ok(
        &patches(&["--patch-frames", "8", "--sigreg", "10", "--out", "patches"]),
        dir,
    );
    assert!(text.contains("mean |cos| pitch vs time"), "{text}");
    assert!(dir.join("patches/patches.json").exists());
    assert!(dir.join("patches/patch_moves.png").exists());
    let message = fails(&patches(&["--patch-frames", "2"]), dir);
    assert!(message.contains("time shifts shorter than it"), "{message}");
    assert!(!fails(&["decode", "m.tsm", "nope.csv"], dir).contains("panicked"));
}
