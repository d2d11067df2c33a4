//! The per-organisation hash chain.
//!
//! Event *n* of an organisation stores `hash_n = SHA-256(hash_{n-1} ‖ canonical_bytes(event_n))`
//! with `hash_0` all zeros, and a sequence number that counts up from 1 without gaps. Changing,
//! removing, inserting or reordering a stored event therefore breaks the chain at that point,
//! which [`ChainVerifier`] finds. The canonical bytes are a compact JSON object with a fixed
//! field order and sorted detail keys, so that both databases (PostgreSQL's `jsonb` reorders
//! keys) yield the same bytes for the same event.

use super::{AuditContext, AuditEvent, without_nul};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

/// Version of the canonical encoding, hashed into every event.
const CANONICAL_VERSION: i64 = 1;

/// A SHA-256 chain hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The hash before an organisation's first event.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    /// Reads a stored hash; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// The raw bytes, as stored.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, as shown to people.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

impl Serialize for ChainHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

/// An event exactly as stored, minus its chain hashes: every field here is hashed.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainEntry {
    /// The organisation whose chain this is.
    pub org_id: Uuid,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The event's id.
    pub id: Uuid,
    /// When it happened (microsecond precision).
    pub occurred_at: DateTime<Utc>,
    /// `user`, `system` or `cli`.
    pub actor_kind: String,
    /// The acting user, if a user acted.
    pub actor_id: Option<Uuid>,
    /// The acting user's role at the time.
    pub actor_role: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Action name (see [`super::AuditAction`]).
    pub action: String,
    /// Kind of the target.
    pub target_kind: Option<String>,
    /// Id of the target.
    pub target_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Structured details.
    pub details: Value,
}

/// Longest user agent kept in the trail.
const MAX_USER_AGENT_CHARS: usize = 512;

impl ChainEntry {
    /// The entry for `event`, performed in `context`, at position `seq` of `org_id`'s chain.
    pub fn new(
        org_id: Uuid,
        seq: i64,
        occurred_at: DateTime<Utc>,
        context: &AuditContext,
        event: &AuditEvent,
    ) -> Self {
        let (actor_id, actor_role) = match context.actor {
            super::Actor::User { id, role } => (Some(id.as_uuid()), Some(role.as_str().to_owned())),
            super::Actor::System | super::Actor::Cli | super::Actor::Anonymous => (None, None),
        };
        Self {
            org_id,
            seq,
            id: Uuid::new_v4(),
            occurred_at,
            actor_kind: context.actor.kind().to_owned(),
            actor_id,
            actor_role,
            ip: context.ip.map(|ip| ip.to_string()),
            user_agent: context
                .user_agent
                .as_ref()
                .map(|ua| without_nul(&ua.chars().take(MAX_USER_AGENT_CHARS).collect::<String>())),
            request_id: context.request_id.as_deref().map(without_nul),
            action: event.action.as_str().to_owned(),
            target_kind: event.target.as_ref().map(|t| t.kind.to_owned()),
            target_id: event.target.as_ref().map(|t| without_nul(&t.id)),
            outcome: event.outcome.as_str().to_owned(),
            details: Value::Object(event.details.clone()),
        }
    }

    /// The bytes hashed into the chain: a compact JSON object with a fixed field order.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let opt_uuid = |u: Option<Uuid>| u.map_or(Value::Null, |u| Value::String(u.to_string()));
        let opt_str = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
        let fields: [(&str, Value); 16] = [
            ("v", Value::from(CANONICAL_VERSION)),
            ("org_id", Value::String(self.org_id.to_string())),
            ("seq", Value::from(self.seq)),
            ("id", Value::String(self.id.to_string())),
            (
                "occurred_at",
                Value::String(self.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true)),
            ),
            ("actor_kind", Value::String(self.actor_kind.clone())),
            ("actor_id", opt_uuid(self.actor_id)),
            ("actor_role", opt_str(&self.actor_role)),
            ("ip", opt_str(&self.ip)),
            ("user_agent", opt_str(&self.user_agent)),
            ("request_id", opt_str(&self.request_id)),
            ("action", Value::String(self.action.clone())),
            ("target_kind", opt_str(&self.target_kind)),
            ("target_id", opt_str(&self.target_id)),
            ("outcome", Value::String(self.outcome.clone())),
            ("details", self.details.clone()),
        ];
        let mut out = Vec::with_capacity(512);
        out.push(b'{');
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_canonical(&mut out, &Value::String((*key).to_owned()));
            out.push(b':');
            write_canonical(&mut out, value);
        }
        out.push(b'}');
        out
    }

    /// This entry's hash when it follows `prev`.
    pub fn hash_after(&self, prev: &ChainHash) -> ChainHash {
        let mut hasher = Sha256::new();
        hasher.update(prev.as_bytes());
        hasher.update(self.canonical_bytes());
        ChainHash(hasher.finalize().into())
    }
}

/// Writes `value` as compact JSON with object keys in sorted order.
fn write_canonical(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, &Value::String(key.clone()));
                out.push(b':');
                write_canonical(out, item);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, item);
            }
            out.push(b']');
        }
        // Scalars have one compact serialisation; serde_json's writer into a Vec cannot fail.
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// Why verification stopped at an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The sequence number is not the next one: events were deleted, inserted or reordered.
    SequenceGap {
        /// The sequence number that should have come next.
        expected: i64,
        /// The one found.
        found: i64,
    },
    /// The stored previous hash is not the hash of the event before: the event before was
    /// removed, replaced or moved.
    PreviousHashMismatch,
    /// The stored hash does not match the event's content: the event was altered.
    HashMismatch,
    /// The stored row could not be read as an event.
    UnreadableRow,
    /// The organisation's chain head is missing.
    HeadMissing,
    /// The chain ends somewhere other than the recorded head: events at the end were deleted
    /// or added.
    HeadMismatch {
        /// The sequence number of the recorded head (0 when none is recorded).
        head_seq: i64,
        /// The sequence number the stored chain ends at.
        chain_end: i64,
    },
    /// The chain's hash at this event is not the one a signed checkpoint recorded: the chain
    /// was rewritten up to here, even if consistently.
    CheckpointMismatch,
    /// A signed checkpoint names an event after the end of the stored chain: events at the
    /// end were removed.
    CheckpointBeyondEnd,
    /// A checkpoint or anchor is not validly signed, or its database and object-store copies
    /// differ.
    SealInvalid,
}

/// The first event at which verification failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BadEvent {
    /// Its sequence number (for a head mismatch, the position after the last stored event).
    pub seq: i64,
    /// Its id, when the event exists.
    pub id: Option<Uuid>,
    /// What was wrong.
    pub reason: ChainBreak,
}

/// The outcome of verifying one organisation's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Whether the whole chain verified.
    pub ok: bool,
    /// How many events were checked (up to and including a bad one).
    pub events_checked: u64,
    /// The hash of the last event that verified, hex (all zeros for an empty chain).
    pub head_hash: ChainHash,
    /// The first bad event, if any.
    pub first_bad_event: Option<BadEvent>,
    /// How many signed checkpoints the chain was compared with.
    pub checkpoints_checked: u64,
    /// The last event purged by retention (0 when none was), whose signed anchor the chain
    /// starts from.
    pub purged_through: i64,
}

/// Checks a chain fed to it in sequence order, one event at a time, in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    next_seq: i64,
    running: ChainHash,
    checked: u64,
    first_bad: Option<BadEvent>,
    purged_through: i64,
    /// Signed `(seq, hash)` checkpoints not yet reached, in descending order (next at the end).
    checkpoints: Vec<(i64, ChainHash)>,
    checkpoints_checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new(None, Vec::new())
    }
}

impl ChainVerifier {
    /// A verifier for a chain whose events up to and including `anchor`'s were purged (the
    /// chain continues from its hash), to be compared with signed `checkpoints`. Both must
    /// already have had their signatures checked. A checkpoint at or before the anchor
    /// describes purged events: only one exactly at the anchor can still be compared.
    pub fn new(anchor: Option<(i64, ChainHash)>, mut checkpoints: Vec<(i64, ChainHash)>) -> Self {
        let (purged_through, running) = anchor.unwrap_or((0, ChainHash::GENESIS));
        let mut first_bad = None;
        let mut checkpoints_checked = 0;
        for (seq, hash) in &checkpoints {
            if *seq == purged_through && purged_through > 0 {
                checkpoints_checked += 1;
                if *hash != running && first_bad.is_none() {
                    first_bad = Some(BadEvent {
                        seq: *seq,
                        id: None,
                        reason: ChainBreak::CheckpointMismatch,
                    });
                }
            }
        }
        checkpoints.retain(|(seq, _)| *seq > purged_through);
        checkpoints.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
        Self {
            next_seq: purged_through + 1,
            running,
            checked: 0,
            first_bad,
            purged_through,
            checkpoints,
            checkpoints_checked,
        }
    }

    /// Records that a checkpoint or anchor at `seq` could not be trusted: the chain is
    /// reported broken there.
    pub fn push_invalid_seal(&mut self, seq: i64) {
        if self.first_bad.is_none() {
            self.first_bad = Some(BadEvent { seq, id: None, reason: ChainBreak::SealInvalid });
        }
    }

    /// Checks the next stored event, given its stored previous hash and hash as raw bytes (a
    /// stored hash of the wrong length is as broken as a wrong hash). Returns `false` once the
    /// chain is broken; later events are then not examined.
    pub fn push(&mut self, entry: &ChainEntry, prev_hash: &[u8], hash: &[u8]) -> bool {
        if self.first_bad.is_some() {
            return false;
        }
        self.checked += 1;
        let computed = entry.hash_after(&self.running);
        let reason = if entry.seq != self.next_seq {
            Some(ChainBreak::SequenceGap { expected: self.next_seq, found: entry.seq })
        } else if prev_hash != self.running.as_bytes() {
            Some(ChainBreak::PreviousHashMismatch)
        } else if hash != computed.as_bytes() {
            Some(ChainBreak::HashMismatch)
        } else {
            None
        };
        match reason {
            Some(reason) => {
                self.first_bad = Some(BadEvent { seq: entry.seq, id: Some(entry.id), reason });
                false
            }
            None => {
                self.next_seq += 1;
                self.running = computed;
                self.compare_checkpoints(entry)
            }
        }
    }

    /// Compares the chain at `entry` (just verified) with any checkpoint taken there.
    fn compare_checkpoints(&mut self, entry: &ChainEntry) -> bool {
        while let Some(&(seq, hash)) = self.checkpoints.last() {
            if seq != entry.seq {
                break;
            }
            self.checkpoints.pop();
            self.checkpoints_checked += 1;
            if hash != self.running {
                self.first_bad = Some(BadEvent {
                    seq,
                    id: Some(entry.id),
                    reason: ChainBreak::CheckpointMismatch,
                });
                return false;
            }
        }
        true
    }

    /// Records a stored row that cannot even be read as an event (a column of the wrong type,
    /// details that are not JSON): the chain is broken there. `seq` is the row's sequence
    /// number when that much could be read.
    pub fn push_unreadable(&mut self, seq: Option<i64>) {
        if self.first_bad.is_none() {
            self.checked += 1;
            self.first_bad = Some(BadEvent {
                seq: seq.unwrap_or(self.next_seq),
                id: None,
                reason: ChainBreak::UnreadableRow,
            });
        }
    }

    /// Ends verification, comparing where the chain ended with the recorded head: the
    /// `(seq, hash)` of the last appended event, `(0, GENESIS)` for an organisation with no
    /// events yet, or `None` when the head itself is missing, which is a break.
    pub fn finish(self, head: Option<(i64, Vec<u8>)>) -> ChainReport {
        let chain_end = self.next_seq - 1;
        // Checkpoints left over lie beyond the end (the smallest is last).
        let beyond_end = self.checkpoints.last().map(|&(seq, _)| BadEvent {
            seq,
            id: None,
            reason: ChainBreak::CheckpointBeyondEnd,
        });
        let first_bad = self.first_bad.or(beyond_end).or_else(|| match head {
            None => {
                Some(BadEvent { seq: chain_end + 1, id: None, reason: ChainBreak::HeadMissing })
            }
            Some((head_seq, head_hash)) => (head_seq != chain_end
                || head_hash != self.running.as_bytes())
            .then_some(BadEvent {
                seq: chain_end + 1,
                id: None,
                reason: ChainBreak::HeadMismatch { head_seq, chain_end },
            }),
        });

        ChainReport {
            ok: first_bad.is_none(),
            events_checked: self.checked,
            head_hash: self.running,
            first_bad_event: first_bad,
            checkpoints_checked: self.checkpoints_checked,
            purged_through: self.purged_through,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditAction, Detail, Target};
    use crate::clock::{Clock, SystemClock};

    struct Stored {
        entry: ChainEntry,
        prev: ChainHash,
        hash: ChainHash,
    }

    fn chain(len: i64) -> Vec<Stored> {
        let org = Uuid::new_v4();
        let mut prev = ChainHash::GENESIS;
        (1..=len)
            .map(|seq| {
                let event = AuditEvent::success(
                    AuditAction::InviteCreated,
                    Some(Target { kind: "invite", id: format!("inv-{seq}") }),
                )
                .detail("role", Detail::Label("admin".into()))
                .detail("count", Detail::Number(seq));
                let entry =
                    ChainEntry::new(org, seq, SystemClock.now(), &AuditContext::cli(), &event);
                let hash = entry.hash_after(&prev);
                let stored = Stored { entry, prev, hash };
                prev = hash;
                stored
            })
            .collect()
    }

    fn verify(events: &[Stored], head: Option<(i64, Vec<u8>)>) -> ChainReport {
        verify_sealed(ChainVerifier::default(), events, head)
    }

    fn verify_sealed(
        mut verifier: ChainVerifier,
        events: &[Stored],
        head: Option<(i64, Vec<u8>)>,
    ) -> ChainReport {
        for e in events {
            if !verifier.push(&e.entry, e.prev.as_bytes(), e.hash.as_bytes()) {
                break;
            }
        }
        verifier.finish(head)
    }

    fn head_of(events: &[Stored]) -> Option<(i64, Vec<u8>)> {
        let (seq, hash) = events.last().map_or((0, ChainHash::GENESIS), |e| (e.entry.seq, e.hash));
        Some((seq, hash.as_bytes().to_vec()))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain(5);
        let report = verify(&events, head_of(&events));
        assert!(report.ok, "{report:?}");
        assert_eq!(report.events_checked, 5);
        assert_eq!(report.head_hash, events[4].hash);
        assert!(verify(&[], head_of(&[])).ok);
    }

    /// The same events with every hash recomputed from `from` (0-based) on, with `edit`
    /// applied to that event first: a consistent rewrite that verifies without checkpoints.
    fn rewritten(
        mut events: Vec<Stored>,
        from: usize,
        edit: impl Fn(&mut ChainEntry),
    ) -> Vec<Stored> {
        edit(&mut events[from].entry);
        let mut prev = if from == 0 { ChainHash::GENESIS } else { events[from - 1].hash };
        for e in &mut events[from..] {
            e.prev = prev;
            e.hash = e.entry.hash_after(&prev);
            prev = e.hash;
        }
        events
    }

    #[test]
    fn a_consistent_rewrite_is_caught_only_by_a_checkpoint() {
        let events = chain(6);
        let checkpoint = vec![(4, events[3].hash)];
        let forged = rewritten(events, 2, |e| e.action = "job.created".into());
        let head = head_of(&forged);
        assert!(verify(&forged, head.clone()).ok, "the rewrite is self-consistent");
        let report = verify_sealed(ChainVerifier::new(None, checkpoint), &forged, head);
        let bad = report.first_bad_event.unwrap();
        assert_eq!((bad.seq, bad.reason), (4, ChainBreak::CheckpointMismatch));
        assert_eq!(report.checkpoints_checked, 1);
    }

    #[test]
    fn matching_checkpoints_pass_and_one_past_the_end_is_a_break() {
        let events = chain(5);
        let points = vec![(5, events[4].hash), (2, events[1].hash), (2, events[1].hash)];
        let report = verify_sealed(ChainVerifier::new(None, points), &events, head_of(&events));
        assert!(report.ok, "{report:?}");
        assert_eq!(report.checkpoints_checked, 3);
        // The last two events removed and the head rewritten to match.
        let truncated: Vec<Stored> = events.into_iter().take(3).collect();
        let points = vec![(5, ChainHash::GENESIS), (4, ChainHash::GENESIS)];
        let head = head_of(&truncated);
        assert!(verify(&truncated, head.clone()).ok);
        let bad = verify_sealed(ChainVerifier::new(None, points), &truncated, head)
            .first_bad_event
            .unwrap();
        assert_eq!((bad.seq, bad.reason), (4, ChainBreak::CheckpointBeyondEnd));
    }

    #[test]
    fn an_anchored_chain_continues_from_the_anchor() {
        let events = chain(6);
        let anchor = Some((3, events[2].hash));
        let kept: Vec<Stored> = events.into_iter().skip(3).collect();
        let head = head_of(&kept);
        assert_eq!(
            verify(&kept, head.clone()).first_bad_event.unwrap().reason,
            ChainBreak::SequenceGap { expected: 1, found: 4 }
        );
        let points = vec![(1, ChainHash::GENESIS), (3, kept[0].prev), (5, kept[1].hash)];
        let report = verify_sealed(ChainVerifier::new(anchor, points), &kept, head.clone());
        assert!(report.ok, "{report:?}");
        assert_eq!((report.purged_through, report.checkpoints_checked), (3, 2));
        // A checkpoint at the anchor that disagrees with it.
        let points = vec![(3, ChainHash::GENESIS)];
        let bad = verify_sealed(ChainVerifier::new(anchor, points), &kept, head.clone());
        assert_eq!(bad.first_bad_event.unwrap().reason, ChainBreak::CheckpointMismatch);
        // An anchor further on than the chain's start.
        let late = Some((4, kept[0].hash));
        let bad = verify_sealed(ChainVerifier::new(late, vec![]), &kept, head.clone());
        assert_eq!(
            bad.first_bad_event.unwrap().reason,
            ChainBreak::SequenceGap { expected: 5, found: 4 }
        );
        let mut verifier = ChainVerifier::new(anchor, vec![]);
        verifier.push_invalid_seal(3);
        let bad = verify_sealed(verifier, &kept, head).first_bad_event.unwrap();
        assert_eq!((bad.seq, bad.reason), (3, ChainBreak::SealInvalid));
    }

    #[test]
    fn a_missing_head_is_a_break_even_for_an_empty_chain() {
        let bad = verify(&[], None).first_bad_event.unwrap();
        assert_eq!(bad.reason, ChainBreak::HeadMissing);
        let events = chain(2);
        assert_eq!(verify(&events, None).first_bad_event.unwrap().reason, ChainBreak::HeadMissing);
    }

    #[test]
    fn a_hash_of_the_wrong_length_is_a_break() {
        let events = chain(2);
        let mut verifier = ChainVerifier::default();
        assert!(!verifier.push(&events[0].entry, &[], events[0].hash.as_bytes()));
        let bad = verifier.finish(head_of(&events)).first_bad_event.unwrap();
        assert_eq!((bad.seq, bad.reason), (1, ChainBreak::PreviousHashMismatch));
    }

    #[test]
    fn an_unreadable_row_is_a_break() {
        let events = chain(3);
        let mut verifier = ChainVerifier::default();
        assert!(verifier.push(
            &events[0].entry,
            events[0].prev.as_bytes(),
            events[0].hash.as_bytes()
        ));
        verifier.push_unreadable(Some(2));
        let report = verifier.finish(head_of(&events));
        assert_eq!(report.events_checked, 2);
        let bad = report.first_bad_event.unwrap();
        assert_eq!((bad.seq, bad.reason), (2, ChainBreak::UnreadableRow));
    }

    #[test]
    fn an_altered_event_is_named() {
        let mut events = chain(5);
        let head = head_of(&events);
        events[2].entry.outcome = "failure".into();
        let bad = verify(&events, head).first_bad_event.unwrap();
        assert_eq!((bad.seq, bad.reason), (3, ChainBreak::HashMismatch));
    }

    #[test]
    fn a_deleted_event_is_named() {
        let mut events = chain(5);
        let head = head_of(&events);
        events.remove(1);
        let bad = verify(&events, head).first_bad_event.unwrap();
        assert_eq!(bad.seq, 3);
        assert_eq!(bad.reason, ChainBreak::SequenceGap { expected: 2, found: 3 });
    }

    #[test]
    fn swapped_events_are_named() {
        let mut events = chain(5);
        let head = head_of(&events);
        // Swap the contents of positions 2 and 3 but keep the sequence numbers in order.
        let (a, b) = (events[1].entry.seq, events[2].entry.seq);
        events.swap(1, 2);
        events[1].entry.seq = a;
        events[2].entry.seq = b;
        let bad = verify(&events, head).first_bad_event.unwrap();
        assert_eq!((bad.seq, bad.reason), (2, ChainBreak::PreviousHashMismatch));
    }

    #[test]
    fn a_truncated_chain_misses_its_head() {
        let mut events = chain(5);
        let head = head_of(&events);
        events.pop();
        let bad = verify(&events, head).first_bad_event.unwrap();
        assert_eq!(bad.reason, ChainBreak::HeadMismatch { head_seq: 5, chain_end: 4 });
        assert_eq!(bad.id, None);
    }

    #[test]
    fn canonical_bytes_ignore_detail_key_order() {
        let events = chain(1);
        let mut reordered = events[0].entry.clone();
        let Value::Object(map) = &events[0].entry.details else { unreachable!() };
        let mut reversed = serde_json::Map::new();
        for (k, v) in map.iter().rev() {
            reversed.insert(k.clone(), v.clone());
        }
        reordered.details = Value::Object(reversed);
        assert_eq!(reordered.canonical_bytes(), events[0].entry.canonical_bytes());
    }

    #[test]
    fn canonical_bytes_are_stable() {
        let entry = ChainEntry {
            org_id: Uuid::nil(),
            seq: 1,
            id: Uuid::nil(),
            occurred_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
                .unwrap()
                .to_utc(),
            actor_kind: "cli".into(),
            actor_id: None,
            actor_role: None,
            ip: None,
            user_agent: Some("ua \"quoted\"".into()),
            request_id: None,
            action: "org.created".into(),
            target_kind: Some("organisation".into()),
            target_id: Some("x".into()),
            outcome: "success".into(),
            details: serde_json::json!({"b": 1, "a": true}),
        };
        let text = String::from_utf8(entry.canonical_bytes()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"org_id":"00000000-0000-0000-0000-000000000000","seq":1,"id":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-01-02T03:04:05.123456Z","actor_kind":"cli","actor_id":null,"actor_role":null,"ip":null,"user_agent":"ua \"quoted\"","request_id":null,"action":"org.created","target_kind":"organisation","target_id":"x","outcome":"success","details":{"a":true,"b":1}}"#
        );
    }
}
