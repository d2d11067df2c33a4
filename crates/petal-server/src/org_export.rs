//! Exporting all of an organisation's data (SPEC §3 Data control) as one ZIP, built in the
//! background and stored encrypted in the object store, without holding it in memory.
//!
//! Three parts run at once, joined by bounded channels:
//!
//! 1. the *producer* (async) reads the organisation's data and sends ZIP entries: a file name,
//!    then its bytes in pieces (documents are decrypted segment by segment as they stream from
//!    the object store);
//! 2. the *packer* (a blocking thread, as the `zip` crate writes synchronously) writes the
//!    entries into a streamed ZIP whose bytes are sealed on the way out
//!    ([`petal_crypto::envelope::StreamSealer`], the documents' own format) and sent on;
//! 3. the *uploader* (async) writes the sealed bytes to the object store part by part.
//!
//! Memory stays bounded by the channels' capacities whatever the organisation's size.
//!
//! The ZIP holds `organisation.json`, `users.json`, and per job `jobs/<id>/job.json`,
//! `documents.json`, `results.json` (candidates, per-criterion results with evidence,
//! decisions), the original files as `jobs/<id>/files/<document id>.<format>`, and the audit
//! log as `audit.jsonl`.

use crate::audit_export::{self, Format};
use crate::http::AppState;
use crate::http::documents::{job_with_key, open_view};
use crate::http::jobs::JobView;
use crate::http::results::ranked;
use crate::http::users::UserView;
use bytes::Bytes;
use futures_util::StreamExt;
use petal_crypto::envelope::{StreamSealer, WrappingKey};
use petal_domain::ExportId;
use petal_storage::audit::AuditFilter;
use petal_storage::objects::ObjectWriter;
use petal_storage::{OrgScope, documents, exports, jobs, orgs, users};
use std::io::Write;
use tokio::sync::mpsc;

/// A piece of the ZIP's content, in order.
enum Entry {
    /// Starts a new file in the ZIP.
    File(String),
    /// More bytes of the current file.
    Data(Bytes),
}

/// Entries queued for the packer (a document piece is at most one 64 KiB segment).
const ENTRY_QUEUE: usize = 16;
/// Sealed pieces queued for the uploader.
const SEALED_QUEUE: usize = 16;

/// Why an export failed. Details go to the log, never to the API.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExportError(String);

fn failed(what: &str, cause: impl std::fmt::Display) -> ExportError {
    ExportError(format!("{what}: {cause}"))
}

/// The object name of an export's encrypted ZIP.
pub fn object_name(export: ExportId) -> String {
    format!("exports/{export}.zip.sealed")
}

/// Builds export `export` of `scope`'s organisation under `key`, then marks it ready (or
/// failed, leaving nothing in the store). Runs detached; the outcome is in the export's row.
pub async fn build(state: AppState, scope: OrgScope, export: ExportId, key: WrappingKey) {
    let name = object_name(export);
    let outcome = match state.objects.writer(&name).await {
        Ok(writer) => pack(&state, &scope, export, key, writer).await,
        Err(e) => Err(failed("cannot start the upload", e)),
    };
    let now = state.clock.now();
    let recorded = async {
        let mut tx = state.db.begin_scoped(&scope).await?;
        let kept = match &outcome {
            Ok(size) => {
                let size = i64::try_from(*size).unwrap_or(i64::MAX);
                exports::set_ready(&mut tx, export, &name, size, now).await?
            }
            Err(_) => exports::set_failed(&mut tx, export, now).await.map(|()| true)?,
        };
        tx.commit().await?;
        Ok::<_, petal_storage::StorageError>(kept)
    };
    if let Err(error) = &outcome {
        tracing::error!(%export, %error, "organisation export failed");
    }
    match recorded.await {
        Ok(true) => {}
        // Expired while it was being built: its key is gone, and so goes the ZIP.
        Ok(false) => crate::upload::delete_all(&state.objects, vec![name]).await,
        Err(error) => tracing::error!(%export, %error, "cannot record the outcome of an export"),
    }
}

/// How long an export is kept: after this its ZIP is deleted and its key destroyed.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(24);

/// Expires, in `tx`, its organisation's exports asked for before `cutoff`: their keys are
/// destroyed when `tx` commits; the caller then deletes their ZIPs with [`delete_zips`].
/// Retention expires exports a day old; erasing a candidate and deleting or purging a job
/// expire every earlier export, since it may hold what was just removed.
pub async fn expire_in(
    tx: &mut petal_storage::ScopedTx,
    cutoff: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ExportId>, petal_storage::StorageError> {
    let old = exports::older_than(tx, cutoff).await?;
    for id in &old {
        exports::set_expired(tx, *id, now).await?;
    }
    Ok(old)
}

/// Expires, in `tx`, every export of its organisation asked for until `now`: what erasing a
/// candidate or deleting a job calls, since those exports may hold what it removes.
pub async fn withdraw_all(
    tx: &mut petal_storage::ScopedTx,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ExportId>, petal_storage::StorageError> {
    expire_in(tx, now + chrono::Duration::microseconds(1), now).await
}

/// Deletes expired exports' ZIPs (a ZIP without its key is unreadable already).
pub async fn delete_zips(objects: &petal_storage::objects::ObjectStorage, ids: &[ExportId]) {
    crate::upload::delete_all(objects, ids.iter().map(|id| object_name(*id)).collect()).await;
}

/// Expires `scope`'s exports asked for more than [`LIFETIME`] before `now`. Returns how many
/// expired.
pub async fn expire(
    db: &petal_storage::Database,
    objects: &petal_storage::objects::ObjectStorage,
    scope: &OrgScope,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, petal_storage::StorageError> {
    let mut tx = db.begin_scoped(scope).await?;
    let old = expire_in(&mut tx, now - LIFETIME, now).await?;
    tx.commit().await?;
    delete_zips(objects, &old).await;
    Ok(old.len())
}

/// Runs the producer, packer and uploader together; returns the sealed ZIP's size.
async fn pack(
    state: &AppState,
    scope: &OrgScope,
    export: ExportId,
    key: WrappingKey,
    mut writer: ObjectWriter,
) -> Result<u64, ExportError> {
    let sealer = StreamSealer::new(&key, &crate::vault::export_context(scope.org_id(), export))
        .map_err(|e| failed("cannot start sealing", e))?;
    let (entries, entries_out) = mpsc::channel(ENTRY_QUEUE);
    let (sealed, mut sealed_out) = mpsc::channel(SEALED_QUEUE);
    let packer = tokio::task::spawn_blocking(move || write_zip(entries_out, sealer, sealed));
    let upload = async {
        while let Some(bytes) = sealed_out.recv().await {
            writer.write(&bytes).await.map_err(|e| failed("upload", e))?;
        }
        Ok::<_, ExportError>(())
    };
    let (produced, uploaded) = tokio::join!(produce(state, scope, export, entries), upload);
    let packed = packer.await.map_err(|e| failed("the packer stopped", e)).and_then(|p| p);
    // Any failure, in any of the three, abandons the upload: nothing is left in the store.
    match produced.and(packed).and(uploaded) {
        Ok(()) => writer.finish().await.map_err(|e| failed("cannot complete the upload", e)),
        Err(error) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, "could not abort an export's upload");
            }
            Err(error)
        }
    }
}

/// The blocking half: writes the entries into a streamed ZIP, sealing its bytes as they are
/// written. Ends when the producer hangs up.
fn write_zip(
    mut entries: mpsc::Receiver<Entry>,
    sealer: StreamSealer,
    out: mpsc::Sender<Bytes>,
) -> Result<(), ExportError> {
    let sink = SealingSink { sealer: Some(sealer), out };
    let mut zip = zip::ZipWriter::new_stream(sink);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    while let Some(entry) = entries.blocking_recv() {
        match entry {
            Entry::File(name) => zip.start_file(name, options).map_err(|e| failed("zip", e))?,
            Entry::Data(bytes) => zip.write_all(&bytes).map_err(|e| failed("zip", e))?,
        }
    }
    let mut sink = zip.finish().map_err(|e| failed("zip", e))?.into_inner();
    sink.finish()
}

/// Seals what the ZIP writer writes and sends it on.
struct SealingSink {
    sealer: Option<StreamSealer>,
    out: mpsc::Sender<Bytes>,
}

impl SealingSink {
    fn send(&self, sealed: Vec<u8>) -> std::io::Result<()> {
        if sealed.is_empty() {
            return Ok(());
        }
        self.out
            .blocking_send(Bytes::from(sealed))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload stopped"))
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        let sealer = self.sealer.take().ok_or_else(|| failed("seal", "finished twice"))?;
        let last = sealer.finish().map_err(|e| failed("seal", e))?;
        self.send(last).map_err(|e| failed("seal", e))
    }
}

impl Write for SealingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let sealer = self.sealer.as_mut().ok_or_else(|| std::io::Error::other("finished"))?;
        let sealed = sealer.push(buf).map_err(std::io::Error::other)?;
        self.send(sealed)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends entries one by one; fails once the packer has stopped.
struct Entries {
    tx: mpsc::Sender<Entry>,
}

impl Entries {
    async fn send(&self, entry: Entry) -> Result<(), ExportError> {
        self.tx.send(entry).await.map_err(|_| failed("zip", "the packer stopped"))
    }

    async fn file(&self, name: String, bytes: Bytes) -> Result<(), ExportError> {
        self.send(Entry::File(name)).await?;
        self.send(Entry::Data(bytes)).await
    }

    async fn json(&self, name: String, value: &impl serde::Serialize) -> Result<(), ExportError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| failed("encode", e))?;
        self.file(name, Bytes::from(bytes)).await
    }
}

/// The async half: reads everything and sends it as entries, recording progress per document.
async fn produce(
    state: &AppState,
    scope: &OrgScope,
    export: ExportId,
    tx: mpsc::Sender<Entry>,
) -> Result<(), ExportError> {
    let out = Entries { tx };
    let store = |e: petal_storage::StorageError| failed("read", e);
    let api = |e: crate::http::ApiError| failed("read", format!("{e:?}"));

    let mut db = state.db.begin_snapshot(scope).await.map_err(store)?;
    let settings = orgs::settings(&mut db).await.map_err(store)?;
    let team: Vec<UserView> =
        users::list(&mut db).await.map_err(store)?.into_iter().map(UserView::from).collect();
    let all_jobs = jobs::list(&mut db).await.map_err(store)?;
    let mut total = 0;
    let mut per_job = Vec::with_capacity(all_jobs.len());
    for job in &all_jobs {
        let rows = documents::list_for_job(&mut db, job.id).await.map_err(store)?;
        total += rows.len() as i64;
        per_job.push(rows);
    }
    drop(db);
    let mut db = state.db.begin_scoped(scope).await.map_err(store)?;
    let now = state.clock.now();
    exports::set_progress(&mut db, export, 0, total, now).await.map_err(store)?;
    db.commit().await.map_err(store)?;
    let organisation = serde_json::json!({
        "org_id": scope.org_id(),
        "exported_at": state.clock.now(),
        "settings": {
            "retention_days": settings.retention_days,
            "screening_engine": settings.screening_engine.as_str(),
            "blind_review": settings.blind_review,
        },
    });
    out.json("organisation.json".to_owned(), &organisation).await?;
    out.json("users.json".to_owned(), &team).await?;

    let mut done = 0;
    for (job, rows) in all_jobs.into_iter().zip(per_job) {
        let folder = format!("jobs/{}", job.id);
        let job_id = job.id;
        let mut db = state.db.begin_snapshot(scope).await.map_err(store)?;
        let (_, key) = job_with_key(state, &mut db, job_id).await.map_err(api)?;
        drop(db);
        let views = rows
            .iter()
            .map(|d| open_view(&key, d.clone(), false))
            .collect::<Result<Vec<_>, _>>()
            .map_err(api)?;
        out.json(format!("{folder}/job.json"), &JobView::try_from(job).map_err(api)?).await?;
        out.json(format!("{folder}/documents.json"), &views).await?;
        out.json(
            format!("{folder}/results.json"),
            &ranked(state, scope, job_id, false).await.map_err(api)?,
        )
        .await?;
        for document in rows {
            out.send(Entry::File(format!("{folder}/files/{}.{}", document.id, document.kind)))
                .await?;
            let mut opener = key.document_opener(document.id).map_err(|e| failed("open", e))?;
            let mut source =
                state.objects.get_stream(&document.object_name).await.map_err(store)?;
            while let Some(chunk) = source.next().await {
                let plain = opener.push(&chunk.map_err(store)?).map_err(|e| failed("open", e))?;
                out.send(Entry::Data(Bytes::from(plain))).await?;
            }
            let last = opener.finish().map_err(|e| failed("open", e))?;
            out.send(Entry::Data(Bytes::from(last))).await?;
            done += 1;
            let now = state.clock.now();
            let mut db = state.db.begin_scoped(scope).await.map_err(store)?;
            exports::set_progress(&mut db, export, done, total, now).await.map_err(store)?;
            db.commit().await.map_err(store)?;
        }
    }

    // The audit log as it stood when the export was requested and after, newest first.
    out.send(Entry::File("audit.jsonl".to_owned())).await?;
    let mut filter = AuditFilter::default();
    loop {
        let records =
            audit_export::next_batch(&state.db, scope, &mut filter).await.map_err(store)?;
        if records.is_empty() {
            break;
        }
        let bytes =
            audit_export::encode(Format::Jsonl, records).map_err(|e| failed("encode", e))?;
        out.send(Entry::Data(bytes)).await?;
        // Still alive: a long audit log is not taken for a stalled build.
        let mut db = state.db.begin_scoped(scope).await.map_err(store)?;
        let now = state.clock.now();
        exports::set_progress(&mut db, export, done, total, now).await.map_err(store)?;
        db.commit().await.map_err(store)?;
    }
    Ok(())
}
