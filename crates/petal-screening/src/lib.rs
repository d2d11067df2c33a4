//! Petal's screening rules, independent of how a CV was read: the job's [`criteria`] and
//! what each asks for, the [`fairness`] checks on them, the facts parsed from a CV's text
//! ([`profile`]), the local [`engine`] that judges each criterion with quoted evidence,
//! and the score computed from the verdicts. The total is always computed here, in
//! code, from verdicts and weights; no engine (local or remote) supplies a score.

pub mod criteria;
pub mod engine;
pub mod fairness;
pub mod profile;
pub mod pseudonym;
mod score;

pub use score::{CriterionKind, ScoredCriterion, Verdict, Weight, WeightError, score};
