//! A time-frequency grid: `frames` rows of `bins` values, stored frame after frame.

use crate::error::EngineError;

/// Frames × bins values, row-major by frame. Magnitude spectrograms are `TfGrid<f32>`,
/// complex spectrograms `TfGrid<Complex32>`.
#[derive(Debug, Clone, PartialEq)]
pub struct TfGrid<T> {
    bins: usize,
    frames: usize,
    data: Vec<T>,
}

impl<T: Copy + Default> TfGrid<T> {
    /// A grid filled with `T::default()`.
    pub fn zeros(frames: usize, bins: usize) -> Self {
        Self {
            bins,
            frames,
            data: vec![T::default(); frames * bins],
        }
    }

    /// Wraps frame-major data; fails when its length is not `frames * bins`.
    pub fn from_vec(frames: usize, bins: usize, data: Vec<T>) -> Result<Self, EngineError> {
        if data.len() != frames * bins {
            return Err(EngineError::Shape(format!(
                "{} values for {frames} frames of {bins} bins",
                data.len()
            )));
        }
        Ok(Self { bins, frames, data })
    }

    /// Number of frequency bins per frame.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Frame `j`.
    pub fn frame(&self, j: usize) -> &[T] {
        &self.data[j * self.bins..(j + 1) * self.bins]
    }

    /// Frame `j`, mutable.
    pub fn frame_mut(&mut self, j: usize) -> &mut [T] {
        &mut self.data[j * self.bins..(j + 1) * self.bins]
    }

    /// All values, frame after frame.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// All values, frame after frame, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Applies `f` to every value.
    pub fn map<U: Copy + Default>(&self, f: impl Fn(T) -> U) -> TfGrid<U> {
        TfGrid {
            bins: self.bins,
            frames: self.frames,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }
}
