//! Adam with state that can be saved in a checkpoint and restored (candle's optimiser keeps
//! its moments private, which would make `--resume` restart the moment estimates).

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use candle_nn::VarMap;
use timbrespace_engine::model::TensorMap;

use crate::vae::to_tensor32;

/// Every variable of `varmap` with its name.
pub fn named_vars(varmap: &VarMap) -> Result<Vec<(String, Var)>> {
    Ok(varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map poisoned".into()))?
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect())
}

/// Adam (Kingma & Ba) without weight decay.
pub struct Adam {
    /// Variables in a fixed (name) order, with their moment estimates.
    vars: Vec<(String, Var, Tensor, Tensor)>,
    /// Steps taken, for bias correction.
    step: u64,
    /// Current learning rate (the schedule changes it).
    pub lr: f64,
}

/// First-moment decay.
const BETA1: f64 = 0.9;
/// Second-moment decay.
const BETA2: f64 = 0.999;
/// Denominator guard.
const EPSILON: f64 = 1e-8;

impl Adam {
    /// An optimiser over named variables.
    pub fn new(mut vars: Vec<(String, Var)>, lr: f64) -> Result<Self> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let vars = vars
            .into_iter()
            .map(|(name, var)| {
                let zeros = var.zeros_like()?;
                Ok((name, var, zeros.clone(), zeros))
            })
            .collect::<Result<_>>()?;
        Ok(Adam { vars, step: 0, lr })
    }

    /// An optimiser over every variable of `varmap`.
    pub fn for_varmap(varmap: &VarMap, lr: f64) -> Result<Self> {
        Self::new(named_vars(varmap)?, lr)
    }

    /// One update from `grads`; variables without a gradient are left alone.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let correction1 = 1.0 - BETA1.powi(t);
        let correction2 = 1.0 - BETA2.powi(t);
        for (_, var, m, v) in &mut self.vars {
            let Some(g) = grads.get(var) else { continue };
            *m = ((&*m * BETA1)? + (g * (1.0 - BETA1))?)?;
            *v = ((&*v * BETA2)? + (g.sqr()? * (1.0 - BETA2))?)?;
            let m_hat = (&*m / correction1)?;
            let v_hat = (&*v / correction2)?;
            let update = (m_hat / (v_hat.sqrt()? + EPSILON)?)?;
            var.set(&var.sub(&(update * self.lr)?)?)?;
        }
        Ok(())
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Moment estimates as `adam.m.<name>` / `adam.v.<name>`.
    pub fn state(&self) -> Result<TensorMap> {
        let mut out = TensorMap::new();
        for (name, _, m, v) in &self.vars {
            out.insert(format!("adam.m.{name}"), to_tensor32(m)?);
            out.insert(format!("adam.v.{name}"), to_tensor32(v)?);
        }
        Ok(out)
    }

    /// Restore moments saved by [`Adam::state`] and the step count.
    pub fn restore(&mut self, state: &TensorMap, step: u64) -> Result<()> {
        for (name, var, m, v) in &mut self.vars {
            let load = |key: String| -> Result<Tensor> {
                let t = state
                    .get(&key)
                    .ok_or_else(|| candle_core::Error::Msg(format!("checkpoint lacks `{key}`")))?;
                Tensor::from_slice(&t.data, t.shape.as_slice(), var.device())
            };
            *m = load(format!("adam.m.{name}"))?;
            *v = load(format!("adam.v.{name}"))?;
        }
        self.step = step;
        Ok(())
    }
}
