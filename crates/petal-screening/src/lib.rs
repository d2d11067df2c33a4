//! Petal's screening rules that do not depend on how a CV was read: criterion weights, the
//! four verdicts, the score computed from them, and the facts parsed from a CV's text
//! ([`profile`]). The total is always computed here, in
//! code, from verdicts and weights; no engine (local or remote) supplies a score.

pub mod profile;
mod score;

pub use score::{CriterionKind, ScoredCriterion, Verdict, Weight, WeightError, score};
