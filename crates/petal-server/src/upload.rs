//! Receiving CVs: a multipart request with one or many `file` parts, streamed part by part.
//! Each file is read up to the per-file limit (a larger one is drained and refused, never
//! kept), its format decided by its bytes, its structure checked off the async threads, then
//! sealed with a fresh data key under the job key and written to the object store under a
//! random name. Rows and audit events for the whole request are written in one transaction at
//! the end; if anything fails or the request is abandoned, the blobs already written are
//! removed, so nothing is half-stored. Refused files are reported per file and audited without their name.

use crate::http::{ApiError, AppState};
use crate::vault::JobKey;
use axum::extract::Multipart;
use axum::http::StatusCode;
use petal_documents::{DocumentKind, Limits, Rejection, check_filename, validate};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{DocumentId, JobId, UserId};
use petal_storage::documents::Document;
use petal_storage::{OrgScope, audit, documents, jobs};
use std::sync::Arc;

/// Size limits for uploads, the structural checks' bounds, and how many checks may run at
/// once.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Largest file.
    pub per_file: u64,
    /// Largest request (every file together).
    pub per_request: u64,
    /// Bounds of the structural checks.
    pub checks: Limits,
    /// One permit per core: checks and sealing wait for a permit, so many concurrent uploads
    /// queue instead of multiplying the memory and CPU a hostile file may take.
    pub gate: Arc<tokio::sync::Semaphore>,
}

impl UploadLimits {
    /// Limits with the given per-file and per-request sizes.
    pub fn new(per_file: u64, per_request: u64) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            per_file,
            per_request,
            checks: Limits { max_file_bytes: per_file, ..Limits::default() },
            gate: Arc::new(tokio::sync::Semaphore::new(cores)),
        }
    }
}

/// A file that was refused.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Rejected {
    /// The sanitised file name as sent (empty when none was sent).
    pub filename: String,
    /// Why, as a stable code.
    pub code: &'static str,
    /// Why, in words.
    pub message: String,
}

/// A file that was stored.
#[derive(Debug)]
pub struct Stored {
    /// Its row.
    pub document: Document,
    /// Its sanitised file name.
    pub filename: String,
}

/// What an upload produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Stored documents, in the order received.
    pub stored: Vec<Stored>,
    /// Refused files, in the order received.
    pub rejected: Vec<Rejected>,
}

/// Who uploads into which job.
pub struct Destination<'a> {
    /// The uploader's organisation.
    pub scope: &'a OrgScope,
    /// The job.
    pub job: JobId,
    /// The job's key.
    pub key: Arc<JobKey>,
    /// The uploader.
    pub user: UserId,
    /// The uploader's audit context.
    pub audit: AuditContext,
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_too_large",
        format!("An upload request may carry at most {limit} bytes in total."),
    )
}

/// Receives every part of `multipart` into `to`, stores what passes, records everything.
pub async fn receive(
    state: &AppState,
    to: Destination<'_>,
    multipart: Multipart,
) -> Result<Outcome, ApiError> {
    let mut outcome = Outcome::default();
    let mut written = Written { objects: state.objects.clone(), names: Vec::new(), kept: false };
    let result = match receive_files(state, &to, multipart, &mut outcome, &mut written).await {
        Ok(()) => record(state, &to, &outcome).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => {
            written.kept = true;
            Ok(outcome)
        }
        Err(error) => {
            // Removed before answering, so the client never sees a blob outlive its error.
            delete_all(&written.objects, std::mem::take(&mut written.names)).await;
            Err(error)
        }
    }
}

/// The blobs an upload has written (or begun to write). Unless the upload is recorded, they are
/// deleted when this is dropped: on an error, and also when the client goes away or the
/// request times out, which drop the request's future at whatever point it had reached.
struct Written {
    objects: petal_storage::objects::ObjectStorage,
    names: Vec<String>,
    kept: bool,
}

impl Drop for Written {
    fn drop(&mut self) {
        if self.kept || self.names.is_empty() {
            return;
        }
        let (objects, names) = (self.objects.clone(), std::mem::take(&mut self.names));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { delete_all(&objects, names).await });
            }
            Err(_) => tracing::warn!(count = names.len(), "unrecorded blobs left: no runtime"),
        }
    }
}

async fn receive_files(
    state: &AppState,
    to: &Destination<'_>,
    mut multipart: Multipart,
    outcome: &mut Outcome,
    written: &mut Written,
) -> Result<(), ApiError> {
    let limits = &state.uploads;
    let mut request_bytes: u64 = 0;
    let mut files = 0;
    // The candidates of the files that follow asked for manual review only.
    let mut manual_review = false;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        if field.name() == Some("manual_review") {
            if files > 0 {
                // The files before it would have been stored without the mark.
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_manual_review",
                    "Send the \"manual_review\" field before the files.",
                ));
            }
            let value = field.text().await.map_err(malformed)?;
            manual_review = match value.trim() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_manual_review",
                        "The \"manual_review\" field must be true or false.",
                    ));
                }
            };
            continue;
        }
        if field.name() != Some("file") {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unexpected_field",
                "Send each file in a multipart field named \"file\" (and, before them, \
                 optionally \"manual_review\").",
            ));
        }
        files += 1;
        let raw_name = field.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        let mut oversized = false;
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            request_bytes += chunk.len() as u64;
            if request_bytes > limits.per_request {
                return Err(too_large(limits.per_request));
            }
            if oversized || (bytes.len() + chunk.len()) as u64 > limits.per_file {
                // Keep reading (the request limit still applies) but keep nothing.
                oversized = true;
                bytes = Vec::new();
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
        let checked = if oversized {
            Err(Rejection::TooLarge { limit: limits.per_file })
        } else {
            check_filename(&raw_name).map(|name| (name, bytes))
        };
        match checked {
            Ok((filename, bytes)) => {
                match store(state, to, &filename, bytes, manual_review, written).await? {
                    Ok(document) => outcome.stored.push(Stored { document, filename }),
                    Err(rejection) => outcome.rejected.push(rejected(&raw_name, &rejection)),
                }
            }
            Err(rejection) => outcome.rejected.push(rejected(&raw_name, &rejection)),
        }
    }
    if files == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_files",
            "The request holds no \"file\" part.",
        ));
    }
    Ok(())
}

fn malformed(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            error.body_text(),
        );
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed_multipart",
        "The multipart body is malformed.",
    )
}

fn rejected(raw_name: &str, rejection: &Rejection) -> Rejected {
    Rejected {
        filename: petal_documents::sanitize_filename(raw_name),
        code: rejection.code(),
        message: rejection.to_string(),
    }
}

/// Checks one file and, if it passes, seals and writes it. The outer error is a failure of
/// the server (abort the request); the inner one a refusal of the file.
async fn store(
    state: &AppState,
    to: &Destination<'_>,
    filename: &str,
    bytes: Vec<u8>,
    manual_review: bool,
    written: &mut Written,
) -> Result<Result<Document, Rejection>, ApiError> {
    let checks = state.uploads.checks;
    let id = DocumentId::new();
    let key = Arc::clone(&to.key);
    let size = bytes.len() as i64;
    let _permit = state.uploads.gate.acquire().await.map_err(|e| ApiError::internal(&e))?;
    let sealed = tokio::task::spawn_blocking(move || {
        let kind = validate(&bytes, &checks)?;
        Ok::<_, Rejection>((kind, key.seal_document(id, bytes)))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let (kind, blob): (DocumentKind, _) = match sealed {
        Ok((kind, blob)) => (kind, blob.map_err(|e| ApiError::internal(&e))?),
        Err(rejection) => return Ok(Err(rejection)),
    };
    let filename_sealed = to
        .key
        .seal_field("filename", id, filename.as_bytes())
        .map_err(|e| ApiError::internal(&e))?;
    let object_name = format!("documents/{}", uuid::Uuid::new_v4().simple());
    // Named before the write starts, so a write cut short is cleaned up too.
    written.names.push(object_name.clone());
    state
        .objects
        .put(&object_name, blob.into_chunks())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Ok(Document {
        id,
        job_id: to.job,
        uploaded_by: to.user,
        object_name,
        filename_sealed,
        kind: kind.as_str().to_owned(),
        size_bytes: size,
        status: "queued".to_owned(),
        created_at: state.clock.now(),
        failure: None,
        manual_review,
    }))
}

/// Writes the rows and the audit events of one upload in one transaction.
async fn record(state: &AppState, to: &Destination<'_>, outcome: &Outcome) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(to.scope).await?;
    // The job row first, as everything that changes a job's documents locks it (ARCHITECTURE.md);
    // a job deleted while the files streamed in takes nothing more.
    if !jobs::lock(&mut tx, to.job).await? {
        return Err(ApiError::not_found());
    }
    let job = Target::job(to.job);
    for stored in &outcome.stored {
        documents::insert(&mut tx, &stored.document).await?;
        let event = AuditEvent::success(
            AuditAction::DocumentUploaded,
            Some(Target::document(stored.document.id)),
        )
        .detail("job_id", Detail::Label(to.job.to_string()))
        .detail("format", Detail::Label(stored.document.kind.clone()))
        .detail("bytes", Detail::Number(stored.document.size_bytes))
        .detail("manual_review", Detail::Flag(stored.document.manual_review));
        audit::append(&mut tx, now, &to.audit, &event).await?;
    }
    for refused in &outcome.rejected {
        // The file name may name the candidate: only the reason is recorded.
        let event = AuditEvent::failure(AuditAction::DocumentRejected, Some(job.clone()))
            .detail("code", Detail::Label(refused.code.to_owned()));
        audit::append(&mut tx, now, &to.audit, &event).await?;
    }
    let queued: Vec<_> = outcome.stored.iter().map(|s| s.document.id).collect();
    crate::screening::enqueue(&mut tx, to.job, &queued, now, &to.audit).await?;
    tx.commit().await?;
    state.wakeup.notify();
    Ok(())
}

/// Deletes blobs whose rows are gone or were never written. A failure is logged by object
/// name only. Such a blob stays unreadable: either its job key is destroyed, or its document
/// id (bound into its encryption) was never stored anywhere.
pub async fn delete_all(objects: &petal_storage::objects::ObjectStorage, names: Vec<String>) {
    for name in names {
        if let Err(error) = objects.delete(&name).await {
            tracing::warn!(object = %name, %error, "could not delete a blob; it is unreadable without its key");
        }
    }
}
