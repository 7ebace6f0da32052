//! FiLMR (Hawley & Tackett, "Operational latent spaces"): a FiLM layer (a learned per-axis
//! scale γ and shift β) followed by a learned rotation in the plane of two learned vectors u
//! and v. The rotation is the product of the reflections across the hyperplanes normal to u
//! and to v, so it turns that plane by twice the angle between them and leaves every
//! direction orthogonal to both unchanged — a rotation in any dimension from 2·D parameters,
//! always orthogonal, always invertible.

use candle_core::{Device, Module, Result, Tensor, Var, D};

use crate::random::gaussian_vec;

/// γ ⊙ z + β, then the rotation in the (u, v) plane.
pub struct FilmRotation {
    /// FiLM scale, one per axis.
    gamma: Var,
    /// FiLM shift, one per axis.
    beta: Var,
    /// First mirror's normal.
    u: Var,
    /// Second mirror's normal.
    v: Var,
}

/// Reflection of each row of `z` (batch, dims) across the hyperplane normal to `n` (dims).
fn reflect(z: &Tensor, n: &Tensor) -> Result<Tensor> {
    let unit = n.broadcast_div(&(n.sqr()?.sum_all()?.sqrt()? + 1e-12)?)?;
    let along = z.broadcast_mul(&unit)?.sum_keepdim(D::Minus1)?;
    z - along.broadcast_mul(&unit)?.affine(2.0, 0.0)?
}

impl FilmRotation {
    /// A layer on `dims` axes: γ = 1, β = 0, u and v drawn from `rng` (the rotation starts
    /// arbitrary).
    pub fn new(dims: usize, rng: &mut fastrand::Rng) -> Result<Self> {
        let var = |values: Vec<f32>| Var::from_vec(values, dims, &Device::Cpu);
        Ok(Self {
            gamma: var(vec![1.0; dims])?,
            beta: var(vec![0.0; dims])?,
            u: var(gaussian_vec(rng, dims))?,
            v: var(gaussian_vec(rng, dims))?,
        })
    }

    /// Its variables by name, for the optimiser.
    pub fn vars(&self) -> Vec<(String, Var)> {
        [
            ("gamma", &self.gamma),
            ("beta", &self.beta),
            ("u", &self.u),
            ("v", &self.v),
        ]
        .into_iter()
        .map(|(n, v)| (format!("film_rotation.{n}"), v.clone()))
        .collect()
    }

    /// The rotation alone (both reflections) applied to rows of `z`.
    pub fn rotate(&self, z: &Tensor) -> Result<Tensor> {
        reflect(&reflect(z, self.u.as_tensor())?, self.v.as_tensor())
    }

    /// The inverse: undo the rotation (reflections in the other order), then the FiLM.
    pub fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let unrotated = reflect(&reflect(y, self.v.as_tensor())?, self.u.as_tensor())?;
        unrotated
            .broadcast_sub(self.beta.as_tensor())?
            .broadcast_div(self.gamma.as_tensor())
    }

    /// The rotation angle in radians: twice the angle between u and v.
    pub fn angle(&self) -> Result<f64> {
        let (u, v) = (self.u.as_tensor(), self.v.as_tensor());
        let dot = (u * v)?.sum_all()?.to_scalar::<f32>()?;
        let nu = u.sqr()?.sum_all()?.sqrt()?.to_scalar::<f32>()?;
        let nv = v.sqr()?.sum_all()?.sqrt()?.to_scalar::<f32>()?;
        let cos = f64::from(dot / (nu * nv).max(1e-12)).clamp(-1.0, 1.0);
        Ok(2.0 * cos.acos())
    }
}

impl Module for FilmRotation {
    fn forward(&self, z: &Tensor) -> Result<Tensor> {
        self.rotate(
            &z.broadcast_mul(self.gamma.as_tensor())?
                .broadcast_add(self.beta.as_tensor())?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(dims: usize) -> FilmRotation {
        FilmRotation::new(dims, &mut fastrand::Rng::with_seed(1)).expect("layer")
    }

    fn set(var: &Var, values: &[f32]) {
        var.set(&Tensor::new(values, &Device::Cpu).expect("tensor"))
            .expect("set");
    }

    #[test]
    fn the_rotation_keeps_lengths_and_turns_its_plane_by_twice_the_mirror_angle() {
        let layer = layer(3);
        // Mirrors 30° apart in the x–y plane: a 60° rotation about z.
        let a = 30f32.to_radians();
        set(&layer.u, &[1.0, 0.0, 0.0]);
        set(&layer.v, &[a.cos(), a.sin(), 0.0]);
        assert!((layer.angle().expect("angle") - 60f64.to_radians()).abs() < 1e-5);
        let z = Tensor::new(
            &[[1f32, 0., 0.], [0., 0., 2.], [0.3, -0.4, 0.5]],
            &Device::Cpu,
        )
        .expect("tensor");
        let r = layer
            .rotate(&z)
            .expect("rotate")
            .to_vec2::<f32>()
            .expect("vec");
        let b = 60f32.to_radians();
        for (got, want) in r[0].iter().zip([b.cos(), b.sin(), 0.0]) {
            assert!((got - want).abs() < 1e-5, "{r:?}");
        }
        assert_eq!(r[1], vec![0.0, 0.0, 2.0], "the axis is left alone");
        let length = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((length(&r[2]) - length(&[0.3, -0.4, 0.5])).abs() < 1e-5);
    }

    #[test]
    fn film_rotation_has_shapes_of_its_input_and_inverts_exactly() {
        let layer = layer(64);
        set(
            &layer.gamma,
            &(0..64).map(|i| 0.5 + i as f32 / 64.0).collect::<Vec<_>>(),
        );
        set(
            &layer.beta,
            &(0..64).map(|i| (i as f32).sin()).collect::<Vec<_>>(),
        );
        let z = Tensor::randn(0f32, 1.0, (5, 64), &Device::Cpu).expect("randn");
        let y = layer.forward(&z).expect("forward");
        assert_eq!(y.dims(), &[5, 64]);
        let back = layer.inverse(&y).expect("inverse");
        let err = (back - &z)
            .expect("sub")
            .abs()
            .expect("abs")
            .max_all()
            .expect("max");
        assert!(err.to_scalar::<f32>().expect("scalar") < 1e-4);
    }
}
