//! Simulated musicians, for evaluating the agent without a person at the controls: each one
//! wants the sound in a hidden target region of the explored latent dimensions and reacts to
//! the agent's moves a moment after hearing them, as a person pressing "Reward +" or
//! "Reward −" would. A random walk over the same moves is the baseline.

use std::collections::VecDeque;

use super::novelty::cell;
use super::{Action, Agent, AgentSettings, MAX_DIMS, SPAN};

/// Cells per side of the grid coverage is measured on.
pub const COVERAGE_CELLS: usize = 10;

/// How a simulated musician gives feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Musician {
    /// Rewards every move toward the region and everything inside it, punishes moves away
    /// and lingering outside; answers 60 % of the moves, 0.15–0.4 s after them.
    Consistent,
    /// Answers 30 % of the moves, 0.1–0.8 s after them, and one answer in five has the wrong
    /// sign.
    Noisy,
    /// Consistent, but changes their mind half-way: the region moves, so what was rewarded
    /// before is punished now.
    Contradictory,
    /// Never answers: the agent has only its own curiosity.
    Silent,
}

impl Musician {
    /// Every kind, in the order reports print them.
    pub const ALL: [Musician; 4] = [
        Musician::Consistent,
        Musician::Noisy,
        Musician::Contradictory,
        Musician::Silent,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Musician::Consistent => "consistent",
            Musician::Noisy => "noisy",
            Musician::Contradictory => "contradictory",
            Musician::Silent => "silent",
        }
    }

    /// (share of moves answered, shortest and longest reaction in seconds, share of answers
    /// with the wrong sign).
    fn habits(self) -> (f32, f64, f64, f32) {
        match self {
            Musician::Consistent | Musician::Contradictory => (0.6, 0.15, 0.4, 0.0),
            Musician::Noisy => (0.3, 0.1, 0.8, 0.2),
            Musician::Silent => (0.0, 0.0, 0.0, 0.0),
        }
    }
}

/// Who moves the sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explorer {
    /// The co-exploration agent.
    Agent,
    /// A uniformly random choice among the same moves.
    RandomWalk,
}

/// One simulated session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    /// The agent's settings (dimensions, step, exploration).
    pub settings: AgentSettings,
    /// Moves in the session.
    pub actions: usize,
    /// Seconds between moves.
    pub period: f64,
    /// Radius of the target region, σ.
    pub radius: f32,
}

impl Default for Scenario {
    /// 2,000 moves of 0.25 σ every 100 ms on 2 dimensions; a region of radius 0.6 σ.
    fn default() -> Self {
        Self {
            settings: AgentSettings::default(),
            actions: 2000,
            period: 0.1,
            radius: 0.6,
        }
    }
}

/// What happened in one session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Moves until the sound first entered the (final) target region; `None` if it never did.
    pub reached: Option<usize>,
    /// Share of the moves after that which ended inside the region.
    pub stayed: f32,
    /// Share of the [`COVERAGE_CELLS`]² grid over axes 1–2 the sound visited.
    pub coverage: f32,
}

/// A region: its centre on the explored dimensions.
fn random_region(
    rng: &mut fastrand::Rng,
    dims: usize,
    away_from: &[f32; MAX_DIMS],
) -> [f32; MAX_DIMS] {
    let inner = SPAN - 0.6;
    loop {
        let mut centre = [0.0; MAX_DIMS];
        for c in centre.iter_mut().take(dims) {
            *c = (rng.f32() * 2.0 - 1.0) * inner;
        }
        if distance(&centre, away_from, dims) >= 1.5 {
            return centre;
        }
    }
}

fn distance(a: &[f32; MAX_DIMS], b: &[f32; MAX_DIMS], dims: usize) -> f32 {
    a.iter()
        .zip(b)
        .take(dims)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// Runs one session of `explorer` with `musician`, seeded by `seed`.
pub fn run(scenario: &Scenario, musician: Musician, explorer: Explorer, seed: u64) -> Outcome {
    let settings = scenario.settings.sanitised();
    let dims = settings.dims;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut agent = Agent::new(settings, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let base = [0.0; MAX_DIMS];
    let mut region = random_region(&mut rng, dims, &base);
    let (answers, shortest, longest, wrong) = musician.habits();
    let mut pending: VecDeque<(f64, f32)> = VecDeque::new();
    let mut visited = [false; COVERAGE_CELLS * COVERAGE_CELLS];
    let mut mark = |s: &[f32; MAX_DIMS]| {
        let row = if dims > 1 {
            cell(s[1], COVERAGE_CELLS)
        } else {
            0
        };
        visited[row * COVERAGE_CELLS + cell(s[0], COVERAGE_CELLS)] = true;
    };
    let mut state = agent.state(&base);
    mark(&state);
    let mut reached = None;
    let mut inside_after = 0usize;
    let mut since = 0usize;
    for i in 0..scenario.actions {
        let time = i as f64 * scenario.period;
        if musician == Musician::Contradictory && i == scenario.actions / 2 {
            region = random_region(&mut rng, dims, &region);
            pending.clear();
            reached = None;
            inside_after = 0;
            since = i;
        }
        while let Some(&(when, reward)) = pending.front() {
            if when > time {
                break;
            }
            agent.feedback(reward, when);
            pending.pop_front();
        }
        match explorer {
            Explorer::Agent => {
                agent.act(&base, time);
            }
            Explorer::RandomWalk => random_move(&mut agent, &base, &mut rng),
        }
        let next = agent.state(&base);
        mark(&next);
        let inside = distance(&next, &region, dims) <= scenario.radius;
        if reached.is_some() {
            inside_after += usize::from(inside);
        } else if inside {
            reached = Some(i + 1 - since);
        }
        let closer = distance(&next, &region, dims) < distance(&state, &region, dims);
        // Inside is good whatever the move; outside, a move closer is good, anything else
        // (a move away, or lingering) is not.
        let judged = if inside || closer { 1.0 } else { -1.0 };
        if rng.f32() < answers {
            let delay = shortest + rng.f64() * (longest - shortest);
            let sign = if rng.f32() < wrong { -1.0 } else { 1.0 };
            let at = time + delay;
            // Answers are heard in time order.
            let slot = pending.partition_point(|&(t, _)| t <= at);
            pending.insert(slot, (at, sign * judged));
        }
        state = next;
    }
    let after = reached.map_or(0, |r| scenario.actions - since - r);
    Outcome {
        reached,
        stayed: if after > 0 {
            inside_after as f32 / after as f32
        } else {
            0.0
        },
        coverage: visited.iter().filter(|&&v| v).count() as f32 / visited.len() as f32,
    }
}

/// One uniformly random move that keeps the sound within the span (the baseline), made by
/// moving the agent's offset directly.
fn random_move(agent: &mut Agent, base: &[f32; MAX_DIMS], rng: &mut fastrand::Rng) {
    let settings = agent.settings();
    let state = agent.state(base);
    loop {
        let action = Action::from_index(rng.usize(..2 * settings.dims + 1));
        match action.direction() {
            None => return,
            Some((d, s)) if (state[d] + s * settings.step).abs() <= SPAN + 1e-4 => {
                agent.offset[d] += s * settings.step;
                return;
            }
            Some(_) => {}
        }
    }
}

/// Medians over many sessions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Sessions.
    pub sessions: usize,
    /// Median moves to reach the region (`None`: over half never reached it).
    pub reached: Option<usize>,
    /// Share of sessions that reached it.
    pub reached_share: f32,
    /// Median share of moves inside after reaching it, over the sessions that did.
    pub stayed: f32,
    /// Median grid coverage.
    pub coverage: f32,
}

/// Runs `sessions` seeds (0, 1, …) and takes the medians.
pub fn summarise(
    scenario: &Scenario,
    musician: Musician,
    explorer: Explorer,
    sessions: usize,
) -> Summary {
    let outcomes: Vec<Outcome> = (0..sessions as u64)
        .map(|seed| run(scenario, musician, explorer, seed))
        .collect();
    // Sessions that never reached the region count as taking forever.
    let mut reached: Vec<usize> = outcomes
        .iter()
        .map(|o| o.reached.unwrap_or(usize::MAX))
        .collect();
    let stayed: Vec<f32> = outcomes
        .iter()
        .filter(|o| o.reached.is_some())
        .map(|o| o.stayed)
        .collect();
    let coverage: Vec<f32> = outcomes.iter().map(|o| o.coverage).collect();
    let middle = median(&mut reached);
    Summary {
        sessions,
        reached: middle.filter(|&m| m != usize::MAX),
        reached_share: outcomes.iter().filter(|o| o.reached.is_some()).count() as f32
            / sessions.max(1) as f32,
        stayed: median_f32(stayed),
        coverage: median_f32(coverage),
    }
}

fn median<T: Ord + Copy>(values: &mut [T]) -> Option<T> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

fn median_f32(mut values: Vec<f32>) -> f32 {
    values.sort_unstable_by(f32::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_beats_a_random_walk_to_a_consistent_musicians_region() {
        let scenario = Scenario::default();
        let agent = summarise(&scenario, Musician::Consistent, Explorer::Agent, 12);
        let walk = summarise(&scenario, Musician::Consistent, Explorer::RandomWalk, 12);
        let agent_moves = agent.reached.unwrap_or(usize::MAX);
        let walk_moves = walk.reached.unwrap_or(scenario.actions + 1);
        assert!(agent_moves * 3 <= walk_moves, "{agent:?} vs {walk:?}");
        assert!(agent.stayed > 0.5, "{agent:?}");
    }

    #[test]
    fn curiosity_alone_covers_more_of_the_plane_than_a_random_walk() {
        let scenario = Scenario::default();
        let agent = summarise(&scenario, Musician::Silent, Explorer::Agent, 6);
        let walk = summarise(&scenario, Musician::Silent, Explorer::RandomWalk, 6);
        assert!(agent.coverage >= 0.8, "{agent:?}");
        assert!(
            agent.coverage > walk.coverage + 0.1,
            "{agent:?} vs {walk:?}"
        );
    }
}
