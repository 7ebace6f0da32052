//! The shifts the soft factorisation compares: transpositions (along log-frequency) and, for
//! multi-frame patches, time shifts, each by whole bins or frames, zero-filled, never wrapping.

/// Default log-frequency resolution: quarter tones.
pub const BINS_PER_OCTAVE: usize = 24;

/// Which axis a shift moves along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShiftKind {
    /// Along log-frequency: a transposition.
    Pitch,
    /// Along time, by whole frames.
    Time,
}

/// A shift by a whole number of bins (pitch) or frames (time); never 0 in a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    /// The axis.
    pub kind: ShiftKind,
    /// Signed size: up in pitch or later in time when positive.
    pub amount: i32,
}

impl Shift {
    /// A transposition by `amount` log-frequency bins.
    pub fn pitch(amount: i32) -> Self {
        Self {
            kind: ShiftKind::Pitch,
            amount,
        }
    }

    /// A shift by `amount` frames.
    pub fn time(amount: i32) -> Self {
        Self {
            kind: ShiftKind::Time,
            amount,
        }
    }

    /// The signed transposition in bins (0 for a time shift).
    pub fn pitch_amount(self) -> i32 {
        match self.kind {
            ShiftKind::Pitch => self.amount,
            ShiftKind::Time => 0,
        }
    }

    /// The signed time shift in frames (0 for a transposition).
    pub fn time_amount(self) -> i32 {
        match self.kind {
            ShiftKind::Time => self.amount,
            ShiftKind::Pitch => 0,
        }
    }
}

/// The cosine wanted between the latent moves of two shifts (the notebook's targets): +1 when
/// they are of the same kind and go the same way, −1 the same kind opposite ways, 0 when one
/// is a transposition and the other a time shift.
pub fn pair_target(first: Shift, second: Shift) -> f32 {
    if first.kind != second.kind {
        0.0
    } else if (first.amount > 0) == (second.amount > 0) {
        1.0
    } else {
        -1.0
    }
}

/// A random non-zero shift of at most `max` either way.
pub fn random_shift(rng: &mut fastrand::Rng, max: usize) -> i32 {
    let size = rng.usize(1..=max.max(1)) as i32;
    if rng.bool() {
        size
    } else {
        -size
    }
}

/// `frame` transposed by `shift` bins of a log-frequency grid with `bins_per_octave` bins per
/// octave, written to `out` (same length): `out[k] = frame[k / r]` with r = 2^(shift/B),
/// interpolated linearly, zero where `k / r` lies beyond the last bin. This is the log-frequency
/// view's shift mapped back to a linear STFT frame, without the loss of resolution a coarse
/// constant-Q grid would bring at high frequencies.
pub fn transpose(frame: &[f32], shift: i32, bins_per_octave: usize, out: &mut [f32]) {
    let ratio = 2f64.powf(f64::from(shift) / bins_per_octave.max(1) as f64);
    let last = frame.len().saturating_sub(1);
    for (k, o) in out.iter_mut().enumerate() {
        let source = k as f64 / ratio;
        let below = source.floor() as usize;
        *o = if below > last || frame.is_empty() {
            0.0
        } else if below == last {
            if source - below as f64 > 1e-9 {
                0.0
            } else {
                frame[last]
            }
        } else {
            let t = (source - below as f64) as f32;
            frame[below] * (1.0 - t) + frame[below + 1] * t
        };
    }
}

/// A patch of `frames × bins` values (row-major, a row per frame, bins along log-frequency)
/// moved by `shift`, written to `out`: `out[t][k] = patch[t − time][k − pitch]`, zero where that
/// lies outside the patch. Exact: whole bins and frames, nothing wraps.
pub fn shift_patch(patch: &[f32], bins: usize, shift: Shift, out: &mut [f32]) {
    let frames = patch.len() / bins.max(1);
    let (dt, dk) = (shift.time_amount() as isize, shift.pitch_amount() as isize);
    for t in 0..frames {
        let source_t = t as isize - dt;
        let row = &mut out[t * bins..(t + 1) * bins];
        if source_t < 0 || source_t >= frames as isize {
            row.fill(0.0);
            continue;
        }
        let source = &patch[source_t as usize * bins..(source_t as usize + 1) * bins];
        for (k, o) in row.iter_mut().enumerate() {
            let source_k = k as isize - dk;
            *o = if source_k < 0 || source_k >= bins as isize {
                0.0
            } else {
                source[source_k as usize]
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposition_is_exact_on_the_grid_zero_filled_and_never_wraps() {
        let frame: Vec<f32> = (0..16).map(|k| 1.0 + k as f32).collect();
        let mut out = vec![f32::NAN; 16];
        // One octave up at 24 bins per octave: bin 2k takes bin k exactly; the top half of
        // the source is gone (nothing wraps round to the bottom).
        transpose(&frame, 24, 24, &mut out);
        for k in 0..8 {
            assert_eq!(out[2 * k], frame[k]);
            assert_eq!(out[2 * k + 1], 0.5 * (frame[k] + frame[k + 1]));
        }
        // One octave down: bin k takes bin 2k; above half the bins there is no source: zeros.
        transpose(&frame, -24, 24, &mut out);
        for k in 0..8 {
            assert_eq!(out[k], frame[2 * k]);
        }
        assert!(out[8..].iter().all(|&v| v == 0.0), "{out:?}");
        // No shift is the identity.
        transpose(&frame, 0, 24, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn patch_shifts_are_exact_zero_filled_and_never_wrap() {
        // 3 frames × 4 bins, value 10·t + k + 1.
        let patch: Vec<f32> = (0..3)
            .flat_map(|t| (0..4).map(move |k| (10 * t + k + 1) as f32))
            .collect();
        let cases: [(Shift, [f32; 12], &str); 4] = [
            (
                Shift::pitch(1),
                [0., 1., 2., 3., 0., 11., 12., 13., 0., 21., 22., 23.],
                "up one bin",
            ),
            (
                Shift::pitch(-2),
                [3., 4., 0., 0., 13., 14., 0., 0., 23., 24., 0., 0.],
                "down two bins",
            ),
            (
                Shift::time(1),
                [0., 0., 0., 0., 1., 2., 3., 4., 11., 12., 13., 14.],
                "one frame later",
            ),
            (
                Shift::time(-1),
                [11., 12., 13., 14., 21., 22., 23., 24., 0., 0., 0., 0.],
                "one frame earlier",
            ),
        ];
        let mut out = vec![f32::NAN; 12];
        for (shift, expected, name) in cases {
            shift_patch(&patch, 4, shift, &mut out);
            assert_eq!(out, expected, "{name}");
        }
        shift_patch(&patch, 4, Shift::time(5), &mut out);
        assert!(out.iter().all(|&v| v == 0.0), "past the end: {out:?}");
        shift_patch(&patch, 4, Shift::pitch(0), &mut out);
        assert_eq!(out, patch);
    }

    #[test]
    fn pairs_want_one_the_same_way_minus_one_opposite_and_zero_across_kinds() {
        let (p, t) = (Shift::pitch, Shift::time);
        assert_eq!(pair_target(p(3), p(1)), 1.0);
        assert_eq!(pair_target(p(-2), p(-5)), 1.0);
        assert_eq!(pair_target(p(2), p(-2)), -1.0);
        assert_eq!(pair_target(t(-1), t(4)), -1.0);
        assert_eq!(pair_target(t(2), t(1)), 1.0);
        assert_eq!(pair_target(p(2), t(2)), 0.0);
        assert_eq!(pair_target(t(-1), p(3)), 0.0);
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..200 {
            let s = random_shift(&mut rng, 6);
            assert!(s != 0 && s.abs() <= 6);
        }
    }
}
