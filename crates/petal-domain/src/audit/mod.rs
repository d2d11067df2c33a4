//! The audit trail's vocabulary (SPEC §3 Audit trail).
//!
//! An action builds an [`AuditEvent`] (what happened, to what, with what outcome), the request
//! supplies an [`AuditContext`] (who, from where), and storage appends both to the
//! organisation's hash chain in the same transaction as the action ([`chain`]).
//!
//! Details carry identifiers and small facts only: never CV content, passwords, codes, tokens
//! or keys. [`AuditEvent::detail`] takes a [`Detail`], which has no variant for free text.

pub mod chain;
pub mod seal;

mod action;

pub use action::AuditAction;

use crate::ids::{DocumentId, JobId, UserId};
use crate::role::Role;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// Who performed an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, with the role they held at the time.
    User {
        /// The user.
        id: UserId,
        /// Their role when they acted.
        role: Role,
    },
    /// The server itself (scheduler, background workers).
    System,
    /// An operator using the `petal` command line on the server.
    Cli,
    /// A request without a session (for example a genuine document link presented alone).
    Anonymous,
}

impl Actor {
    /// `"user"`, `"system"` or `"cli"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::System => "system",
            Actor::Cli => "cli",
            Actor::Anonymous => "anonymous",
        }
    }
}

/// Whether the audited action succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The action took effect.
    Success,
    /// The action was refused or failed; nothing changed.
    Failure,
}

impl Outcome {
    /// `"success"` or `"failure"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// What an action was done to: a kind (`"organisation"`, `"invite"`, `"document"`…) and an id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The kind of thing.
    pub kind: &'static str,
    /// Its identifier.
    pub id: String,
}

impl Target {
    /// A screening job.
    pub fn job(id: JobId) -> Self {
        Self { kind: "job", id: id.to_string() }
    }

    /// A document (one CV).
    pub fn document(id: DocumentId) -> Self {
        Self { kind: "document", id: id.to_string() }
    }
}

/// A value allowed in an event's details: identifiers and fixed codes, numbers and flags.
/// Labels are for ids, role names and reason codes chosen by the code; never put CV content,
/// passwords, codes, tokens or keys in one.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// An identifier or a fixed label (a role name, a reason code).
    Label(String),
    /// A count or size.
    Number(i64),
    /// A yes/no fact.
    Flag(bool),
}

impl From<Detail> for Value {
    fn from(detail: Detail) -> Self {
        match detail {
            // PostgreSQL text cannot hold NUL; store the same thing on both backends.
            Detail::Label(s) => Value::String(without_nul(&s)),
            Detail::Number(n) => Value::from(n),
            Detail::Flag(b) => Value::Bool(b),
        }
    }
}

/// `s` with NUL characters replaced, which PostgreSQL `text` and `jsonb` cannot store.
pub(crate) fn without_nul(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// One thing that happened, before it is placed in the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    /// What happened.
    pub action: AuditAction,
    /// What it happened to, if anything in particular.
    pub target: Option<Target>,
    /// Whether it succeeded.
    pub outcome: Outcome,
    /// Small structured facts (ids, before/after roles, reason codes), added only through
    /// [`AuditEvent::detail`].
    pub(crate) details: Map<String, Value>,
}

impl AuditEvent {
    /// A successful `action` on `target`.
    pub fn success(action: AuditAction, target: Option<Target>) -> Self {
        Self { action, target, outcome: Outcome::Success, details: Map::new() }
    }

    /// A refused or failed `action` on `target`.
    pub fn failure(action: AuditAction, target: Option<Target>) -> Self {
        Self { action, target, outcome: Outcome::Failure, details: Map::new() }
    }

    /// Adds one detail.
    pub fn detail(mut self, key: &'static str, value: Detail) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// Who acted and from where: supplied by the request (or the CLI, or the scheduler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditContext {
    /// Who acted.
    pub actor: Actor,
    /// The client's address, when there is a client.
    pub ip: Option<IpAddr>,
    /// The client's `User-Agent`, truncated.
    pub user_agent: Option<String>,
    /// The request id also sent back as `X-Request-Id`.
    pub request_id: Option<String>,
}

impl AuditContext {
    /// The context of an operator's command on the server.
    pub fn cli() -> Self {
        Self { actor: Actor::Cli, ip: None, user_agent: None, request_id: None }
    }

    /// The context of the server acting on its own.
    pub fn system() -> Self {
        Self { actor: Actor::System, ip: None, user_agent: None, request_id: None }
    }
}
