//! The audit log over HTTP (Admins): events newest first, filtered and paged, exported, the
//! chain's verification, and signed checkpoints on demand.

use super::{ApiError, AppState, ErrorBody};
use crate::audit_export::{self, EventView, Format};
use crate::audit_seals;
use crate::auth::extract::{Authorized, ReadAudit};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use petal_domain::audit::chain::ChainReport;
use petal_domain::audit::seal::SealDocument;
use petal_storage::audit::{self, AuditFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Events per page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 50;
/// Most events per page.
const MAX_LIMIT: i64 = 500;

/// Filters and paging of `GET /api/v1/audit`.
#[derive(Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// An action name, such as `document.accessed`.
    pub(crate) action: Option<String>,
    /// The acting user's id.
    pub(crate) actor: Option<String>,
    /// The target's id (a document, job or user).
    pub(crate) target: Option<String>,
    /// From this time (RFC 3339, inclusive).
    pub(crate) from: Option<String>,
    /// Until this time (RFC 3339, exclusive).
    pub(crate) to: Option<String>,
    /// Events per page, 1–500 (default 50).
    pub(crate) limit: Option<String>,
    /// The previous page's `next_cursor`.
    pub(crate) cursor: Option<String>,
}

/// A page of events.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventPage {
    events: Vec<EventView>,
    /// Pass as `cursor` for the next page; none on the last.
    next_cursor: Option<String>,
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
}

fn time(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| invalid(format!("{name} must be an RFC 3339 time")))
        })
        .transpose()
}

impl AuditQuery {
    /// The filters and page size, validated; a malformed value is 422 `invalid_query`.
    pub(crate) fn parse(self) -> Result<(AuditFilter, i64), ApiError> {
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(value) => match value.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(invalid(format!("limit must be from 1 to {MAX_LIMIT}"))),
            },
        };
        let actor = self
            .actor
            .map(|a| Uuid::parse_str(&a).map_err(|_| invalid("actor must be a user id".into())))
            .transpose()?;
        let before_seq = self
            .cursor
            .map(|c| match c.parse::<i64>() {
                Ok(seq) if seq > 0 => Ok(seq),
                _ => Err(invalid("cursor is not one this server gave".into())),
            })
            .transpose()?;
        let bounded = |name: &str, value: Option<String>| match value {
            Some(v) if v.is_empty() || v.len() > 200 => {
                Err(invalid(format!("{name} must be 1 to 200 characters")))
            }
            other => Ok(other),
        };
        let filter = AuditFilter {
            action: bounded("action", self.action)?,
            actor,
            target: bounded("target", self.target)?,
            from: time("from", self.from.as_deref())?,
            to: time("to", self.to.as_deref())?,
            before_seq,
        };
        Ok((filter, limit))
    }
}

/// The organisation's audit events, newest first (Admin). Filters: `action`, `actor`,
/// `target`, `from`, `to`; paging: `limit` (default 50, at most 500) and `cursor`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = EventPage), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    admin: Authorized<ReadAudit>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let Query(query) = query.map_err(|_| {
        invalid("unknown or repeated query parameter; see the API description".into())
    })?;
    let (filter, limit) = query.parse()?;
    let mut tx = state.db.begin_snapshot(admin.user.scope()).await?;
    // One more than asked shows whether another page follows.
    let mut records = audit::list(&mut tx, &filter, limit + 1).await?;
    drop(tx);
    let more = records.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    records.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more { records.last().map(|r| r.seq.to_string()) } else { None };
    Ok(Json(EventPage { events: records.into_iter().map(EventView::from).collect(), next_cursor }))
}

/// The export's format and filters (`limit` and `cursor` do not apply).
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `jsonl` (one event per line) or `csv`.
    format: String,
    /// As for the list.
    action: Option<String>,
    /// As for the list.
    actor: Option<String>,
    /// As for the list.
    target: Option<String>,
    /// As for the list.
    from: Option<String>,
    /// As for the list.
    to: Option<String>,
}

/// The organisation's audit events matching the filters, newest first, streamed as JSON lines
/// or CSV (Admin; audited as `audit.exported`). Events are read a thousand at a time, so the
/// export never holds the log in memory; events appended meanwhile are not included.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(ExportQuery),
    responses((status = 200, content_type = "application/x-ndjson"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    admin: Authorized<ReadAudit>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| {
        invalid("format is required (jsonl or csv); other parameters as for the list".into())
    })?;
    let format = Format::parse(&query.format)
        .ok_or_else(|| invalid("format must be jsonl or csv".into()))?;
    let (mut filter, _) = AuditQuery {
        action: query.action,
        actor: query.actor,
        target: query.target,
        from: query.from,
        to: query.to,
        limit: None,
        cursor: None,
    }
    .parse()?;
    let now = state.clock.now();
    let scope = admin.user.scope().clone();
    audit_export::begin(&state.db, &scope, now, &admin.user.audit(), format, &mut filter).await?;
    let db = state.db.clone();
    let batches = futures_util::stream::unfold(Some(filter), move |at| {
        let (db, scope) = (db.clone(), scope.clone());
        async move {
            let mut filter = at?;
            match audit_export::next_batch(&db, &scope, &mut filter).await {
                Ok(records) if records.is_empty() => None,
                Ok(records) => {
                    let bytes =
                        audit_export::encode(format, records).map_err(std::io::Error::other);
                    Some((bytes, Some(filter)))
                }
                Err(error) => {
                    tracing::error!(%error, "audit export stopped");
                    Some((Err(std::io::Error::other("audit export failed")), None))
                }
            }
        }
    });
    let stream = futures_util::stream::once(async move { Ok(format.preamble()) }).chain(batches);
    let content_type = match format {
        Format::Jsonl => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let disposition = format!(
        "attachment; filename=\"audit-{}.{}\"",
        now.format("%Y%m%dT%H%M%SZ"),
        format.as_str()
    );
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| ApiError::internal(&e))?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Verifies the organisation's whole hash chain against its recorded head and its signed
/// checkpoints and anchors, in the database and in the object store (Admin): whether it is
/// intact, how many events and checkpoints were checked, the head hash, and the first bad
/// event.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    admin: Authorized<ReadAudit>,
) -> Result<Json<ChainReport>, ApiError> {
    let scope = admin.user.scope();
    let report = audit_seals::verify(&state.db, &state.objects, &state.sealer, scope)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(report))
}

/// Signs a checkpoint of the organisation's chain head now (Admin), stored in the database
/// and the object store; answers the checkpoint. The request is audited after it.
#[utoipa::path(post, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 201, body = Object), (status = 403, body = ErrorBody)))]
pub async fn checkpoint(
    State(state): State<AppState>,
    admin: Authorized<ReadAudit>,
) -> Result<(StatusCode, Json<SealDocument>), ApiError> {
    let context = admin.user.audit();
    let now = state.clock.now();
    let scope = admin.user.scope();
    let seal = audit_seals::checkpoint(
        &state.db,
        &state.objects,
        &state.sealer,
        scope,
        now,
        Some(&context),
    )
    .await
    .map_err(|e| ApiError::internal(&e))?
    // Every organisation's chain starts with its creation.
    .ok_or_else(|| ApiError::internal(&"an organisation without audit events"))?;
    Ok((StatusCode::CREATED, Json(SealDocument::from(&seal))))
}
