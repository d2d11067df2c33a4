//! Security alerts, for Admins.

use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, ReadAudit};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use petal_storage::alerts;
use serde::Serialize;

/// How many alerts are listed.
const LIMIT: i64 = 200;

/// An alert.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AlertView {
    #[schema(value_type = String, format = Uuid)]
    id: uuid::Uuid,
    kind: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    user_id: Option<petal_domain::UserId>,
    ip: Option<String>,
    created_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

/// The organisation's most recent security alerts, newest first.
#[utoipa::path(get, path = "/api/v1/security/alerts", tag = "security",
    responses((status = 200, body = [AlertView]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    admin: Authorized<ReadAudit>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let mut tx = state.db.begin_snapshot(admin.user.scope()).await?;
    let alerts = alerts::recent(&mut tx, LIMIT).await?;
    Ok(Json(
        alerts
            .into_iter()
            .map(|a| AlertView {
                id: a.id,
                kind: a.kind,
                user_id: a.user_id,
                ip: a.ip,
                created_at: a.created_at,
                details: a.details,
            })
            .collect(),
    ))
}
