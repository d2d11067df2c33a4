//! Sealing the audit trail: signed checkpoints of each organisation's chain head, signed
//! anchors where retention purged the oldest events, and verification of a chain against both.
//!
//! Every seal is written to the object store first and to the database second, and only ever
//! describes committed events, so a copy in either place is always true of the real chain.
//! The store copy is written only if none exists for that event: a second process sealing the
//! same event at once adopts the first one's seal, so the two copies always agree, and a
//! genuine copy is never overwritten.
//! Verification reads the store's copies, then (in one database snapshot) the database's
//! copies and the chain: any seal not signed by this installation's key, or whose two copies
//! differ, breaks the chain; the chain starts after the latest anchor in the database and
//! must pass through every checkpoint. Rewriting the database alone therefore cannot hide a
//! change: the checkpoints in the object store no longer match.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use petal_crypto::{Key256, SealKey};
use petal_domain::audit::chain::{ChainHash, ChainReport, ChainVerifier};
use petal_domain::audit::seal::{Seal, SealDocument, SealKind, SealStatement, object_prefix};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail};
use petal_storage::objects::ObjectStorage;
use petal_storage::seals::StoredSeal;
use petal_storage::{Database, OrgScope, StorageError, audit, seals};
use std::collections::BTreeMap;

/// Signs and checks seals with the installation's audit key.
pub struct AuditSealer {
    key: SealKey,
}

impl std::fmt::Debug for AuditSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditSealer({:?})", self.key)
    }
}

/// Why sealing failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The database or the object store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A seal could not be encoded.
    #[error("cannot encode a seal: {0}")]
    Encode(#[from] serde_json::Error),
    /// The object store already holds a different, untrustworthy seal for that event.
    #[error("the object store holds a seal for event {0} that is not this installation's")]
    ForeignCopy(i64),
    /// The chain does not verify, so nothing is purged from it.
    #[error("the audit chain does not verify; nothing purged")]
    Broken,
}

impl AuditSealer {
    /// The sealer whose key derives from `installation_key`.
    pub fn new(installation_key: &Key256) -> Result<Self, petal_crypto::CryptoError> {
        Ok(Self { key: installation_key.audit_sealing_key()? })
    }

    fn sign(&self, statement: SealStatement) -> Seal {
        let signature = self.key.sign(&statement.signed_bytes());
        Seal { statement, signature }
    }

    fn is_genuine(&self, seal: &Seal, org_id: uuid::Uuid) -> bool {
        seal.statement.org_id == org_id
            && self.key.verify(&seal.statement.signed_bytes(), &seal.signature)
    }
}

/// Signing times are kept to the microsecond, as both databases store them.
fn to_micros(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Signs a statement about a committed event and writes it to the object store, unless a
/// seal of that kind for that event is there already, which is then adopted (it must be
/// genuine). The caller then stores the returned seal in the database.
async fn sign_and_publish(
    objects: &ObjectStorage,
    sealer: &AuditSealer,
    statement: SealStatement,
) -> Result<Seal, SealError> {
    let seal = sealer.sign(statement);
    let document = serde_json::to_vec_pretty(&SealDocument::from(&seal))?;
    let name = seal.statement.object_name();
    let Some(existing) = objects.put_new(&name, Bytes::from(document)).await? else {
        return Ok(seal);
    };
    let adopted = serde_json::from_slice::<SealDocument>(&existing)
        .ok()
        .and_then(|document| document.to_seal())
        .filter(|found| {
            found.statement.kind == seal.statement.kind
                && found.statement.seq == seal.statement.seq
                && sealer.is_genuine(found, seal.statement.org_id)
        });
    adopted.ok_or(SealError::ForeignCopy(seal.statement.seq))
}

/// Makes a checkpoint of `scope`'s chain head unless one exists at that event, and returns
/// the checkpoint of the head (`None` while the chain is empty). With `requested_by`, the
/// request is audited (after the checkpoint, so the checkpoint covers the events before it).
pub async fn checkpoint(
    db: &Database,
    objects: &ObjectStorage,
    sealer: &AuditSealer,
    scope: &OrgScope,
    now: DateTime<Utc>,
    requested_by: Option<&AuditContext>,
) -> Result<Option<Seal>, SealError> {
    let mut tx = db.begin_scoped(scope).await?;
    let (seq, hash) = audit::head(&mut tx).await?;
    let existing =
        if seq == 0 { None } else { seals::get(&mut tx, SealKind::Checkpoint, seq).await? };
    drop(tx);
    if seq == 0 {
        return Ok(None);
    }
    let seal = match existing {
        Some(Ok(seal)) => seal,
        // An unreadable row stays as it is (seals are append-only); verification reports it.
        Some(Err(_)) | None => {
            let statement = SealStatement {
                kind: SealKind::Checkpoint,
                org_id: scope.org_id().as_uuid(),
                seq,
                hash,
                signed_at: to_micros(now),
            };
            sign_and_publish(objects, sealer, statement).await?
        }
    };
    let mut tx = db.begin_scoped(scope).await?;
    seals::insert(&mut tx, &seal).await?;
    if let Some(context) = requested_by {
        let event = AuditEvent::success(AuditAction::AuditCheckpointCreated, None)
            .detail("seq", Detail::Number(seq));
        audit::append(&mut tx, now, context, &event).await?;
    }
    tx.commit().await?;
    Ok(Some(seal))
}

/// Makes a checkpoint of `scope`'s head if the chain moved since its latest checkpoint (what
/// the scheduler runs); returns whether one was made.
pub async fn checkpoint_if_moved(
    db: &Database,
    objects: &ObjectStorage,
    sealer: &AuditSealer,
    scope: &OrgScope,
    now: DateTime<Utc>,
) -> Result<bool, SealError> {
    let mut tx = db.begin_scoped(scope).await?;
    let (head, _) = audit::head(&mut tx).await?;
    let latest = seals::latest(&mut tx, SealKind::Checkpoint).await?;
    drop(tx);
    if head <= latest {
        return Ok(false);
    }
    Ok(checkpoint(db, objects, sealer, scope, now, None).await?.is_some())
}

/// How often retention purges an organisation's audit events at most.
const PURGE_EVERY: chrono::Duration = chrono::Duration::days(1);

/// Purges `scope`'s oldest events, those that happened before `cutoff`, leaving a signed
/// anchor at the last one purged, and records the purge in the trail. Returns how many events
/// were purged.
///
/// The database's times alone are not trusted to say what is old: the purge stops at the
/// newest checkpoint in the object store that was *signed* before `cutoff` (so every event it
/// covers is older), and only a chain that verifies is purged. Someone who backdates events
/// in the database therefore purges nothing they could not already. An organisation is purged
/// at most once a day.
pub async fn purge_before(
    db: &Database,
    objects: &ObjectStorage,
    sealer: &AuditSealer,
    scope: &OrgScope,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    context: &AuditContext,
) -> Result<u64, SealError> {
    let org = scope.org_id().as_uuid();
    let mut tx = db.begin_scoped(scope).await?;
    let by_dates = audit::purgeable_through(&mut tx, cutoff).await?;
    let anchored = seals::latest(&mut tx, SealKind::Anchor).await?;
    let last_purge = seals::get(&mut tx, SealKind::Anchor, anchored).await?;
    drop(tx);
    let Some((by_dates, _)) = by_dates else { return Ok(0) };
    // At most one purge a day: each reads every seal in the store and verifies the whole
    // chain first, so the hourly runs in between do neither.
    if last_purge.is_some_and(|seal| seal.is_ok_and(|s| s.statement.signed_at > now - PURGE_EVERY))
    {
        return Ok(0);
    }
    let copies = stored_copies(objects, scope).await?;
    let in_store = &copies.0;
    let point = in_store
        .values()
        .filter(|seal| {
            let s = &seal.statement;
            s.kind == SealKind::Checkpoint
                && s.signed_at < cutoff
                && (anchored + 1..=by_dates).contains(&s.seq)
                && sealer.is_genuine(seal, org)
        })
        .max_by_key(|seal| seal.statement.seq);
    let Some(point) = point else { return Ok(0) };
    if !verify_with(db, sealer, scope, &copies).await?.ok {
        return Err(SealError::Broken);
    }
    let (through, hash) = (point.statement.seq, point.statement.hash);
    let statement = SealStatement {
        kind: SealKind::Anchor,
        org_id: org,
        seq: through,
        hash,
        signed_at: to_micros(now),
    };
    let anchor = sign_and_publish(objects, sealer, statement).await?;
    let mut tx = db.begin_scoped(scope).await?;
    if !seals::insert(&mut tx, &anchor).await? {
        // Another process purged this far at the same time.
        return Ok(0);
    }
    let purged = audit::purge_through(&mut tx, through).await?;
    let event = AuditEvent::success(AuditAction::AuditPurged, None)
        .detail("through_seq", Detail::Number(through))
        .detail("events", Detail::Number(i64::try_from(purged).unwrap_or(i64::MAX)));
    audit::append(&mut tx, now, context, &event).await?;
    tx.commit().await?;
    Ok(purged)
}

/// The seals found in the object store, readable ones by kind and sequence number, and the
/// sequence numbers of those that cannot be read.
type StoreCopies = (BTreeMap<(SealKind, i64), Seal>, Vec<i64>);

/// The seals of `scope` found in the object store: each readable one by kind and sequence
/// number, and the sequence numbers of any that cannot be read.
async fn stored_copies(
    objects: &ObjectStorage,
    scope: &OrgScope,
) -> Result<StoreCopies, SealError> {
    let org = scope.org_id().as_uuid();
    let mut found = BTreeMap::new();
    let mut unreadable = Vec::new();
    for kind in [SealKind::Checkpoint, SealKind::Anchor] {
        for name in objects.list(&object_prefix(org, kind)).await? {
            let bytes = objects.get(&name).await?;
            let seal = serde_json::from_slice::<SealDocument>(&bytes)
                .ok()
                .and_then(|document| document.to_seal())
                .filter(|seal| seal.statement.kind == kind && seal.statement.object_name() == name);
            match seal {
                Some(seal) => {
                    found.insert((kind, seal.statement.seq), seal);
                }
                None => unreadable.push(seq_in_name(&name)),
            }
        }
    }
    Ok((found, unreadable))
}

/// The sequence number in a seal's object name (0 when it has none).
fn seq_in_name(name: &str) -> i64 {
    name.rsplit('/')
        .next()
        .and_then(|file| file.strip_suffix(".json"))
        .and_then(|seq| seq.parse().ok())
        .unwrap_or(0)
}

/// Verifies `scope`'s chain against its seals in the database and in the object store.
pub async fn verify(
    db: &Database,
    objects: &ObjectStorage,
    sealer: &AuditSealer,
    scope: &OrgScope,
) -> Result<ChainReport, SealError> {
    // The store first: every copy there then describes events the snapshot below holds.
    let copies = stored_copies(objects, scope).await?;
    verify_with(db, sealer, scope, &copies).await
}

/// [`verify`] with the store's copies already read.
async fn verify_with(
    db: &Database,
    sealer: &AuditSealer,
    scope: &OrgScope,
    (in_store, unreadable): &StoreCopies,
) -> Result<ChainReport, SealError> {
    let org = scope.org_id().as_uuid();
    let start = |in_database: Vec<StoredSeal>| {
        let mut invalid = unreadable.clone();
        let mut anchor: Option<(i64, ChainHash)> = None;
        let mut points = Vec::new();
        let mut in_database_keys = std::collections::HashSet::new();
        for stored in in_database {
            let seal = match stored {
                Ok(seal) => seal,
                Err(bad) => {
                    invalid.push(bad.seq);
                    continue;
                }
            };
            let s = &seal.statement;
            let key = (s.kind, s.seq);
            in_database_keys.insert(key);
            let copy_differs = in_store.get(&key).is_some_and(|copy| *copy != seal);
            if copy_differs || !sealer.is_genuine(&seal, org) {
                invalid.push(s.seq);
                continue;
            }
            if s.kind == SealKind::Anchor && anchor.is_none_or(|(seq, _)| seq < s.seq) {
                anchor = Some((s.seq, s.hash));
            }
            points.push((s.seq, s.hash));
        }
        for (key, seal) in in_store {
            if in_database_keys.contains(key) {
                continue;
            }
            // A copy the database lacks: its event must still be in the chain (an anchor
            // here is one whose purge never committed).
            if sealer.is_genuine(seal, org) {
                points.push((seal.statement.seq, seal.statement.hash));
            } else {
                invalid.push(seal.statement.seq);
            }
        }
        let mut verifier = ChainVerifier::new(anchor, points);
        if let Some(first) = invalid.into_iter().min() {
            verifier.push_invalid_seal(first);
        }
        verifier
    };
    Ok(audit::verify(db, scope, start).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_are_genuine_only_for_their_organisation_and_content() {
        let key = Key256::generate().unwrap();
        let sealer = AuditSealer::new(&key).unwrap();
        let org = uuid::Uuid::from_u128(1);
        let statement = SealStatement {
            kind: SealKind::Checkpoint,
            org_id: org,
            seq: 3,
            hash: ChainHash::GENESIS,
            signed_at: to_micros(Utc::now()),
        };
        let seal = sealer.sign(statement.clone());
        assert!(sealer.is_genuine(&seal, org));
        assert!(!sealer.is_genuine(&seal, uuid::Uuid::from_u128(2)));
        let moved = Seal { statement: SealStatement { seq: 4, ..statement }, ..seal.clone() };
        assert!(!sealer.is_genuine(&moved, org));
        let other = AuditSealer::new(&Key256::generate().unwrap()).unwrap();
        assert!(!other.is_genuine(&seal, org));
        assert_eq!(seq_in_name(&seal.statement.object_name()), 3);
        assert_eq!(seq_in_name("audit/x/checkpoints/junk"), 0);
    }
}
