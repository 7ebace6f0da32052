//! Operational latent spaces (Hawley & Tackett, AES 2024; issue 9): musical operations as
//! vector operations — the FiLMR layer and the stargate ring task, and latent mixing (a
//! projector after the audio encoder in whose space a mix is the sum of its sounds).

pub mod film_rotation;
pub mod mixing;
pub mod mlp;
pub mod stargate;
