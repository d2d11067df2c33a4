//! Signed statements about an organisation's chain, kept in the database and in the object
//! store.
//!
//! A *checkpoint* says "event `seq` of this organisation's chain has hash `hash`". Because a
//! copy sits outside the database, rewriting the database alone (even recomputing every hash
//! consistently) no longer verifies: the chain's hash at a checkpoint no longer matches. An
//! *anchor* is left by retention when it purges the oldest events: the chain now starts after
//! `seq`, continuing from `hash`. Both are signed with a key derived from the installation key
//! (Ed25519), so neither can be forged with access to the database or the store alone.

use super::chain::ChainHash;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a seal vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealKind {
    /// The chain passed through `hash` at `seq`.
    Checkpoint,
    /// Events up to `seq` were purged by retention; the chain continues from `hash`.
    Anchor,
}

impl SealKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SealKind::Checkpoint => "checkpoint",
            SealKind::Anchor => "anchor",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "checkpoint" => Some(SealKind::Checkpoint),
            "anchor" => Some(SealKind::Anchor),
            _ => None,
        }
    }
}

/// What is signed: everything a seal states, in a fixed binary layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealStatement {
    /// Checkpoint or anchor.
    pub kind: SealKind,
    /// The organisation whose chain this is.
    pub org_id: Uuid,
    /// The event the statement is about.
    pub seq: i64,
    /// That event's chain hash.
    pub hash: ChainHash,
    /// When the statement was signed (microsecond precision).
    pub signed_at: DateTime<Utc>,
}

impl SealStatement {
    /// The bytes signed: a domain-separation label, then each field in fixed width.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(b"petal audit seal v1\0");
        out.extend_from_slice(self.kind.as_str().as_bytes());
        out.push(0);
        out.extend_from_slice(self.org_id.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(self.hash.as_bytes());
        out.extend_from_slice(&self.signed_at.timestamp_micros().to_be_bytes());
        out
    }

    /// The object-store name of this statement's copy.
    pub fn object_name(&self) -> String {
        format!("{}{:020}.json", object_prefix(self.org_id, self.kind), self.seq)
    }
}

/// The object-store folder holding an organisation's seals of one kind.
pub fn object_prefix(org_id: Uuid, kind: SealKind) -> String {
    format!("audit/{org_id}/{}s/", kind.as_str())
}

/// A signed statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seal {
    /// What is stated.
    pub statement: SealStatement,
    /// The Ed25519 signature of [`SealStatement::signed_bytes`].
    pub signature: Vec<u8>,
}

/// A seal as written to the object store and shown over the API.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealDocument {
    /// `checkpoint` or `anchor`.
    pub kind: SealKind,
    /// The organisation.
    pub org_id: Uuid,
    /// The event.
    pub seq: i64,
    /// Its chain hash, hex.
    pub hash: String,
    /// When it was signed, RFC 3339 with microseconds.
    pub signed_at: String,
    /// The signature, hex.
    pub signature: String,
}

impl From<&Seal> for SealDocument {
    fn from(seal: &Seal) -> Self {
        let s = &seal.statement;
        SealDocument {
            kind: s.kind,
            org_id: s.org_id,
            seq: s.seq,
            hash: s.hash.to_hex(),
            signed_at: s.signed_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            signature: hex::encode(&seal.signature),
        }
    }
}

impl SealDocument {
    /// The seal this document describes; `None` when a field is malformed.
    pub fn to_seal(&self) -> Option<Seal> {
        let hash = hex::decode(&self.hash).ok().and_then(|b| ChainHash::from_slice(&b))?;
        let signed_at = DateTime::parse_from_rfc3339(&self.signed_at).ok()?.with_timezone(&Utc);
        Some(Seal {
            statement: SealStatement {
                kind: self.kind,
                org_id: self.org_id,
                seq: self.seq,
                hash,
                signed_at,
            },
            signature: hex::decode(&self.signature).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> SealStatement {
        SealStatement {
            kind: SealKind::Checkpoint,
            org_id: Uuid::from_u128(7),
            seq: 42,
            hash: ChainHash::from_slice(&[9; 32]).unwrap(),
            signed_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
        }
    }

    #[test]
    fn every_field_changes_the_signed_bytes() {
        let base = statement();
        let bytes = base.signed_bytes();
        let variants = [
            SealStatement { kind: SealKind::Anchor, ..base.clone() },
            SealStatement { org_id: Uuid::from_u128(8), ..base.clone() },
            SealStatement { seq: 43, ..base.clone() },
            SealStatement { hash: ChainHash::GENESIS, ..base.clone() },
            SealStatement {
                signed_at: DateTime::from_timestamp_micros(1_700_000_000_123_457).unwrap(),
                ..base.clone()
            },
        ];
        for variant in variants {
            assert_ne!(variant.signed_bytes(), bytes, "{variant:?}");
        }
    }

    #[test]
    fn the_document_round_trips_and_refuses_malformed_fields() {
        let seal = Seal { statement: statement(), signature: vec![1; 64] };
        let json = serde_json::to_string(&SealDocument::from(&seal)).unwrap();
        let back: SealDocument = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_seal().unwrap(), seal);
        assert_eq!(
            statement().object_name(),
            format!("audit/{}/checkpoints/00000000000000000042.json", Uuid::from_u128(7))
        );
        let bad_hash = SealDocument { hash: "abcd".into(), ..back };
        assert!(bad_hash.to_seal().is_none());
        assert!(serde_json::from_str::<SealDocument>(&json.replace('}', ",\"x\":1}")).is_err());
    }
}
