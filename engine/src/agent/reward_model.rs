//! The agent's model of the musician's reward, H(s, a) in TAMER's notation: a small
//! multilayer perceptron from the state (the explored latent coordinates, in units of the
//! span) to one predicted reward per action, plus a local correction per cell of a fine grid,
//! both trained online by weighted stochastic gradient descent on credited feedback. The
//! network generalises (feedback on a few moves shapes the value of every nearby state); the
//! correction sharpens what it cannot resolve, such as the edge of a small region the musician
//! likes, where one move more leaves it.

use std::collections::HashMap;

use super::novelty::cell_key;
use super::{ACTIONS, MAX_DIMS, SPAN};

/// Hidden units.
const HIDDEN: usize = 32;
/// Cells per dimension of the local correction's grid: a quarter σ, a default step.
const FINE_CELLS: usize = 24;
/// Learning rate of the local correction, relative to the network's.
const LOCAL_RATE: f32 = 4.0;

/// Predicted reward per action for every state.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardModel {
    /// Input → hidden weights, `HIDDEN × MAX_DIMS`.
    w1: Vec<f32>,
    /// Hidden biases.
    b1: Vec<f32>,
    /// Hidden → output weights, `ACTIONS × HIDDEN`.
    w2: Vec<f32>,
    /// Output biases (a move's value everywhere: what generalises first).
    b2: Vec<f32>,
    /// Local corrections by (fine cell, action) key.
    local: HashMap<u64, f32>,
}

/// How many numbers [`RewardModel::to_weights`] gives.
pub const WEIGHTS: usize = HIDDEN * MAX_DIMS + HIDDEN + ACTIONS * HIDDEN + ACTIONS;

impl RewardModel {
    /// Small random weights (seeded), predicting about 0 everywhere.
    pub fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut uniform = |n: usize, scale: f32| -> Vec<f32> {
            (0..n).map(|_| (rng.f32() * 2.0 - 1.0) * scale).collect()
        };
        Self {
            w1: uniform(HIDDEN * MAX_DIMS, (3.0 / MAX_DIMS as f32).sqrt()),
            b1: uniform(HIDDEN, 0.5),
            w2: uniform(ACTIONS * HIDDEN, 0.01),
            b2: vec![0.0; ACTIONS],
            local: HashMap::new(),
        }
    }

    /// The predicted reward of each action in `state`.
    pub fn predict(&self, state: &[f32; MAX_DIMS]) -> [f32; ACTIONS] {
        let hidden = self.hidden(state);
        let cell = local_cell(state);
        std::array::from_fn(|a| {
            self.output(&hidden, a) + self.local.get(&(cell | a as u64)).copied().unwrap_or(0.0)
        })
    }

    /// One gradient step toward `reward` for `action` in `state`, scaled by `weight` (its
    /// credit) and the learning rate `rate`. Returns the prediction before the step.
    pub fn learn(
        &mut self,
        state: &[f32; MAX_DIMS],
        action: usize,
        reward: f32,
        weight: f32,
        rate: f32,
    ) -> f32 {
        let hidden = self.hidden(state);
        let key = local_cell(state) | action.min(ACTIONS - 1) as u64;
        let local = self.local.get(&key).copied().unwrap_or(0.0);
        let predicted = self.output(&hidden, action) + local;
        let error = predicted - reward;
        if !error.is_finite() {
            return predicted;
        }
        let g = rate * weight * error;
        self.local.insert(key, local - LOCAL_RATE * g);
        let input = inputs(state);
        for (h, &activation) in hidden.iter().enumerate() {
            let w = &mut self.w2[action * HIDDEN + h];
            // Back through tanh with the output weight before its own update.
            let back = g * *w * (1.0 - activation * activation);
            *w -= g * activation;
            self.b1[h] -= back;
            for (i, x) in input.iter().enumerate() {
                self.w1[h * MAX_DIMS + i] -= back * x;
            }
        }
        self.b2[action] -= g;
        predicted
    }

    /// Every network weight in one list (for saving with the plugin state).
    pub fn to_weights(&self) -> Vec<f32> {
        [&self.w1[..], &self.b1, &self.w2, &self.b2].concat()
    }

    /// The local corrections, (key, value), for saving.
    pub fn corrections(&self) -> Vec<(u64, f32)> {
        let mut pairs: Vec<(u64, f32)> = self.local.iter().map(|(&k, &v)| (k, v)).collect();
        pairs.sort_unstable_by_key(|p| p.0);
        pairs
    }

    /// A model from [`RewardModel::to_weights`] and [`RewardModel::corrections`]; `None` if
    /// the weights do not fit or anything is not finite.
    pub fn from_weights(weights: &[f32], corrections: &[(u64, f32)]) -> Option<Self> {
        if weights.len() != WEIGHTS
            || weights.iter().any(|w| !w.is_finite())
            || corrections.iter().any(|c| !c.1.is_finite())
        {
            return None;
        }
        let (w1, rest) = weights.split_at(HIDDEN * MAX_DIMS);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, b2) = rest.split_at(ACTIONS * HIDDEN);
        Some(Self {
            w1: w1.to_vec(),
            b1: b1.to_vec(),
            w2: w2.to_vec(),
            b2: b2.to_vec(),
            local: corrections.iter().copied().collect(),
        })
    }

    fn hidden(&self, state: &[f32; MAX_DIMS]) -> [f32; HIDDEN] {
        let input = inputs(state);
        std::array::from_fn(|h| {
            let row = &self.w1[h * MAX_DIMS..(h + 1) * MAX_DIMS];
            let sum: f32 = row.iter().zip(&input).map(|(w, x)| w * x).sum();
            (sum + self.b1[h]).tanh()
        })
    }

    fn output(&self, hidden: &[f32; HIDDEN], action: usize) -> f32 {
        let row = &self.w2[action * HIDDEN..(action + 1) * HIDDEN];
        row.iter().zip(hidden).map(|(w, h)| w * h).sum::<f32>() + self.b2[action]
    }
}

/// The local correction's key of `state`'s cell; the action goes in the low 5 bits.
fn local_cell(state: &[f32; MAX_DIMS]) -> u64 {
    cell_key(state, MAX_DIMS, FINE_CELLS) << 5
}

/// The network's input: the state in units of the span, non-finite values as 0.
fn inputs(state: &[f32; MAX_DIMS]) -> [f32; MAX_DIMS] {
    std::array::from_fn(|i| {
        let x = state[i] / SPAN;
        if x.is_finite() {
            x.clamp(-1.5, 1.5)
        } else {
            0.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_reward_that_depends_on_the_state_and_round_trips() {
        // Action 1 is good left of 0 and bad right of it; action 2 the opposite.
        let mut model = RewardModel::new(3);
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..4000 {
            let mut s = [0.0; MAX_DIMS];
            s[0] = rng.f32() * 6.0 - 3.0;
            let sign = if s[0] < 0.0 { 1.0 } else { -1.0 };
            model.learn(&s, 1, sign, 1.0, 0.05);
            model.learn(&s, 2, -sign, 1.0, 0.05);
        }
        let at = |x: f32| {
            let mut s = [0.0; MAX_DIMS];
            s[0] = x;
            model.predict(&s)
        };
        assert!(at(-2.0)[1] > 0.5 && at(-2.0)[2] < -0.5, "{:?}", at(-2.0));
        assert!(at(2.0)[1] < -0.5 && at(2.0)[2] > 0.5, "{:?}", at(2.0));
        let restored = RewardModel::from_weights(&model.to_weights(), &model.corrections());
        assert_eq!(restored.as_ref(), Some(&model));
        assert!(RewardModel::from_weights(&[0.0; 3], &[]).is_none());
        let mut bad = model.to_weights();
        bad[0] = f32::NAN;
        assert!(RewardModel::from_weights(&bad, &[]).is_none());
        assert!(RewardModel::from_weights(&model.to_weights(), &[(1, f32::NAN)]).is_none());
    }
}
