//! `qiping demo`: a fictional city run through two half-year campaigns by the real code paths.

pub mod answers;
pub mod city;
mod names;
