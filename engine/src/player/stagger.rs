//! Staggered voice hops. Every voice does its heavy work (decoding, phase reconstruction,
//! IFFT) once per hop; if all the notes of a chord stepped at the same instant, that work
//! would land in one short host block and overrun it while the blocks around it idle. Voices
//! therefore step on one of [`GROUPS`] grids a fraction of a hop apart: a new note waits
//! (silently) for its grid, and its output is delayed by the rest of the hop, so every note
//! still sounds exactly one hop after its note-on, to the sample. Voices on the same grid
//! step together and decode in one batch.

/// Step grids per hop.
pub const GROUPS: usize = 4;

/// Where a new note starts: its grid, the silent wait before its first step and the delay
/// of its output (`wait + delay` is always one hop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// Grid index.
    pub group: usize,
    /// Samples before the first step.
    pub wait: usize,
    /// Samples the output is delayed by.
    pub delay: usize,
}

/// The start of a note at model sample `now` on the grid with the fewest sounding voices
/// (`load[g]`), the earliest of those on a tie.
pub fn start(now: u64, hop: usize, load: &[usize; GROUPS]) -> Start {
    let hop = hop.max(1);
    let phase = (now % hop as u64) as usize;
    let wait_for = |g: usize| (g * hop / GROUPS + hop - phase) % hop;
    let group = (0..GROUPS)
        .min_by_key(|&g| (load[g], wait_for(g)))
        .unwrap_or(0);
    let wait = wait_for(group);
    Start {
        group,
        wait,
        delay: hop - wait,
    }
}

/// A delay of up to one hop, allocated when built.
#[derive(Debug, Clone)]
pub struct DelayLine {
    /// Ring of delayed samples (one hop long).
    ring: Vec<f32>,
    /// The current delay, 1..=ring length.
    len: usize,
    /// Read/write position.
    pos: usize,
}

impl DelayLine {
    /// A silent delay line of up to `max` samples.
    pub fn new(max: usize) -> Self {
        Self {
            ring: vec![0.0; max.max(1)],
            len: max.max(1),
            pos: 0,
        }
    }

    /// Clears it and sets the delay to `len` samples (clamped to 1..=max).
    pub fn restart(&mut self, len: usize) {
        self.ring.fill(0.0);
        self.len = len.clamp(1, self.ring.len());
        self.pos = 0;
    }

    /// Pushes `x` in and returns the sample from `len` samples ago.
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.ring[self.pos];
        self.ring[self.pos] = x;
        self.pos += 1;
        if self.pos == self.len {
            self.pos = 0;
        }
        y
    }
}

/// Gate changes of an envelope that take effect a fixed number of samples after their event
/// (the envelope shapes the delayed sound, so its gate is delayed as much).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateTimer {
    /// Samples until the gate opens.
    on_in: Option<usize>,
    /// Samples until the gate closes.
    off_in: Option<usize>,
}

/// What happens to the gate at a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Nothing.
    Hold,
    /// The note's sound begins.
    Open,
    /// The note is released.
    Close,
}

impl GateTimer {
    /// Opens the gate in `samples` (and forgets a pending close).
    pub fn open_in(&mut self, samples: usize) {
        *self = Self {
            on_in: Some(samples),
            off_in: None,
        };
    }

    /// Closes the gate in `samples`, unless a close is already pending.
    pub fn close_in(&mut self, samples: usize) {
        if self.off_in.is_none() {
            self.off_in = Some(samples);
        }
    }

    /// Forgets everything pending.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The gate opens later: the note has not begun to sound yet.
    pub fn opening(&self) -> bool {
        self.on_in.is_some()
    }

    /// Advances one sample.
    pub fn tick(&mut self) -> Gate {
        let due = |t: &mut Option<usize>| match t {
            Some(0) => {
                *t = None;
                true
            }
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        };
        match (due(&mut self.on_in), due(&mut self.off_in)) {
            // Both at once: open now, close at the next sample.
            (true, true) => {
                self.off_in = Some(0);
                Gate::Open
            }
            (true, false) => Gate::Open,
            (false, true) => Gate::Close,
            (false, false) => Gate::Hold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_spread_over_the_grids_and_always_sound_one_hop_later() {
        let mut load = [0; GROUPS];
        for _ in 0..8 {
            let s = start(1000, 256, &load);
            assert_eq!(s.wait + s.delay, 256);
            assert_eq!((1000 + s.wait as u64) % 64, 0, "steps on a grid");
            load[s.group] += 1;
        }
        assert_eq!(load, [2; GROUPS], "a chord of 8 uses every grid twice");
    }

    #[test]
    fn the_delay_line_delays_exactly() {
        let mut d = DelayLine::new(8);
        d.restart(3);
        let out: Vec<f32> = (1..=6).map(|x| d.process(x as f32)).collect();
        assert_eq!(out, [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn gates_fire_after_their_delay() {
        let mut g = GateTimer::default();
        g.open_in(2);
        g.close_in(4);
        let events: Vec<Gate> = (0..6).map(|_| g.tick()).collect();
        assert_eq!(
            events,
            [
                Gate::Hold,
                Gate::Hold,
                Gate::Open,
                Gate::Hold,
                Gate::Close,
                Gate::Hold
            ]
        );
    }
}
