//! What the agent has learned, as plain data saved with the plugin's state: the reward
//! model's weights, the visit counts, where it is and the path it took. The replay buffer is
//! not kept (the weights already hold what it taught).

use serde::{Deserialize, Serialize};

use super::novelty::Novelty;
use super::reward_model::RewardModel;
use super::{Agent, AgentSettings, AgentStatus, MAX_DIMS, PATH, SPAN};

/// A saved agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentMemory {
    /// The model it learned on (its path and latent size): what it learned means nothing to
    /// another model, which starts a fresh agent.
    pub model: String,
    /// The reward model's network weights (empty: nothing saved).
    pub weights: Vec<f32>,
    /// The reward model's local corrections: (key, value).
    #[serde(default)]
    pub corrections: Vec<(u64, f32)>,
    /// Visit counts: (cell key, visits).
    pub visits: Vec<(u64, u32)>,
    /// Its displacement from the sliders, σ per axis.
    pub offset: Vec<f32>,
    /// Recent positions on axes 1–2.
    pub path: Vec<[f32; 2]>,
    /// Moves made.
    pub actions: u64,
    /// Feedback events received.
    pub feedback: u64,
}

impl Agent {
    /// Its memory, labelled with the `model` it learned on.
    pub fn remember(&self, model: &str) -> AgentMemory {
        AgentMemory {
            model: model.to_string(),
            weights: self.model.to_weights(),
            corrections: self.model.corrections(),
            visits: self.novelty.to_pairs(),
            offset: self.offset.to_vec(),
            path: self.path.iter().copied().collect(),
            actions: self.status.actions,
            feedback: self.status.feedback,
        }
    }

    /// The agent `memory` saved, with `settings`; `None` when the memory is empty, damaged
    /// or from another model than `model`.
    pub fn recall(
        memory: &AgentMemory,
        model: &str,
        settings: AgentSettings,
        seed: u64,
    ) -> Option<Self> {
        if memory.model != model {
            return None;
        }
        let reward_model = RewardModel::from_weights(&memory.weights, &memory.corrections)?;
        let mut agent = Self::new(settings, seed);
        agent.model = reward_model;
        agent.novelty = Novelty::from_pairs(&memory.visits);
        for (o, &v) in agent.offset.iter_mut().zip(&memory.offset) {
            *o = if v.is_finite() {
                v.clamp(-2.0 * SPAN, 2.0 * SPAN)
            } else {
                0.0
            };
        }
        agent.offset[agent.settings.dims.min(MAX_DIMS)..].fill(0.0);
        let skip = memory.path.len().saturating_sub(PATH);
        agent.path = memory.path[skip..]
            .iter()
            .filter(|p| p.iter().all(|v| v.is_finite()))
            .copied()
            .collect();
        agent.status = AgentStatus {
            actions: memory.actions,
            feedback: memory.feedback,
            ..AgentStatus::default()
        };
        Some(agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_round_trips_through_json_and_refuses_other_models() {
        let settings = AgentSettings::default();
        let mut agent = Agent::new(settings, 4);
        let base = [0.0; MAX_DIMS];
        for i in 0..40 {
            agent.act(&base, i as f64 * 0.1);
            if i % 4 == 3 {
                agent.feedback(1.0, i as f64 * 0.1 + 0.05);
            }
        }
        let json = serde_json::to_string(&agent.remember("a.tsm/16")).unwrap_or_default();
        let memory: AgentMemory = serde_json::from_str(&json).unwrap_or_default();
        let restored = Agent::recall(&memory, "a.tsm/16", settings, 4);
        let Some(restored) = restored else {
            panic!("the memory did not restore");
        };
        let probe = {
            let mut s = [0.0; MAX_DIMS];
            s[0] = 1.3;
            s[1] = -0.7;
            s
        };
        assert_eq!(restored.values(&probe), agent.values(&probe));
        assert_eq!(restored.offset(), agent.offset());
        assert_eq!(restored.novelty, agent.novelty);
        assert_eq!(
            restored.path().collect::<Vec<_>>(),
            agent.path().collect::<Vec<_>>()
        );
        assert_eq!(restored.status().actions, 40);
        assert_eq!(restored.status().feedback, 10);
        assert!(Agent::recall(&memory, "b.tsm/16", settings, 4).is_none());
        assert!(Agent::recall(&AgentMemory::default(), "", settings, 4).is_none());
        let mut damaged = memory.clone();
        damaged.weights.truncate(10);
        assert!(Agent::recall(&damaged, "a.tsm/16", settings, 4).is_none());
    }
}
