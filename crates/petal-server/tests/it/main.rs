//! Petal's integration tests: one binary that starts the real server on a random port and
//! talks HTTP, or runs the real `petal` binary, against SQLite and (when
//! `PETAL_TEST_DATABASE_URL` is set) PostgreSQL.

// Tests may unwrap, and act as the operator (`OrgScope::for_operator`) to set up and inspect.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods
)]

mod support;

mod audit_api;
mod audit_chain;
mod audit_coverage;
mod audit_seals;
mod authorization;
mod browser;
mod cli;
mod demo;
mod documents;
mod erasure;
mod factors;
mod http_edge;
mod identity;
mod monitoring;
mod openapi;
mod org_create;
mod org_export;
mod passkeys;
mod remote;
mod retention;
mod screening;
mod sessions;
mod sms;
mod tls;
mod web;
