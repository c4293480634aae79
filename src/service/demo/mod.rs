//! `qiping demo`: a fictional city run through two half-year campaigns by the real code paths.

pub mod answers;
pub mod city;
mod client;
mod names;
pub mod run;

pub use run::{DemoAccount, DemoOutcome, DemoSettings, PublishedCampaign, run};

/// How the demo reports where it is: `step` starts a phase (a line on stderr), `advance` moves
/// the phase's progress bar. Called from several threads while the enterprises answer.
pub trait Progress: Sync {
    fn step(&self, message: &str);
    fn advance(&self, done: usize, total: usize);
}
