//! TAMER-style credit assignment: a musician's feedback arrives a moment after the sound it
//! judges, and by then the agent may have moved again. Each feedback event is shared among the
//! recent actions by how likely it is that the musician was reacting to each: the reaction
//! delay is taken to be at least `min_delay` and at most `max_delay` seconds, with a density
//! that decays exponentially after the minimum (quick reactions are the likeliest). An action
//! is heard from its own time until the next action, so its credit is the probability mass of
//! the delays that land in that interval (Knox & Stone's TAMER; Deep TAMER's importance
//! weights, with a decaying rather than uniform delay density).

use std::collections::VecDeque;

use super::{Action, MAX_DIMS};

/// The reaction delays feedback is spread over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CreditSettings {
    /// Feedback is never about what was heard less than this long ago (seconds).
    pub min_delay: f64,
    /// Nor about anything older than this (seconds).
    pub max_delay: f64,
    /// Time constant of the density's decay after `min_delay` (seconds).
    pub decay: f64,
}

impl Default for CreditSettings {
    /// Human reactions to a change in sound: 0.1 s at the quickest, mostly within half a
    /// second, never beyond 1.5 s.
    fn default() -> Self {
        Self {
            min_delay: 0.1,
            max_delay: 1.5,
            decay: 0.35,
        }
    }
}

/// An action as the window remembers it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// When it was taken (seconds, any origin).
    pub time: f64,
    /// The state it was taken in.
    pub state: [f32; MAX_DIMS],
    /// What was done.
    pub action: Action,
}

/// A share of one feedback event given to one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Credit {
    /// The action and the state it was taken in.
    pub step: Step,
    /// Its share, 0–1 (the shares of one event add up to at most 1).
    pub weight: f32,
}

/// The recent actions feedback can be credited to.
#[derive(Debug, Clone)]
pub struct CreditWindow {
    /// The delay model.
    settings: CreditSettings,
    /// Recent actions, oldest first.
    history: VecDeque<Step>,
}

impl CreditWindow {
    /// An empty window.
    pub fn new(settings: CreditSettings) -> Self {
        Self {
            settings,
            history: VecDeque::new(),
        }
    }

    /// Remembers an action; forgets those that no feedback can reach any more.
    pub fn push(&mut self, step: Step) {
        self.history.push_back(step);
        let horizon = step.time - self.settings.max_delay;
        // An action stays creditable while the one after it started after the horizon.
        while self.history.len() > 1 && self.history[1].time <= horizon {
            self.history.pop_front();
        }
    }

    /// Forgets every action.
    pub fn clear(&mut self) {
        self.history.clear();
    }

    /// The shares of a feedback event given at `time`, for the actions that get any.
    pub fn assign(&self, time: f64) -> Vec<Credit> {
        let s = self.settings;
        let total = self.mass(s.min_delay, s.max_delay);
        if total <= 0.0 {
            return Vec::new();
        }
        let mut credits = Vec::new();
        for (i, step) in self.history.iter().enumerate() {
            let end = self.history.get(i + 1).map_or(time, |next| next.time);
            // Delays d with time − d inside [step.time, end).
            let shortest = (time - end).max(s.min_delay);
            let longest = (time - step.time).min(s.max_delay);
            if longest <= shortest {
                continue;
            }
            let weight = self.mass(shortest, longest) / total;
            if weight > 0.0 {
                credits.push(Credit {
                    step: *step,
                    weight: weight as f32,
                });
            }
        }
        credits
    }

    /// The unnormalised probability that the delay lies in `[from, to]`.
    fn mass(&self, from: f64, to: f64) -> f64 {
        let s = self.settings;
        let tail = |d: f64| (-(d - s.min_delay) / s.decay).exp();
        (s.decay * (tail(from) - tail(to))).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(time: f64, index: usize) -> Step {
        Step {
            time,
            state: [index as f32; MAX_DIMS],
            action: Action::from_index(index),
        }
    }

    #[test]
    fn feedback_goes_to_the_actions_heard_before_it_most_to_the_recent() {
        let mut window = CreditWindow::new(CreditSettings::default());
        // Actions every 0.1 s from t = 0 to 3.0; feedback at t = 3.05.
        for i in 0..=30 {
            window.push(step(i as f64 * 0.1, i % 5));
        }
        let credits = window.assign(3.05);
        let times: Vec<f64> = credits.iter().map(|c| c.step.time).collect();
        // Nothing heard within the last 0.1 s (the action at 3.0 started 0.05 s ago) and
        // nothing older than 1.5 s gets credit.
        assert!(
            times.iter().all(|t| (1.45..=2.95 + 1e-9).contains(t)),
            "{times:?}"
        );
        assert!(!times.contains(&3.0));
        let total: f32 = credits.iter().map(|c| c.weight).sum();
        assert!((total - 1.0).abs() < 1e-4, "shares add up to {total}");
        // Shares fall with age (the first one is partly cut by the minimum delay).
        let weights: Vec<f32> = credits.iter().rev().map(|c| c.weight).collect();
        let peak = weights
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        assert!(peak.is_some_and(|p| p <= 1), "{weights:?}");
        assert!(weights[1..].windows(2).all(|w| w[0] >= w[1]), "{weights:?}");
        // The action at 2.8 (heard 0.15–0.25 s before) gets the most: the one at 2.9 is
        // only creditable over 0.1–0.15 s.
        let best = credits
            .iter()
            .max_by(|a, b| a.weight.total_cmp(&b.weight))
            .map(|c| c.step.time);
        assert!(best.is_some_and(|t| (t - 2.8).abs() < 1e-9), "{best:?}");
    }

    #[test]
    fn old_actions_are_forgotten_and_an_empty_window_credits_nothing() {
        let mut window = CreditWindow::new(CreditSettings::default());
        assert!(window.assign(1.0).is_empty());
        window.push(step(0.0, 1));
        window.push(step(1.0, 2));
        window.push(step(10.0, 3));
        // The action at 0 s ended at 1 s, beyond any reaction to what is heard from 10 s on:
        // it is gone. The one at 1 s was heard until 10 s, so feedback at 10.5 s may be about
        // it (a reaction of 0.5–1.5 s).
        let credits = window.assign(10.5);
        let times: Vec<f64> = credits.iter().map(|c| c.step.time).collect();
        assert_eq!(times, vec![1.0, 10.0]);
        assert!(credits[1].weight > credits[0].weight);
        let total: f32 = credits.iter().map(|c| c.weight).sum();
        assert!((total - 1.0).abs() < 1e-4);
        // 2 s after the last action, only it can be meant.
        let late = window.assign(12.0);
        assert_eq!(late.len(), 1);
        assert!((late[0].weight - 1.0).abs() < 1e-4);
        window.clear();
        assert!(window.assign(10.5).is_empty());
    }
}
