//! 企评 (qiping): the 万企评机关 platform. The layers (docs/architecture.md §1), imports pointing one way only:
//! `cli, web → service → db, mail, report, stats → domain`.

pub mod ballot;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod harden;
pub mod logging;
pub mod mail;
pub mod report;
pub mod service;
pub mod stats;
pub mod web;
