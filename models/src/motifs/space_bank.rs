//! A motif bank for the instrument's *Motif* mode from a trained motif space: the decoder, the
//! codes of chosen training windows (spread along their first principal axis so neighbours are
//! alike) and the mean latent move of every transposition and time shift the space was trained
//! on; and how well those moves shift held-out motifs (onset F1 of the decoded moved code
//! against the exactly shifted window).

use candle_core::{Device, Tensor};
use serde::Serialize;
use timbrespace_engine::model::Tensor32;
use timbrespace_engine::motif::bank::MotifBank;
use timbrespace_engine::motif::space::{space_bank_bytes, SpaceHeader, SPACE_FORMAT};

use super::bank::spread_along_first_axis;
use super::onsets::OnsetScore;
use super::piano_roll::PianoRoll;
use super::space::{time_major, MotifSpace, MotifSpaceConfig, MotifSpaceError};
use crate::factorisation::{shift_patch, Shift, ShiftGrid};

/// Windows encoded at once (bounds candle's memory).
const CHUNK: usize = 256;

/// The mean latent move of each shift, measured on a set of windows.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceMoves {
    /// Per transposition from −max_pitch semitones up, `latent` values (the middle is 0).
    pub pitch: Vec<f32>,
    /// Per time shift from −max_time steps, `latent` values.
    pub time: Vec<f32>,
    /// Latent size.
    pub latent: usize,
}

impl SpaceMoves {
    /// The mean moves of `windows` under `model` for shifts up to `config`'s.
    pub fn measure(
        model: &MotifSpace,
        windows: &[PianoRoll],
        config: &MotifSpaceConfig,
    ) -> Result<Self, MotifSpaceError> {
        if windows.is_empty() {
            return Err(MotifSpaceError::NoWindows);
        }
        let grid = ShiftGrid::measure(
            &time_major(windows),
            model.steps(),
            model.rows(),
            (config.max_pitch, config.max_time),
            &|x| model.encode(x),
        )?;
        Ok(Self {
            pitch: grid.mean_moves(true),
            time: grid.mean_moves(false),
            latent: config.latent,
        })
    }

    /// The move of `shift` (within the measured range).
    fn of(&self, shift: Shift) -> &[f32] {
        let (moves, amount) = match shift.pitch_amount() {
            0 => (&self.time, shift.time_amount()),
            p => (&self.pitch, p),
        };
        let middle = moves.len() / self.latent / 2;
        let index = (middle as i32 + amount) as usize;
        &moves[index * self.latent..][..self.latent]
    }
}

/// How well one kind of shift is played by moving codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MoveScore {
    /// The code moved by the shift's mean move, decoded, against the shifted window.
    pub moved: OnsetScore,
    /// The shifted window encoded and decoded (what a perfect move could reach).
    pub encoded: OnsetScore,
    /// The unshifted window's code decoded (a move that does nothing).
    pub unmoved: OnsetScore,
}

/// [`MoveScore`]s of transpositions and time shifts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MoveScores {
    /// Transpositions by 1 to max_pitch semitones either way.
    pub pitch: MoveScore,
    /// Time shifts by 1 to max_time steps either way.
    pub time: MoveScore,
    /// Windows scored.
    pub windows: usize,
}

/// Scores `moves` on `windows`: every window at every non-zero shift of each kind.
pub fn score_moves(
    model: &MotifSpace,
    moves: &SpaceMoves,
    windows: &[PianoRoll],
) -> Result<MoveScores, MotifSpaceError> {
    let mut scores = MoveScores {
        pitch: MoveScore::default(),
        time: MoveScore::default(),
        windows: windows.len(),
    };
    let (rows, latent) = (model.rows(), moves.latent);
    let size = model.steps() * rows;
    let max_pitch = (moves.pitch.len() / latent / 2) as i32;
    let max_time = (moves.time.len() / latent / 2) as i32;
    let shifts = (1..=max_pitch)
        .flat_map(|s| [Shift::pitch(s), Shift::pitch(-s)])
        .chain((1..=max_time).flat_map(|s| [Shift::time(s), Shift::time(-s)]));
    for batch in windows.chunks(CHUNK) {
        let n = batch.len();
        let anchors = time_major(batch);
        let z = model.encode(&model.patches(batch)?)?;
        let codes = z.flatten_all()?.to_vec1::<f32>()?;
        let unmoved = model.onsets(&z)?;
        let mut shifted = vec![0.0; n * size];
        for shift in shifts.clone() {
            for (patch, out) in anchors
                .chunks_exact(size)
                .zip(shifted.chunks_exact_mut(size))
            {
                shift_patch(patch, rows, shift, out);
            }
            let step = moves.of(shift);
            let moved: Vec<f32> = codes
                .chunks_exact(latent)
                .flat_map(|c| c.iter().zip(step).map(|(a, b)| a + b))
                .collect();
            let moved = model.onsets(&Tensor::from_vec(moved, (n, latent), &Device::Cpu)?)?;
            let x = Tensor::from_slice(&shifted, (n, model.steps(), rows), &Device::Cpu)?;
            let encoded = model.onsets(&model.encode(&x)?)?;
            let score = if shift.pitch_amount() != 0 {
                &mut scores.pitch
            } else {
                &mut scores.time
            };
            score.moved.add(&moved, &shifted);
            score.encoded.add(&encoded, &shifted);
            score.unmoved.add(&unmoved, &shifted);
        }
    }
    Ok(scores)
}

/// What a motif-space bank is made of besides the model.
pub struct SpaceBankSpec<'a> {
    /// Windows the motifs are chosen from (training windows).
    pub windows: &'a [PianoRoll],
    /// The moves to store.
    pub moves: &'a SpaceMoves,
    /// Motifs in the bank (fewer if there are fewer windows).
    pub count: usize,
    /// MIDI key of row 0 at the reference root.
    pub lowest_key: u8,
    /// Where the motifs come from.
    pub source: String,
}

/// The bytes of a motif-space bank of `model` (trained with `config`) and how many motifs it
/// holds, checked by loading them the way the instrument will.
pub fn motif_space_bank(
    model: &MotifSpace,
    config: &MotifSpaceConfig,
    spec: &SpaceBankSpec,
) -> Result<(Vec<u8>, usize), MotifSpaceError> {
    let latent = config.latent;
    let mut codes = Vec::with_capacity(spec.windows.len() * latent);
    for batch in spec.windows.chunks(CHUNK) {
        codes.extend(
            model
                .encode(&model.patches(batch)?)?
                .flatten_all()?
                .to_vec1::<f32>()?,
        );
    }
    let chosen = spread_along_first_axis(&codes, latent, spec.count);
    if chosen.is_empty() {
        return Err(MotifSpaceError::NoWindows);
    }
    let chosen_codes: Vec<f32> = chosen
        .iter()
        .flat_map(|&i| codes[i * latent..][..latent].iter().copied())
        .collect();
    let header = SpaceHeader {
        format: SPACE_FORMAT,
        lowest_key: spec.lowest_key,
        rows: model.rows(),
        steps: model.steps(),
        latent,
        hidden: config.hidden,
        max_pitch: config.max_pitch,
        max_time: config.max_time,
        source: spec.source.clone(),
    };
    let moves =
        |values: &[f32]| Tensor32::new(vec![values.len() / latent, latent], values.to_vec());
    let bytes = space_bank_bytes(
        &header,
        model.decoder_tensors()?,
        Tensor32::new(vec![chosen.len(), latent], chosen_codes),
        moves(&spec.moves.pitch),
        moves(&spec.moves.time),
    )
    .map_err(|e| MotifSpaceError::Setting(e.to_string()))?;
    let bank = MotifBank::from_bytes(&bytes)
        .map_err(|e| MotifSpaceError::Setting(format!("the bank just made does not load: {e}")))?;
    Ok((bytes, bank.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motifs::space::train_motif_space;

    /// Windows of 12 rows × 8 steps with a few random onsets each.
    fn windows(count: usize, seed: u64) -> Vec<PianoRoll> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..count)
            .map(|_| {
                let mut roll = PianoRoll::empty(12, 8);
                for _ in 0..3 {
                    roll.set(rng.usize(3..9), rng.usize(0..8));
                }
                roll
            })
            .collect()
    }

    #[test]
    fn the_engine_decodes_the_bank_as_the_space_does_and_shifts_along_its_moves() {
        let config = MotifSpaceConfig {
            latent: 4,
            hidden: 16,
            max_pitch: 2,
            max_time: 2,
            epochs: 40,
            batch: 16,
            ..MotifSpaceConfig::default()
        };
        let train = windows(64, 1);
        let (model, _) = train_motif_space(&train, &config).expect("trained");
        let moves = SpaceMoves::measure(&model, &train, &config).expect("moves");
        // The zero shift does not move.
        assert!(moves.of(Shift::pitch(0)).iter().all(|&v| v == 0.0));
        let spec = SpaceBankSpec {
            windows: &train,
            moves: &moves,
            count: 5,
            lowest_key: 60,
            source: "test".into(),
        };
        let (bytes, count) = motif_space_bank(&model, &config, &spec).expect("bank");
        assert_eq!(count, 5);
        let bank = MotifBank::from_bytes(&bytes).expect("loads");
        assert_eq!((bank.rows(), bank.steps(), bank.len()), (12, 8, 5));
        // The first motif's code, as the bank stores it.
        let space =
            timbrespace_engine::motif::space::SpaceMotifs::from_bytes(&bytes).expect("space");
        let code = space.code(0).to_vec();
        let mut scratch = bank.scratch();
        let mut probabilities = vec![0.0; 96];
        // Pitch 3 and time 5 with moves learned up to 2: the space moves 2 semitones and 2
        // steps, the player transposes the other semitone and the loop turns 3 steps.
        assert_eq!(bank.exact_pitch(3), 1);
        bank.decode(0.0, (3, 5), &mut scratch, &mut probabilities);
        let moved: Vec<f32> = code
            .iter()
            .zip(moves.of(Shift::pitch(2)))
            .zip(moves.of(Shift::time(2)))
            .map(|((z, p), t)| z + p + t)
            .collect();
        let expected = model
            .probabilities(&Tensor::from_vec(moved, (1, 4), &Device::Cpu).expect("tensor"))
            .expect("probabilities");
        let mut worst = 0.0f32;
        for step in 0..8 {
            for row in 0..12 {
                let engine = probabilities[row * 8 + (step + 3) % 8];
                worst = worst.max((engine - expected[step * 12 + row]).abs());
            }
        }
        assert!(worst < 1e-4, "{probabilities:?} vs {expected:?}");
        // Not a trivial pattern: the cells differ.
        let spread = expected.iter().fold(0.0f32, |m, &p| m.max(p))
            - expected.iter().fold(1.0f32, |m, &p| m.min(p));
        assert!(spread > 0.05, "{expected:?}");
        // A damaged copy is refused, never a panic.
        assert!(MotifBank::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        assert!(MotifBank::from_bytes(b"").is_err());
    }

    #[test]
    fn moves_score_against_exactly_shifted_windows() {
        let config = MotifSpaceConfig {
            latent: 4,
            hidden: 16,
            max_pitch: 1,
            max_time: 1,
            epochs: 1,
            batch: 16,
            ..MotifSpaceConfig::default()
        };
        let train = windows(32, 2);
        let (model, _) = train_motif_space(&train, &config).expect("trained");
        let moves = SpaceMoves::measure(&model, &train, &config).expect("moves");
        let test = windows(10, 3);
        let scores = score_moves(&model, &moves, &test).expect("scores");
        // The truth is every window shifted one way and the other: transposed by a semitone
        // no onset leaves the rows; moved by a step, those on the first or last step leave.
        let onsets: usize = test.iter().map(PianoRoll::onset_count).sum();
        let edges: usize = test
            .iter()
            .map(|w| {
                (0..12).filter(|&r| w.onset(r, 0)).count()
                    + (0..12).filter(|&r| w.onset(r, 7)).count()
            })
            .sum();
        for (score, truth) in [
            (scores.pitch, 2 * onsets),
            (scores.time, 2 * onsets - edges),
        ] {
            for s in [score.moved, score.encoded, score.unmoved] {
                assert_eq!(s.true_positives + s.false_negatives, truth);
            }
        }
        assert_eq!(scores.windows, 10);
    }
}
