//! Dataset import: labels from names, folders and CSV, every bad-input case, and the split.

mod common;

use std::path::Path;

use common::{options, temp_dir, RATE};
use timbrespace_models::audio_file::{write_wav, MonoAudio};
use timbrespace_models::dataset::{
    select_frames, Dataset, DatasetError, DatasetOptions, FrameSelection,
};
use timbrespace_models::labels::{labels_from_path, parse_note, read_label_csv, LabelError};

fn tone(freq: f32, seconds: f32, rate: u32) -> Vec<f32> {
    let n = (seconds * rate as f32) as usize;
    (0..n)
        .map(|i| 0.4 * (std::f32::consts::TAU * freq * i as f32 / rate as f32).sin())
        .collect()
}

/// A 16-bit mono AIFF file, written by hand (no crate writes AIFF).
fn write_aiff(path: &Path, samples: &[f32], rate: u32) {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|s| ((s * 32767.0) as i16).to_be_bytes())
        .collect();
    // Sample rate as an 80-bit IEEE extended float.
    let exponent = 31 - rate.leading_zeros();
    let mantissa = u64::from(rate) << (63 - exponent);
    let mut comm = Vec::new();
    comm.extend(1u16.to_be_bytes());
    comm.extend((samples.len() as u32).to_be_bytes());
    comm.extend(16u16.to_be_bytes());
    comm.extend((16383 + exponent as u16).to_be_bytes());
    comm.extend(mantissa.to_be_bytes());
    let mut body = b"AIFF".to_vec();
    body.extend(b"COMM");
    body.extend((comm.len() as u32).to_be_bytes());
    body.extend(comm);
    body.extend(b"SSND");
    body.extend((data.len() as u32 + 8).to_be_bytes());
    body.extend([0u8; 8]);
    body.extend(data);
    let mut file = b"FORM".to_vec();
    file.extend((body.len() as u32).to_be_bytes());
    file.extend(body);
    std::fs::write(path, file).expect("writes AIFF");
}

#[test]
fn note_names_dynamics_and_instruments_come_from_paths() {
    assert_eq!(parse_note("C#4"), Some(("C#".into(), 4)));
    assert_eq!(parse_note("Bb2"), Some(("A#".into(), 2)));
    assert_eq!(parse_note("Cb4"), Some(("B".into(), 3)));
    assert_eq!(parse_note("cello"), None);
    let root = Path::new("/data");
    let labels =
        labels_from_path(Path::new("/data/Trumpet/Trumpet_C#4_mf.wav"), root).expect("parses");
    assert_eq!(labels["instrument"], "Trumpet");
    assert_eq!(
        (
            labels["pitch"].as_str(),
            labels["octave"].as_str(),
            labels["dynamics"].as_str()
        ),
        ("C#", "4", "mf")
    );
    let midi = labels_from_path(Path::new("/data/piano_060_pp.flac"), root).expect("parses");
    assert_eq!(
        (midi["pitch"].as_str(), midi["octave"].as_str()),
        ("C", "4")
    );
    assert!(
        !midi.contains_key("instrument"),
        "a file directly in the dataset folder has no instrument"
    );
    let take = labels_from_path(Path::new("/data/kick_01.wav"), root).expect("parses");
    assert!(take.is_empty(), "take numbers are not MIDI keys: {take:?}");
    let contradiction = labels_from_path(Path::new("/data/flute_C4_D4.wav"), root);
    assert!(matches!(
        contradiction,
        Err(LabelError::Contradiction { .. })
    ));
}

#[test]
fn csv_labels_merge_and_contradictions_are_errors() {
    let scratch = temp_dir("csv");
    let dir = scratch.path();
    let csv = dir.join("labels.csv");
    std::fs::write(
        &csv,
        "file,note,dynamics,bow\na.wav,A3,pp,sul tasto\nb.wav,,ff,\n",
    )
    .expect("writes");
    let table = read_label_csv(&csv).expect("reads");
    assert_eq!(table["a.wav"]["pitch"], "A");
    assert_eq!(table["a.wav"]["bow"], "sul tasto");
    assert!(
        !table["b.wav"].contains_key("pitch"),
        "empty cells are missing labels"
    );
    std::fs::write(&csv, "file,note\na.wav,A3\na.wav,B3\n").expect("writes");
    assert!(matches!(
        read_label_csv(&csv),
        Err(LabelError::Contradiction { .. })
    ));
    std::fs::write(&csv, "name,note\na.wav,A3\n").expect("writes");
    assert!(matches!(read_label_csv(&csv), Err(LabelError::Csv { .. })));
    // A CSV that disagrees with a file name is refused at import.
    write_wav(
        &dir.join("violin_C4.wav"),
        &MonoAudio {
            samples: tone(261.6, 0.3, RATE),
            rate: RATE,
        },
    )
    .expect("writes");
    std::fs::write(&csv, "file,note\nviolin_C4.wav,D4\n").expect("writes");
    let opts = DatasetOptions {
        labels_csv: Some(csv),
        ..options()
    };
    assert!(matches!(
        Dataset::import(dir, &opts),
        Err(DatasetError::Labels(_))
    ));
}

#[test]
fn import_resamples_mixes_down_skips_corrupt_files_and_splits_by_file() {
    let scratch = temp_dir("import");
    let dir = scratch.path();
    for (i, inst) in ["Flute", "Oboe"].iter().enumerate() {
        std::fs::create_dir_all(dir.join(inst)).expect("folder");
        for (k, note) in ["A4", "C5", "E5"].iter().enumerate() {
            let freq = 440.0 * 2f32.powf(k as f32 * 4.0 / 12.0);
            // Files at another rate, which the importer must resample.
            write_wav(
                &dir.join(inst).join(format!("{inst}_{note}_mf.wav")),
                &MonoAudio {
                    samples: tone(freq * (1 + i) as f32, 0.4, 16_000),
                    rate: 16_000,
                },
            )
            .expect("writes");
        }
    }
    write_aiff(
        &dir.join("Flute/Flute_G4_p.aiff"),
        &tone(392.0, 0.4, 11_025),
        11_025,
    );
    std::fs::write(
        dir.join("Oboe/broken_B4.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunk",
    )
    .expect("writes");
    std::fs::write(dir.join("notes.txt"), "not audio").expect("writes");
    let dataset = Dataset::import(dir, &options()).expect("imports");
    assert_eq!(dataset.files.len(), 7, "six WAVs and one AIFF");
    assert_eq!(dataset.skipped.len(), 1);
    assert!(dataset.skipped[0].0.ends_with("broken_B4.wav"));
    assert_eq!(dataset.signal.sample_rate, RATE);
    let names: Vec<&str> = dataset.label_sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["pitch", "octave", "dynamics", "instrument"]);
    // The AIFF tone at G4 (392 Hz) peaks in the right bin after resampling to 8 kHz.
    let aiff = dataset
        .files
        .iter()
        .find(|f| f.path.extension().is_some_and(|e| e == "aiff"))
        .expect("AIFF imported");
    let frame = dataset.frame(aiff.frames.start + 1);
    let peak = frame
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, _)| k)
        .expect("bins");
    assert_eq!(peak, (392.0f32 * 256.0 / RATE as f32).round() as usize);

    let split = dataset.split(0.3, 9).expect("splits");
    assert!(split
        .train_files
        .iter()
        .all(|f| !split.test_files.contains(f)));
    assert_eq!(
        split.train_files.len() + split.test_files.len(),
        dataset.files.len()
    );
    let owner = dataset.frame_files();
    assert!(split
        .test
        .iter()
        .all(|&i| split.test_files.contains(&owner[i])));
    assert!(split
        .train
        .iter()
        .all(|&i| split.train_files.contains(&owner[i])));
    assert_eq!(
        split.test_files,
        dataset.split(0.3, 9).expect("splits").test_files,
        "seeded"
    );
}

#[test]
fn missing_and_empty_folders_are_clear_errors() {
    let missing = Dataset::import(Path::new("/nonexistent/sounds"), &options());
    assert!(matches!(missing, Err(DatasetError::NotAFolder(_))));
    let scratch = temp_dir("empty");
    let dir = scratch.path();
    std::fs::write(dir.join("readme.txt"), "nothing here").expect("writes");
    std::fs::write(dir.join("silence.wav"), b"").expect("writes");
    match Dataset::import(dir, &options()) {
        Err(DatasetError::Empty {
            found: 1,
            skipped: 1,
            ..
        }) => {}
        other => panic!("expected an empty-dataset error, got {other:?}"),
    }
}

#[test]
fn frame_selection_keeps_loud_or_sustained_frames() {
    // Attack, sustain, release, silence.
    let energies = [0.01, 0.5, 1.0, 0.9, 0.95, 0.8, 0.2, 0.001, 0.0];
    assert_eq!(
        select_frames(&energies, FrameSelection::Energy, 10.0),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        select_frames(&energies, FrameSelection::Stationary, 0.0),
        vec![3, 4, 5]
    );
    assert!(select_frames(&[0.0; 4], FrameSelection::Energy, 40.0).is_empty());
}
