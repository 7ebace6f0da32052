//! Operational latent spaces (Hawley & Tackett, AES 2024; issue 9): musical operations as
//! vector operations — the FiLMR layer and the stargate ring task.

pub mod film_rotation;
pub mod stargate;
