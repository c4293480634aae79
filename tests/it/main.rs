//! The integration tests, one binary (issue 34): one module per area, linked once against the
//! crate instead of once per file. `cargo test --test it survey::` runs one module;
//! `QIPING_TEST_BACKENDS=sqlite` (or `postgres`) limits the database tests to one backend.
//! `tests/logs.rs` stays a binary of its own (it owns the process's tracing subscriber).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

mod common;
mod survey_support;

mod accounts;
mod admin_dashboard;
mod anonymity_texts;
mod audit;
mod audit_channels;
mod authorization;
mod ballot;
mod campaign;
mod cli;
mod cli_accounts;
mod crash;
mod db;
mod demo;
mod discard;
mod docs_interface;
mod docs_references;
mod errors;
mod fuzz_import;
mod fuzz_survey;
mod harden;
mod import;
mod inspect_history;
mod mail;
mod mail_cli;
mod mail_isolation;
mod mail_outage;
mod mail_restart;
mod mail_serve;
mod method_page;
mod nginx;
mod outreach;
mod pg_outage;
mod privacy;
mod problems;
mod proxies;
mod publication;
mod reference_city;
mod report;
mod responses_readers;
mod screenshots;
mod sealed;
mod sqlite_build;
mod stats_determinism;
mod stats_edge_cases;
mod stats_fixtures;
mod stats_flags;
mod stats_properties;
mod stats_reference;
mod storage;
mod survey;
mod survey_browser;
mod survey_http;
mod survey_web;
mod unpublished;
mod upgrade;
mod web;
