//! Exporting an organisation's audit log, for the API and the command line: the export is
//! itself audited, bounded by the newest event when it starts, read a thousand events at a
//! time (never the whole log in memory), and written as JSON lines or as CSV whose cells a
//! spreadsheet will not run as formulas.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail};
use petal_storage::audit::{self, AuditFilter, AuditRecord};
use petal_storage::{Database, OrgScope, StorageError};
use serde::Serialize;

/// Events read per round trip.
pub const BATCH: i64 = 1000;

/// One event as the audit log shows it: the stored fields, and the details parsed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// `seq`, `id`, `occurred_at`, `actor_kind` (`user`, `system` or `cli`), `actor_id`,
    /// `actor_role`, `ip`, `user_agent`, `request_id`, `action`, `target_kind`, `target_id`,
    /// `outcome` (`success` or `failure`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    record: AuditRecord,
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

impl From<AuditRecord> for EventView {
    fn from(record: AuditRecord) -> Self {
        // A row whose details are not JSON shows them as text (verification reports it).
        let details = serde_json::from_str(&record.details)
            .unwrap_or_else(|_| serde_json::Value::String(record.details.clone()));
        Self { record, details }
    }
}

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON event per line.
    Jsonl,
    /// Comma-separated values, with a header row.
    Csv,
}

impl Format {
    /// The format named `jsonl` or `csv`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "jsonl" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }

    /// What comes before the events: the CSV header row.
    pub fn preamble(self) -> Bytes {
        match self {
            Format::Jsonl => Bytes::new(),
            Format::Csv => Bytes::from(format!("{}\r\n", CSV_COLUMNS.join(","))),
        }
    }
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
pub fn encode(format: Format, records: Vec<AuditRecord>) -> Result<Bytes, String> {
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

/// Records the export in the audit trail and bounds `filter` by that event (included): events
/// appended while the export runs are not part of it.
pub async fn begin(
    db: &Database,
    scope: &OrgScope,
    now: DateTime<Utc>,
    context: &AuditContext,
    format: Format,
    filter: &mut AuditFilter,
) -> Result<(), StorageError> {
    let mut tx = db.begin_scoped(scope).await?;
    let event = AuditEvent::success(AuditAction::AuditExported, None)
        .detail("format", Detail::Label(format.as_str().to_owned()));
    let appended = audit::append(&mut tx, now, context, &event).await?;
    tx.commit().await?;
    filter.before_seq = Some(appended.seq + 1);
    Ok(())
}

/// The next batch of the export, newest first, moving `filter` past it; empty at the end.
pub async fn next_batch(
    db: &Database,
    scope: &OrgScope,
    filter: &mut AuditFilter,
) -> Result<Vec<AuditRecord>, StorageError> {
    if filter.before_seq == Some(1) {
        return Ok(Vec::new());
    }
    let mut tx = db.begin_snapshot(scope).await?;
    let records = audit::list(&mut tx, filter, BATCH).await?;
    drop(tx);
    filter.before_seq = Some(records.last().map_or(1, |r| r.seq));
    Ok(records)
}
