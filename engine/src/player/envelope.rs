//! The per-voice ADSR amplitude envelope, advanced sample by sample on the audio thread.

/// ADSR settings in seconds (sustain is a level, 0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Envelope {
    /// Rise from silence to full level after note-on.
    pub attack: f32,
    /// Fall from full level to the sustain level.
    pub decay: f32,
    /// Level held while the key (or the pedal) holds the note.
    pub sustain: f32,
    /// Fall to silence after note-off.
    pub release: f32,
}

impl Envelope {
    /// No shaping but a release of `release` seconds: the note's own (learned) attack and
    /// sustain play as they are.
    pub fn natural(release: f32) -> Self {
        Self {
            attack: 0.0,
            decay: 0.0,
            sustain: 1.0,
            release,
        }
    }

    /// Per-sample steps at `rate` Hz. Non-finite or negative times count as zero and the
    /// sustain level is clamped to 0–1, so an absurd setting cannot produce a runaway level.
    pub fn steps(&self, rate: f32) -> EnvelopeSteps {
        let samples = |seconds: f32| {
            if seconds.is_finite() && seconds > 0.0 {
                seconds * rate
            } else {
                0.0
            }
        };
        let step = |n: f32| if n >= 1.0 { 1.0 / n } else { 1.0 };
        let sustain = if self.sustain.is_finite() {
            self.sustain.clamp(0.0, 1.0)
        } else {
            1.0
        };
        EnvelopeSteps {
            attack: step(samples(self.attack)),
            decay: step(samples(self.decay)),
            sustain,
            release: step(samples(self.release)),
        }
    }
}

/// An [`Envelope`] as per-sample increments of the stage position (0 → 1 over a stage).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvelopeSteps {
    /// Attack position per sample.
    attack: f32,
    /// Decay position per sample.
    decay: f32,
    /// Sustain level.
    sustain: f32,
    /// Release position per sample.
    release: f32,
}

/// Where an envelope is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// Rising; the position runs 0 → 1.
    Attack(f32),
    /// Falling to the sustain level; the position runs 0 → 1.
    Decay(f32),
    /// At the sustain level.
    Sustain,
    /// Falling from `from` to silence; the position runs 0 → 1.
    Release { from: f32, position: f32 },
    /// Silent: the voice may be reused.
    Done,
}

/// One voice's envelope state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adsr {
    /// The stage and its position.
    stage: Stage,
    /// The level last produced (a release starts from it, so a note released during its
    /// attack does not jump).
    level: f32,
}

impl Default for Adsr {
    fn default() -> Self {
        Self {
            stage: Stage::Done,
            level: 0.0,
        }
    }
}

impl Adsr {
    /// Note-on: start the attack from silence.
    pub fn gate_on(&mut self) {
        self.stage = Stage::Attack(0.0);
        self.level = 0.0;
    }

    /// Note-off: start the release from the current level.
    pub fn gate_off(&mut self) {
        if !matches!(self.stage, Stage::Release { .. } | Stage::Done) {
            self.stage = Stage::Release {
                from: self.level,
                position: 0.0,
            };
        }
    }

    /// Silence at once.
    pub fn stop(&mut self) {
        *self = Self::default();
    }

    /// The release has ended (or the envelope never started).
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// How far into its release the envelope is (0–1), if it is releasing (the voice furthest
    /// in is the first to steal).
    pub fn release_position(&self) -> Option<f32> {
        match self.stage {
            Stage::Release { position, .. } => Some(position),
            _ => None,
        }
    }

    /// The next sample's level.
    pub fn next(&mut self, steps: &EnvelopeSteps) -> f32 {
        self.level = match self.stage {
            Stage::Attack(p) => {
                let p = p + steps.attack;
                if p >= 1.0 {
                    self.stage = Stage::Decay(0.0);
                    1.0
                } else {
                    self.stage = Stage::Attack(p);
                    p
                }
            }
            Stage::Decay(p) => {
                let p = p + steps.decay;
                if p >= 1.0 {
                    self.stage = Stage::Sustain;
                    steps.sustain
                } else {
                    self.stage = Stage::Decay(p);
                    1.0 + (steps.sustain - 1.0) * p
                }
            }
            Stage::Sustain => steps.sustain,
            Stage::Release { from, position } => {
                let position = position + steps.release;
                if position >= 1.0 {
                    self.stage = Stage::Done;
                    0.0
                } else {
                    self.stage = Stage::Release { from, position };
                    // Quadratic: quick at first, gentle at the end, like a natural decay.
                    from * (1.0 - position) * (1.0 - position)
                }
            }
            Stage::Done => 0.0,
        };
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_settings() {
        let env = Envelope {
            attack: 0.01,
            decay: 0.02,
            sustain: 0.5,
            release: 0.01,
        };
        let steps = env.steps(1000.0);
        let mut adsr = Adsr::default();
        adsr.gate_on();
        let levels: Vec<f32> = (0..40).map(|_| adsr.next(&steps)).collect();
        assert!((levels[4] - 0.5).abs() < 1e-5, "half-way up the attack");
        assert!((levels[9] - 1.0).abs() < 1e-5, "the top after 10 samples");
        assert!((levels[39] - 0.5).abs() < 1e-5, "sustain after the decay");
        adsr.gate_off();
        let release: Vec<f32> = (0..12).map(|_| adsr.next(&steps)).collect();
        assert!(release[0] < 0.5 && release.windows(2).all(|w| w[1] <= w[0]));
        assert!(adsr.is_done() && release[11] == 0.0);
    }

    #[test]
    fn absurd_settings_stay_bounded() {
        let env = Envelope {
            attack: f32::NAN,
            decay: -3.0,
            sustain: 7.0,
            release: f32::INFINITY,
        };
        let steps = env.steps(48_000.0);
        let mut adsr = Adsr::default();
        adsr.gate_on();
        assert!((0..100).all(|_| {
            let l = adsr.next(&steps);
            (0.0..=1.0).contains(&l)
        }));
        adsr.gate_off();
        adsr.next(&steps);
        assert!(adsr.is_done(), "an infinite release counts as none");
    }
}
