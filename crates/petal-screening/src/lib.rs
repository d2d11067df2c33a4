//! Petal's screening rules that do not depend on how a CV was read: criterion weights, the
//! four verdicts, and the score computed from them. The total is always computed here, in
//! code, from verdicts and weights; no engine (local or remote) supplies a score.

mod score;

pub use score::{CriterionKind, ScoredCriterion, Verdict, Weight, WeightError, score};
