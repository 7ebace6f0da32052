//! Phase-gradient heap integration over a grid of cells (frames × bins), shared by the real-time
//! two-frame RTPGHI and offline PGHI: starting from the loudest known cells, each cell popped from
//! the priority queue passes its phase to its unknown neighbours with a trapezoidal step of the gradient.

use std::f32::consts::TAU;
use std::ops::Range;

use super::queue::BucketQueue;

/// Reduces a phase to [0, 2π) (cheaper than `rem_euclid`, which calls fmod).
pub(crate) fn wrap_phase(phase: f32) -> f32 {
    phase - TAU * (phase * (1.0 / TAU)).floor()
}

/// Where a cell stands in the integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    /// Significant and still without a phase.
    Unknown,
    /// Has its phase and may pass it on.
    Done,
    /// Below the tolerance: random phase, never passes it on.
    Random,
}

/// One integration's grid: all slices have `frames × bins` cells, frame after frame.
pub(crate) struct Field<'a> {
    /// Bins per frame.
    pub bins: usize,
    /// Log-magnitudes: the priority of each cell.
    pub log_mag: &'a [f32],
    /// Per-hop phase advance of each cell (see `PhaseGradient::time_advance`).
    pub time_advance: &'a [f32],
    /// Per-bin phase step of each cell (see `PhaseGradient::freq_step`).
    pub freq_step: &'a [f32],
    /// Phases: read for `Done` cells, written for cells that become `Done`.
    pub phase: &'a mut [f32],
    /// Each cell's state.
    pub state: &'a mut [Cell],
}

/// The heap integrator, with its priority queue allocated for a fixed number of cells.
pub(crate) struct HeapIntegrator {
    queue: BucketQueue,
}

impl HeapIntegrator {
    /// An integrator for grids of at most `cells` cells.
    pub fn new(cells: usize) -> Self {
        Self {
            queue: BucketQueue::with_capacity(cells),
        }
    }

    /// Gives every `Unknown` cell a phase. `key_range` bounds the log-magnitudes that matter
    /// (tolerance floor, loudest). Integration starts from the `Done` cells among `seeds`;
    /// whenever the queue runs dry, `next_island` names the loudest `Unknown` cell left (or
    /// `None` when there is none), which starts a new island with phase 0.
    pub fn run(
        &mut self,
        field: &mut Field<'_>,
        key_range: (f32, f32),
        seeds: Range<usize>,
        mut next_island: impl FnMut(&[Cell]) -> Option<usize>,
    ) {
        self.queue.clear(key_range.0, key_range.1);
        for cell in seeds {
            if field.state[cell] == Cell::Done {
                self.queue.push(field.log_mag[cell], cell as u32);
            }
        }
        loop {
            while let Some(cell) = self.queue.pop() {
                self.spread(field, cell as usize);
            }
            match next_island(field.state) {
                Some(cell) => {
                    field.phase[cell] = 0.0;
                    field.state[cell] = Cell::Done;
                    self.queue.push(field.log_mag[cell], cell as u32);
                }
                None => break,
            }
        }
    }

    /// Passes the phase of `cell` to its unknown neighbours in time and frequency.
    fn spread(&mut self, field: &mut Field<'_>, cell: usize) {
        let bins = field.bins;
        let cells = field.state.len();
        let bin = cell % bins;
        let phase = field.phase[cell];
        let along_time = |f: &Field<'_>, n: usize| 0.5 * (f.time_advance[cell] + f.time_advance[n]);
        let along_freq = |f: &Field<'_>, n: usize| 0.5 * (f.freq_step[cell] + f.freq_step[n]);
        let settle = |field: &mut Field<'_>, n: usize, value: f32, queue: &mut BucketQueue| {
            // Kept in [0, 2π) so long integrations do not lose f32 precision.
            field.phase[n] = wrap_phase(value);
            field.state[n] = Cell::Done;
            queue.push(field.log_mag[n], n as u32);
        };
        if cell + bins < cells && field.state[cell + bins] == Cell::Unknown {
            let n = cell + bins;
            settle(field, n, phase + along_time(field, n), &mut self.queue);
        }
        if cell >= bins && field.state[cell - bins] == Cell::Unknown {
            let n = cell - bins;
            settle(field, n, phase - along_time(field, n), &mut self.queue);
        }
        if bin + 1 < bins && field.state[cell + 1] == Cell::Unknown {
            let n = cell + 1;
            settle(field, n, phase + along_freq(field, n), &mut self.queue);
        }
        if bin > 0 && field.state[cell - 1] == Cell::Unknown {
            let n = cell - 1;
            settle(field, n, phase - along_freq(field, n), &mut self.queue);
        }
    }
}
