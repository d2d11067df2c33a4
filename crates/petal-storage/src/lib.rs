//! Petal's persistence.
//!
//! * [`Database`]: one query path over SQLite (the embedded default) or PostgreSQL. Every query
//!   is a single SQL string with `$N` placeholders, run unchanged on either backend through
//!   [`on_conn!`]; each backend keeps its native types (uuid, timestamps, jsonb).
//! * [`OrgScope`]: the proof that the caller is entitled to one organisation's data, required
//!   by every repository function on organisation data.
//! * Repositories: [`orgs`], [`invites`], [`users`], [`sessions`], [`audit`] and its
//!   signed [`seals`], [`alerts`],
//!   [`keys`] (wrapped installation and organisation keys), [`jobs`], [`documents`],
//!   [`exports`], the
//!   screening queue ([`tasks`]), [`results`], [`decisions`], and
//!   [`throttle`] (per-address login failures, not tenant data).
//! * [`objects`]: the object store for documents.

mod db;
mod error;
mod scope;

pub mod alerts;
pub mod audit;
pub mod decisions;
pub mod documents;
pub mod exports;
pub mod invites;
pub mod jobs;
pub mod keys;
pub mod objects;
pub mod orgs;
pub mod results;
pub mod seals;
pub mod sessions;
pub mod sms_codes;
pub mod tasks;
pub mod throttle;
pub mod users;

pub use db::{Backend, Database, ScopedTx, Tx};
pub use error::StorageError;
pub use scope::OrgScope;
