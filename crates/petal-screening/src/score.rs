//! Scores from verdicts and weights.

use serde::{Deserialize, Serialize};

/// How a criterion counts (SPEC §3 Screening).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CriterionKind {
    /// Failing it is shown prominently, never acted on automatically.
    Knockout,
    /// Expected of a good candidate.
    Must,
    /// A plus.
    Nice,
}

/// A criterion's weight, 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Weight(u8);

impl TryFrom<i64> for Weight {
    type Error = WeightError;

    fn try_from(value: i64) -> Result<Self, WeightError> {
        Weight::new(value)
    }
}

impl From<Weight> for i64 {
    fn from(weight: Weight) -> i64 {
        i64::from(weight.0)
    }
}

/// A weight outside 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("weight must be between 1 and 5, got {0}")]
pub struct WeightError(pub i64);

impl Weight {
    /// The lowest weight.
    pub const MIN: Weight = Weight(1);

    /// Accepts 1 to 5.
    pub fn new(value: i64) -> Result<Self, WeightError> {
        match u8::try_from(value) {
            Ok(w @ 1..=5) => Ok(Self(w)),
            _ => Err(WeightError(value)),
        }
    }

    /// The weight as a number.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// The verdict on one criterion for one CV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Clearly met, with evidence.
    Met,
    /// Partly met, with evidence.
    Partial,
    /// Evidence shows it is not met.
    NotMet,
    /// The CV says nothing either way: earns nothing.
    Unknown,
}

impl Verdict {
    /// Credit in halves: met 2, partial 1, otherwise 0.
    fn half_credits(self) -> u32 {
        match self {
            Verdict::Met => 2,
            Verdict::Partial => 1,
            Verdict::NotMet | Verdict::Unknown => 0,
        }
    }
}

/// One criterion's contribution to a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScoredCriterion {
    /// Its kind; knockouts count like musts in the total and are only labelled when failed.
    pub kind: CriterionKind,
    /// Its weight.
    pub weight: Weight,
    /// The verdict.
    pub verdict: Verdict,
}

/// The score 0–100: the weighted share of credit earned, rounded half up, in integer
/// arithmetic so it is identical on every machine. No criteria scores 0.
pub fn score(criteria: &[ScoredCriterion]) -> u8 {
    let possible: u32 = criteria.iter().map(|c| u32::from(c.weight.get()) * 2).sum();
    if possible == 0 {
        return 0;
    }
    let earned: u32 =
        criteria.iter().map(|c| u32::from(c.weight.get()) * c.verdict.half_credits()).sum();
    let rounded = (earned * 100 * 2 + possible) / (possible * 2);
    u8::try_from(rounded).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(weight: i64, verdict: Verdict) -> ScoredCriterion {
        ScoredCriterion { kind: CriterionKind::Must, weight: Weight::new(weight).unwrap(), verdict }
    }

    #[test]
    fn weights_outside_one_to_five_are_refused() {
        assert!(Weight::new(0).is_err());
        assert!(Weight::new(6).is_err());
        assert!(Weight::new(-1).is_err());
        assert_eq!(Weight::new(5).unwrap().get(), 5);
    }

    #[test]
    fn all_met_is_100_and_unknown_earns_nothing() {
        assert_eq!(score(&[c(3, Verdict::Met), c(1, Verdict::Met)]), 100);
        assert_eq!(score(&[c(3, Verdict::Unknown), c(1, Verdict::Unknown)]), 0);
        assert_eq!(score(&[]), 0);
    }

    #[test]
    fn weights_and_partial_credit_combine() {
        // met on weight 3 (6 of 6 halves) + partial on weight 1 (1 of 2 halves) = 7 / 8.
        assert_eq!(score(&[c(3, Verdict::Met), c(1, Verdict::Partial)]), 88);
        assert_eq!(score(&[c(1, Verdict::Met), c(1, Verdict::NotMet)]), 50);
        assert_eq!(score(&[c(1, Verdict::Met), c(2, Verdict::Unknown)]), 33);
    }

    #[test]
    fn an_empty_cv_never_outranks_one_with_evidence() {
        let empty = score(&[c(5, Verdict::Unknown), c(1, Verdict::Unknown)]);
        let some = score(&[c(5, Verdict::NotMet), c(1, Verdict::Partial)]);
        assert!(some > empty);
    }
}
