//! The security page, for everyone signed in: their own live sessions (each can be ended),
//! their second factors and a fresh set of backup codes; for Admins, the organisation's
//! recent security alerts too.

use super::{Me, PageError, idle_seconds, open_page, page_session, render};
use crate::auth::extract::Authenticated;
use crate::http::{ApiError, AppState};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use petal_domain::Permission;
use petal_storage::{alerts, sessions, users};

/// Alerts listed on the page.
const ALERTS_SHOWN: i64 = 50;

/// One of the user's live sessions.
struct SessionRow {
    id: String,
    started: String,
    last_seen: String,
    ip: String,
    user_agent: String,
    current: bool,
}

/// One security alert.
struct AlertRow {
    time: String,
    kind: String,
    user: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    me: Option<Me>,
    idle_seconds: i64,
    sessions: Vec<SessionRow>,
    totp: bool,
    sms: bool,
    passkey: bool,
    backup_codes_left: i64,
    /// The organisation's alerts, for Admins; `None` for others.
    alerts: Option<Vec<AlertRow>>,
}

fn time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The security page, read as `GET /api/v1/me`, `/api/v1/me/sessions` and (Admins)
/// `/api/v1/security/alerts` read it.
pub(super) async fn security_page(
    State(state): State<AppState>,
    session: Result<Authenticated, ApiError>,
) -> Result<Response, PageError> {
    let user = page_session(session)?;
    let id = user.principal.user_id;
    let now = state.clock.now();
    let (mut tx, me) = open_page(&state, &user).await?;
    let backup_codes_left = users::backup_codes_left(&mut tx, id).await?;
    let live = sessions::list_live(&mut tx, id, now, state.auth.idle).await?;
    let alerts = if user.principal.role.allows(Permission::ReadAudit) {
        Some(alerts::recent(&mut tx, ALERTS_SHOWN).await?)
    } else {
        None
    };
    drop(tx);
    let (totp, sms, passkey) = (me.totp, me.sms, me.passkey);
    let page = SecurityPage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        sessions: live
            .into_iter()
            .map(|s| SessionRow {
                current: s.id == user.principal.session_id,
                id: s.id.to_string(),
                started: time(s.created_at),
                last_seen: time(s.last_seen_at),
                ip: s.ip.unwrap_or_default(),
                user_agent: s.user_agent.unwrap_or_default(),
            })
            .collect(),
        totp,
        sms,
        passkey,
        backup_codes_left,
        alerts: alerts.map(|alerts| {
            alerts
                .into_iter()
                .map(|a| AlertRow {
                    time: time(a.created_at),
                    kind: a.kind.replace('_', " "),
                    user: a
                        .user_id
                        .map(|u| u.to_string().get(..8).unwrap_or_default().to_owned())
                        .unwrap_or_default(),
                    ip: a.ip.unwrap_or_default(),
                })
                .collect()
        }),
    };
    Ok(render(&page))
}
