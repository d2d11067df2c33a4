//! The `petal` application: configuration, start-up, the HTTP API and the command line.
//!
//! `main.rs` only parses arguments and calls [`cli::run`]; everything else lives here so that
//! the integration tests can start the real server in-process.

pub mod alerts;
pub mod app;
pub mod audit_export;
pub mod audit_seals;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod http;
pub mod invitations;
pub mod logging;
pub mod notify;
pub mod org_export;
pub mod org_setup;
pub mod screening;
pub mod server;
pub mod upkeep;
pub mod upload;
pub mod vault;
pub mod web;
