//! The audit log over HTTP (Admins): events newest first, filtered and paged, and the chain's
//! verification.

use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, ReadAudit};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use petal_domain::audit::chain::ChainReport;
use petal_domain::audit::{AuditAction, AuditEvent, Detail};
use petal_storage::audit::{self, AuditFilter, AuditRecord};
use petal_storage::{Database, OrgScope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Events per page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 50;
/// Most events per page.
const MAX_LIMIT: i64 = 500;

/// Events read per round trip while exporting.
const EXPORT_BATCH: i64 = 1000;

/// Filters and paging of `GET /api/v1/audit`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// An action name, such as `document.accessed`.
    action: Option<String>,
    /// The acting user's id.
    actor: Option<String>,
    /// The target's id (a document, job or user).
    target: Option<String>,
    /// From this time (RFC 3339, inclusive).
    from: Option<String>,
    /// Until this time (RFC 3339, exclusive).
    to: Option<String>,
    /// Events per page, 1–500 (default 50).
    limit: Option<String>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// One event as the audit log shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    seq: i64,
    #[schema(value_type = String, format = Uuid)]
    id: Uuid,
    occurred_at: DateTime<Utc>,
    /// `user`, `system` or `cli`, with the user's id and role then.
    actor_kind: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    /// `success` or `failure`.
    outcome: String,
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

impl From<AuditRecord> for EventView {
    fn from(record: AuditRecord) -> Self {
        Self {
            seq: record.seq,
            id: record.id,
            occurred_at: record.occurred_at,
            actor_kind: record.actor_kind,
            actor_id: record.actor_id,
            actor_role: record.actor_role,
            ip: record.ip,
            user_agent: record.user_agent,
            request_id: record.request_id,
            action: record.action,
            target_kind: record.target_kind,
            target_id: record.target_id,
            outcome: record.outcome,
            // A row whose details are not JSON shows them as text (verification reports it).
            details: serde_json::from_str(&record.details)
                .unwrap_or(serde_json::Value::String(record.details)),
        }
    }
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
    fn parse(self) -> Result<(AuditFilter, i64), ApiError> {
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

/// The export formats.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Jsonl,
    Csv,
}

/// The CSV columns, in order.
const CSV_COLUMNS: [&str; 14] = [
    "seq",
    "id",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_role",
    "ip",
    "user_agent",
    "request_id",
    "action",
    "target_kind",
    "target_id",
    "outcome",
    "details",
];

/// A CSV cell that a spreadsheet will not run as a formula: one starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'`.
fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// One batch of events in `format`.
fn encode(format: Format, records: Vec<AuditRecord>) -> Result<Bytes, String> {
    let mut out = Vec::new();
    match format {
        Format::Jsonl => {
            for record in records {
                serde_json::to_writer(&mut out, &EventView::from(record))
                    .map_err(|e| e.to_string())?;
                out.push(b'\n');
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            for r in records {
                let optional = |v: &Option<String>| cell(v.as_deref().unwrap_or_default());
                let row = [
                    r.seq.to_string(),
                    r.id.to_string(),
                    r.occurred_at.to_rfc3339(),
                    cell(&r.actor_kind),
                    r.actor_id.map(|a| a.to_string()).unwrap_or_default(),
                    optional(&r.actor_role),
                    optional(&r.ip),
                    optional(&r.user_agent),
                    optional(&r.request_id),
                    cell(&r.action),
                    optional(&r.target_kind),
                    optional(&r.target_id),
                    cell(&r.outcome),
                    cell(&r.details),
                ];
                writer.write_record(&row).map_err(|e| e.to_string())?;
            }
            writer.flush().map_err(|e| e.to_string())?;
        }
    }
    Ok(Bytes::from(out))
}

/// Where an export stream is.
struct Exporting {
    db: Database,
    scope: OrgScope,
    filter: AuditFilter,
    format: Format,
    done: bool,
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
    let format = match query.format.as_str() {
        "jsonl" => Format::Jsonl,
        "csv" => Format::Csv,
        _ => return Err(invalid("format must be jsonl or csv".into())),
    };
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
    let mut tx = state.db.begin_scoped(admin.user.scope()).await?;
    // The newest event now bounds the export, the export's own event included.
    let event = AuditEvent::success(AuditAction::AuditExported, None)
        .detail("format", Detail::Label(query.format.clone()));
    audit::append(&mut tx, now, &admin.user.audit(), &event).await?;
    tx.commit().await?;
    let mut tx = state.db.begin_snapshot(admin.user.scope()).await?;
    let newest = audit::list(&mut tx, &AuditFilter::default(), 1).await?;
    drop(tx);
    filter.before_seq = newest.first().map(|r| r.seq + 1);
    let start = Exporting {
        db: state.db.clone(),
        scope: admin.user.scope().clone(),
        filter,
        format,
        done: false,
    };
    let header_row =
        (format == Format::Csv).then(|| Bytes::from(format!("{}\r\n", CSV_COLUMNS.join(","))));
    let batches = futures_util::stream::unfold(start, |mut at| async move {
        if at.done {
            return None;
        }
        let batch = async {
            let mut tx = at.db.begin_snapshot(&at.scope).await.map_err(|e| e.to_string())?;
            let records =
                audit::list(&mut tx, &at.filter, EXPORT_BATCH).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(records)
        }
        .await;
        let records = match batch {
            Ok(records) => records,
            Err(error) => {
                tracing::error!(%error, "audit export stopped");
                at.done = true;
                return Some((Err(std::io::Error::other("audit export failed")), at));
            }
        };
        if records.is_empty() {
            return None;
        }
        at.done = records.len() < usize::try_from(EXPORT_BATCH).unwrap_or(usize::MAX);
        at.filter.before_seq = records.last().map(|r| r.seq);
        let bytes = encode(at.format, records).map_err(std::io::Error::other);
        Some((bytes, at))
    });
    let stream = futures_util::stream::iter(header_row.map(Ok)).chain(batches);
    let (content_type, extension) = match format {
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let disposition =
        format!("attachment; filename=\"audit-{}.{extension}\"", now.format("%Y%m%dT%H%M%SZ"));
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

/// Verifies the organisation's whole hash chain against its recorded head (Admin): whether it
/// is intact, how many events were checked, the head hash, and the first bad event.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    admin: Authorized<ReadAudit>,
) -> Result<Json<ChainReport>, ApiError> {
    Ok(Json(audit::verify(&state.db, admin.user.scope()).await?))
}
