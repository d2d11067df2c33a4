//! The live progress of a job as server-sent events. The stream is background traffic: it
//! does not count as activity, so it cannot keep an idle session alive, and it ends when the
//! session ends (idle timeout, logout, revocation), when the job is deleted, or once the job
//! has completed or failed.

use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, BACKGROUND_HEADER, ReadJobs};
use axum::extract::{Path, Request, State};
use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use petal_domain::{JobId, SessionId};
use petal_storage::{OrgScope, StorageError, jobs, sessions};
use serde::Serialize;
use std::convert::Infallible;
use std::time::Duration;

/// How often the stream looks at the job.
const POLL: Duration = Duration::from_millis(500);

/// One `progress` event.
#[derive(Serialize, PartialEq, Eq, Clone, utoipa::ToSchema)]
pub struct ProgressEvent {
    /// `draft`, `processing`, `completed` or `failed`.
    status: String,
    total: i64,
    done: i64,
    failed: i64,
}

impl ProgressEvent {
    fn finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed")
    }
}

/// Marks the request as background traffic before authentication reads it.
pub async fn as_background(mut request: Request) -> Request {
    request.headers_mut().insert(BACKGROUND_HEADER, HeaderValue::from_static("1"));
    request
}

async fn snapshot(
    state: &AppState,
    scope: &OrgScope,
    id: JobId,
) -> Result<Option<ProgressEvent>, StorageError> {
    let mut tx = state.db.begin_snapshot(scope).await?;
    let job = jobs::get(&mut tx, id).await?;
    Ok(job.map(|job| ProgressEvent {
        status: job.status,
        total: job.total,
        done: job.done,
        failed: job.failed,
    }))
}

/// What one look at the job found.
enum Look {
    Progress(ProgressEvent),
    SessionEnded,
    JobGone,
    /// The database did not answer: the stream ends (fail closed); the client may reconnect.
    Unavailable,
}

/// Checks that the session is still live (without counting as activity), then reads the job.
async fn look(state: &AppState, scope: &OrgScope, session: SessionId, id: JobId) -> Look {
    let now = state.clock.now();
    match sessions::authenticate(&state.db, session, now, state.auth.idle, false).await {
        Ok(Some(_)) => {}
        Ok(None) => return Look::SessionEnded,
        Err(error) => {
            tracing::warn!(%error, "progress stream: cannot check the session");
            return Look::Unavailable;
        }
    }
    match snapshot(state, scope, id).await {
        Ok(Some(progress)) => Look::Progress(progress),
        Ok(None) => Look::JobGone,
        Err(error) => {
            tracing::warn!(%error, "progress stream: cannot read the job");
            Look::Unavailable
        }
    }
}

/// Where the stream is.
enum Step {
    /// Still watching; the last event sent, if any.
    Watching(Option<ProgressEvent>),
    /// The last event has been sent.
    Over,
}

/// A job's progress as it changes: `progress` events (`{status, total, done, failed}`), then
/// `end` (`finished`, `session_ended`, `job_gone`, or `unavailable` when the database did not
/// answer). Every role may watch.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/events", tag = "results",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, content_type = "text/event-stream", body = ProgressEvent),
        (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    user: Authorized<ReadJobs>,
    Path(id): Path<JobId>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let scope = user.user.scope().clone();
    snapshot(&state, &scope, id).await?.ok_or_else(ApiError::not_found)?;
    let session = user.user.principal.session_id;
    let stream = futures_util::stream::unfold(Step::Watching(None), move |step| {
        let (state, scope) = (state.clone(), scope.clone());
        async move {
            let Step::Watching(last) = step else { return None };
            loop {
                // The stream is dropped wherever it stands when the client goes away. Reading
                // on a task of its own lets a database call that has started finish (a
                // transaction cancelled half-way through BEGIN would go back to the pool open).
                let (state_, scope_) = (state.clone(), scope.clone());
                let read = tokio::spawn(async move { look(&state_, &scope_, session, id).await });
                let current = match read.await {
                    Ok(Look::Progress(current)) => current,
                    Ok(Look::SessionEnded) => return Some((Ok(end("session_ended")), Step::Over)),
                    Ok(Look::JobGone) => return Some((Ok(end("job_gone")), Step::Over)),
                    Ok(Look::Unavailable) | Err(_) => {
                        return Some((Ok(end("unavailable")), Step::Over));
                    }
                };
                if last.as_ref() == Some(&current) && current.finished() {
                    return Some((Ok(end("finished")), Step::Over));
                }
                if last.as_ref() != Some(&current) {
                    let event = Event::default().event("progress").json_data(&current);
                    let event = event.unwrap_or_else(|_| end("error"));
                    return Some((Ok(event), Step::Watching(Some(current))));
                }
                tokio::time::sleep(POLL).await;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn end(reason: &'static str) -> Event {
    Event::default().event("end").data(reason)
}
