//! The co-exploration agent (thesis 5.2, the piece *ægo*; Scurto et al.'s co-explorer; Deep
//! TAMER). The agent moves the sound through the latent space one small step at a time and
//! learns from the musician's positive and negative feedback which moves they like, while a
//! novelty bonus keeps it discovering places it has not been.
//!
//! - State: the sound's position on the first `dims` axes of the current projection, in σ
//!   (the sliders plus the agent's own offset).
//! - Actions: one axis up or down by `step` σ, or stay.
//! - Human reward: each feedback event is shared among the recent actions by
//!   [`credit::CreditWindow`] and a small network [`reward_model::RewardModel`] learns the
//!   reward of each action in each state.
//! - Intrinsic motivation: [`novelty::Novelty`] pseudo-counts; each move is valued by the
//!   most novel cell it leads toward (a short look-ahead along its direction, discounted), so
//!   the agent heads for the nearest unexplored region instead of dithering in explored ones.
//! - Choice: the move with the best predicted reward plus novelty, weighted by the
//!   Explore ↔ Exploit setting.
//!
//! Time is given by the caller (seconds), so the same agent runs in the plugin's worker thread
//! on the wall clock and in the simulation harness on a virtual one. Nothing here runs on the
//! audio thread: it allocates as it learns.

pub mod credit;
pub mod memory;
pub mod novelty;
pub mod reward_model;
pub mod simulation;

use std::collections::VecDeque;

use credit::{CreditSettings, CreditWindow, Step};
use novelty::Novelty;
use reward_model::RewardModel;

/// Most dimensions the agent explores (*ægo* grows from 1 to 8).
pub const MAX_DIMS: usize = 8;
/// Actions: stay, then up and down along each dimension.
pub const ACTIONS: usize = 2 * MAX_DIMS + 1;
/// The agent keeps the sound within ± this many σ (the sliders' range).
pub const SPAN: f32 = 3.0;
/// Novelty's weight against the ±1 human reward when Explore ↔ Exploit is fully on Explore:
/// above 1, so that exploring can outweigh a mildly rewarded place, below 2, so that it never
/// outweighs the gap between a move the musician rewards and one they punish.
const EXPLORE_WEIGHT: f32 = 1.5;
/// Share of random moves when fully on Explore (none at Exploit).
const RANDOM_SHARE: f32 = 0.1;
/// Steps the novelty look-ahead follows each direction.
const LOOKAHEAD: usize = 16;
/// Discount per step of the look-ahead: near novelty is worth more than far.
const DISCOUNT: f32 = 0.9;
/// Learning rate of the reward model.
const LEARNING_RATE: f32 = 0.05;
/// Gradient steps on a newly credited action.
const REPEATS: usize = 4;
/// Remembered credited actions replayed at each feedback (Deep TAMER's feedback replay).
const REPLAY_BATCH: usize = 32;
/// Credited actions kept for replay.
const REPLAY: usize = 2000;
/// Shares of a feedback event smaller than this are not learned from.
const MIN_SHARE: f32 = 0.02;
/// Positions kept for drawing the path.
pub const PATH: usize = 256;

/// The agent's settings (the plugin's parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentSettings {
    /// Dimensions explored: the first `dims` axes (1–8).
    pub dims: usize,
    /// Size of a move, σ.
    pub step: f32,
    /// 0 = follow the learned reward only, 1 = mostly seek novelty.
    pub explore: f32,
}

impl Default for AgentSettings {
    fn default() -> Self {
        Self {
            dims: 2,
            step: 0.25,
            explore: 0.5,
        }
    }
}

impl AgentSettings {
    /// The settings brought into range (non-finite values take the defaults).
    pub fn sanitised(self) -> Self {
        let default = Self::default();
        let finite = |v: f32, d: f32| if v.is_finite() { v } else { d };
        Self {
            dims: self.dims.clamp(1, MAX_DIMS),
            step: finite(self.step, default.step).clamp(0.01, 1.0),
            explore: finite(self.explore, default.explore).clamp(0.0, 1.0),
        }
    }
}

/// One move: stay, or one dimension up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action(usize);

impl Action {
    /// Staying where it is.
    pub const STAY: Action = Action(0);

    /// Action number `index` (0 = stay, 1 + 2d = dimension d up, 2 + 2d = down); indices
    /// beyond the last mean staying.
    pub fn from_index(index: usize) -> Self {
        Action(if index < ACTIONS { index } else { 0 })
    }

    /// A move along `dim`, up or down.
    pub fn along(dim: usize, up: bool) -> Self {
        Self::from_index(1 + 2 * dim + usize::from(!up))
    }

    /// Its number.
    pub fn index(self) -> usize {
        self.0
    }

    /// The dimension it moves and the direction (+1 or −1), or `None` for staying.
    pub fn direction(self) -> Option<(usize, f32)> {
        (self.0 > 0).then(|| ((self.0 - 1) / 2, if self.0 % 2 == 1 { 1.0 } else { -1.0 }))
    }

    /// "axis 2 ↑", "stay".
    pub fn describe(self) -> String {
        match self.direction() {
            None => "stay".into(),
            Some((d, s)) => format!("axis {} {}", d + 1, if s > 0.0 { "↑" } else { "↓" }),
        }
    }
}

/// What the agent did last and how it sees it (the editor's read-out).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AgentStatus {
    /// The last move, if any.
    pub last_action: Option<Action>,
    /// The reward it predicted for that move.
    pub value: f32,
    /// The novelty of the place it moved from (1 = never visited).
    pub novelty: f32,
    /// Moves made.
    pub actions: u64,
    /// Feedback events received.
    pub feedback: u64,
}

/// A credited action kept for replay.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// The state the action was taken in.
    state: [f32; MAX_DIMS],
    /// The action.
    action: usize,
    /// The musician's reward.
    reward: f32,
    /// The action's share of it.
    weight: f32,
}

/// The co-exploration agent.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Dimensions, step and exploration.
    settings: AgentSettings,
    /// The musician's reward as learned so far.
    model: RewardModel,
    /// Recent actions, for crediting feedback.
    credit: CreditWindow,
    /// Visit counts.
    novelty: Novelty,
    /// Credited actions for replay, a ring.
    replay: Vec<Sample>,
    /// Next slot of `replay` to overwrite once it is full.
    replay_next: usize,
    /// Choices among equal moves, random moves and replay batches.
    rng: fastrand::Rng,
    /// The agent's displacement from the sliders, σ per axis.
    offset: [f32; MAX_DIMS],
    /// Recent positions on axes 1–2, oldest first, for the editor.
    path: VecDeque<[f32; 2]>,
    /// The read-out.
    status: AgentStatus,
    /// Seed of the reward model, so a reset starts from the same weights.
    seed: u64,
}

impl Agent {
    /// A new agent that knows nothing yet.
    pub fn new(settings: AgentSettings, seed: u64) -> Self {
        Self {
            settings: settings.sanitised(),
            model: RewardModel::new(seed),
            credit: CreditWindow::new(CreditSettings::default()),
            novelty: Novelty::new(),
            replay: Vec::new(),
            replay_next: 0,
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed),
            offset: [0.0; MAX_DIMS],
            path: VecDeque::with_capacity(PATH),
            status: AgentStatus::default(),
            seed,
        }
    }

    /// Its settings.
    pub fn settings(&self) -> AgentSettings {
        self.settings
    }

    /// New settings; axes it no longer explores return to the sliders.
    pub fn set_settings(&mut self, settings: AgentSettings) {
        self.settings = settings.sanitised();
        self.offset[self.settings.dims..].fill(0.0);
    }

    /// Its displacement from the sliders, σ per axis.
    pub fn offset(&self) -> &[f32; MAX_DIMS] {
        &self.offset
    }

    /// The sound's position: the sliders `base` plus the offset, kept within the span.
    pub fn state(&self, base: &[f32; MAX_DIMS]) -> [f32; MAX_DIMS] {
        std::array::from_fn(|i| (base[i] + self.offset[i]).clamp(-SPAN, SPAN))
    }

    /// The reward it predicts for each action in `state`.
    pub fn values(&self, state: &[f32; MAX_DIMS]) -> [f32; ACTIONS] {
        self.model.predict(state)
    }

    /// The read-out.
    pub fn status(&self) -> AgentStatus {
        self.status
    }

    /// Recent positions on axes 1–2, oldest first.
    pub fn path(&self) -> impl Iterator<Item = [f32; 2]> + '_ {
        self.path.iter().copied()
    }

    /// Forgets everything it learned and returns to the sliders.
    pub fn reset(&mut self) {
        *self = Self::new(self.settings, self.seed);
    }

    /// Chooses and makes one move at `time` (seconds) with the sliders at `base`.
    pub fn act(&mut self, base: &[f32; MAX_DIMS], time: f64) -> Action {
        let dims = self.settings.dims;
        let state = self.state(base);
        self.novelty.visit(&state, dims);
        let values = self.model.predict(&state);
        let valid = |a: usize| {
            Action::from_index(a)
                .direction()
                .is_none_or(|(d, s)| (state[d] + s * self.settings.step).abs() <= SPAN + 1e-4)
        };
        let candidates = 2 * dims + 1;
        let explore = self.settings.explore;
        let action = if self.rng.f32() < RANDOM_SHARE * explore {
            let mut a = self.rng.usize(..candidates);
            while !valid(a) {
                a = self.rng.usize(..candidates);
            }
            a
        } else {
            // Where the musician's reward is already high, curiosity gives way: the agent
            // settles where it is liked and explores where it is not.
            let liked = values[..candidates].iter().fold(0.0f32, |m, &v| m.max(v));
            let weight = EXPLORE_WEIGHT * explore * (1.0 - liked.clamp(0.0, 1.0));
            let mut best = (0, f32::NEG_INFINITY);
            for a in (0..candidates).filter(|&a| valid(a)) {
                let bonus = self.lookahead(&state, Action::from_index(a));
                // A little noise chooses among equals.
                let score = values[a] + weight * bonus + 1e-3 * self.rng.f32();
                if score > best.1 {
                    best = (a, score);
                }
            }
            best.0
        };
        let chosen = Action::from_index(action);
        if let Some((d, s)) = chosen.direction() {
            self.offset[d] += s * self.settings.step;
        }
        self.credit.push(Step {
            time,
            state,
            action: chosen,
        });
        if self.path.len() == PATH {
            self.path.pop_front();
        }
        let moved = self.state(base);
        self.path.push_back([moved[0], moved[1]]);
        self.status = AgentStatus {
            last_action: Some(chosen),
            value: values[action],
            novelty: self.novelty.novelty(&state, dims),
            actions: self.status.actions + 1,
            feedback: self.status.feedback,
        };
        chosen
    }

    /// The musician's feedback at `time`: +1 liked, −1 disliked (values are clamped to ±1;
    /// non-finite ones are ignored). It is credited to the recent moves and learned from.
    pub fn feedback(&mut self, reward: f32, time: f64) {
        if !reward.is_finite() {
            return;
        }
        let reward = reward.clamp(-1.0, 1.0);
        self.status.feedback += 1;
        let fresh: Vec<Sample> = self
            .credit
            .assign(time)
            .into_iter()
            .filter(|c| c.weight >= MIN_SHARE)
            .map(|c| Sample {
                state: c.step.state,
                action: c.step.action.index(),
                reward,
                weight: c.weight,
            })
            .collect();
        for sample in &fresh {
            for _ in 0..REPEATS {
                self.learn(sample);
            }
        }
        if !self.replay.is_empty() {
            for _ in 0..REPLAY_BATCH {
                let sample = self.replay[self.rng.usize(..self.replay.len())];
                self.learn(&sample);
            }
        }
        for sample in fresh {
            if self.replay.len() < REPLAY {
                self.replay.push(sample);
            } else {
                self.replay[self.replay_next] = sample;
                self.replay_next = (self.replay_next + 1) % REPLAY;
            }
        }
    }

    fn learn(&mut self, sample: &Sample) {
        self.model.learn(
            &sample.state,
            sample.action,
            sample.reward,
            sample.weight,
            LEARNING_RATE,
        );
    }

    /// The novelty a move leads toward: the most novel cell along its direction within the
    /// look-ahead, discounted by distance (staying discovers nothing).
    fn lookahead(&self, state: &[f32; MAX_DIMS], action: Action) -> f32 {
        let Some((d, s)) = action.direction() else {
            return 0.0;
        };
        let dims = self.settings.dims;
        let mut probe = *state;
        let mut best: f32 = 0.0;
        let mut discount = 1.0;
        for _ in 0..LOOKAHEAD {
            probe[d] += s * self.settings.step;
            if probe[d].abs() > SPAN + 1e-4 {
                break;
            }
            best = best.max(discount * self.novelty.novelty(&probe, dims));
            discount *= DISCOUNT;
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_number_every_move_once() {
        assert_eq!(Action::STAY.direction(), None);
        for d in 0..MAX_DIMS {
            for up in [true, false] {
                let a = Action::along(d, up);
                assert_eq!(a.direction(), Some((d, if up { 1.0 } else { -1.0 })));
                assert_eq!(Action::from_index(a.index()), a);
            }
        }
        assert_eq!(Action::from_index(ACTIONS), Action::STAY);
        assert_eq!(Action::along(1, false).describe(), "axis 2 ↓");
    }

    #[test]
    fn a_trained_agent_prefers_the_rewarded_direction_on_a_1d_toy() {
        // The musician likes every move up and dislikes every move down, answering 0.2 s
        // after each; the agent moves every 0.1 s. Settings: exploit.
        let settings = AgentSettings {
            dims: 1,
            step: 0.25,
            explore: 0.0,
        };
        for seed in 0..5 {
            let mut agent = Agent::new(settings, seed);
            let base = [0.0; MAX_DIMS];
            let mut pending: VecDeque<(f64, f32)> = VecDeque::new();
            let mut ups = 0;
            let mut moves = 0;
            for i in 0..200 {
                let t = i as f64 * 0.1;
                while pending.front().is_some_and(|&(when, _)| when <= t) {
                    if let Some((when, r)) = pending.pop_front() {
                        agent.feedback(r, when);
                    }
                }
                // Back to the middle now and then so that up stays possible.
                if i % 20 == 0 {
                    agent.offset = [0.0; MAX_DIMS];
                }
                let action = agent.act(&base, t);
                if let Some((_, s)) = action.direction() {
                    pending.push_back((t + 0.2, s));
                    if i >= 100 {
                        moves += 1;
                        ups += usize::from(s > 0.0);
                    }
                }
            }
            let values = agent.values(&[0.0; MAX_DIMS]);
            let (up, down) = (
                Action::along(0, true).index(),
                Action::along(0, false).index(),
            );
            assert!(values[up] > values[down] + 0.5, "seed {seed}: {values:?}");
            assert!(
                ups * 10 >= moves * 9,
                "seed {seed}: {ups} of {moves} moves up"
            );
        }
    }

    #[test]
    fn it_stays_within_the_span_and_reset_forgets() {
        let mut agent = Agent::new(
            AgentSettings {
                dims: 8,
                step: 1.0,
                explore: 1.0,
            },
            1,
        );
        let base = [2.5; MAX_DIMS];
        for i in 0..500 {
            agent.act(&base, i as f64 * 0.05);
            assert!(agent.state(&base).iter().all(|v| v.abs() <= SPAN));
            for (b, o) in base.iter().zip(agent.offset()) {
                assert!((b + o).abs() <= SPAN + 1e-3, "{:?}", agent.offset());
            }
        }
        agent.feedback(1.0, 25.0);
        assert_eq!(agent.status().actions, 500);
        assert_eq!(agent.status().feedback, 1);
        agent.reset();
        assert_eq!(agent.offset(), &[0.0; MAX_DIMS]);
        assert_eq!(agent.status(), AgentStatus::default());
        assert_eq!(agent.path().count(), 0);
    }
}
