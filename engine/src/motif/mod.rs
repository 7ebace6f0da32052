//! The *Motif* play mode's engine side: a bank of motifs from a CONV-WTA dictionary or a
//! factorised motif space ([`bank`], [`space`]), the one being played, decoded at the
//! musician's settings ([`pattern`]), and the sequencer that plays it from held keys on the
//! host's beat grid ([`sequencer`]).

pub mod bank;
pub mod pattern;
pub mod sequencer;
pub mod space;
