//! The survey tests' registry (`data`), a `qiping serve` child (`server`), HTTP and WebDriver
//! clients; the open campaign they answer is `common::scenario::open_survey_campaign`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod data;
pub mod http;
pub mod server;
pub mod webdriver;

pub const PERIOD: &str = "2019H2";
/// 3 departments with 3 offices each: 12 units.
pub const DEPARTMENTS: usize = 3;
pub const OFFICES: usize = 3;
/// Each enterprise is asked about the first 4 units (D01, D01-O1, D01-O2, D01-O3).
pub const ASKED: usize = 4;

/// The codes the enterprises were asked about.
pub fn asked_codes() -> Vec<String> {
    data::unit_codes(DEPARTMENTS, OFFICES)
        .into_iter()
        .take(ASKED)
        .collect()
}
