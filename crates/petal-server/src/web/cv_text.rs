//! A CV's text with each criterion's evidence marked where it stands (Reviewers and Admins:
//! it opens the document, so it is audited as `document.accessed` like the original's link).

use super::jobs::{Candidate, candidate_name, criterion_text};
use super::{Me, PageError, idle_seconds, page_user, render};
use crate::auth::extract::{Authorized, OpenDocuments};
use crate::http::{ApiError, AppState};
use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use petal_documents::DocumentKind;
use petal_documents::read;
use petal_domain::DocumentId;
use petal_domain::audit::{AuditAction, AuditEvent, Detail, Target};
use petal_storage::audit;
use std::time::Instant;

/// A run of the CV's text, marked when it is evidence.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    text: String,
    /// The criteria it is evidence for, when it is.
    evidence_for: Option<String>,
}

/// `text` cut into runs, each quote of `quotes` (criterion, quote) marked wherever it stands;
/// overlapping marks are joined and name every criterion they serve, in the criteria's order.
fn mark(text: &str, quotes: &[(String, String)]) -> Vec<Run> {
    // (start, end, the quotes' indexes)
    let mut spans: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    for (index, (_, quote)) in quotes.iter().enumerate() {
        let quote = quote.trim();
        if quote.is_empty() {
            continue;
        }
        for (start, found) in text.match_indices(quote) {
            spans.push((start, start + found.len(), vec![index]));
        }
    }
    spans.sort_by_key(|(start, end, _)| (*start, *end));
    let mut merged: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    for (start, end, indexes) in spans {
        match merged.last_mut() {
            Some(last) if start < last.1 => {
                last.1 = last.1.max(end);
                last.2.extend(indexes);
            }
            _ => merged.push((start, end, indexes)),
        }
    }
    let mut runs = Vec::new();
    let mut at = 0;
    let piece = |from: usize, to: usize| text.get(from..to).unwrap_or_default().to_owned();
    for (start, end, mut indexes) in merged {
        if start > at {
            runs.push(Run { text: piece(at, start), evidence_for: None });
        }
        indexes.sort_unstable();
        let mut names: Vec<&str> = Vec::new();
        for name in indexes.iter().filter_map(|&i| quotes.get(i)).map(|(name, _)| name.as_str()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        runs.push(Run { text: piece(start, end), evidence_for: Some(names.join("; ")) });
        at = end;
    }
    if at < text.len() {
        runs.push(Run { text: piece(at, text.len()), evidence_for: None });
    }
    runs
}

#[derive(Template)]
#[template(path = "cv_text.html")]
struct CvTextPage {
    me: Option<Me>,
    idle_seconds: i64,
    document_id: DocumentId,
    candidate: String,
    /// The text as runs, or `None` when the file could not be read.
    runs: Option<Vec<Run>>,
    /// Characters of text hidden from a reader (white, off the page…), not shown or scored.
    hidden_chars: usize,
}

/// The CV's text with its evidence marked: the stored original, decrypted and read as
/// screening reads it. Audited before the document is opened.
pub(super) async fn cv_text_page(
    State(state): State<AppState>,
    session: Result<Authorized<OpenDocuments>, ApiError>,
    id: Result<Path<DocumentId>, PathRejection>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
    let (me, candidate) = Candidate::load(&state, &user, id).await?;
    let Candidate { document, key, criteria, result, .. } = candidate;
    let (id, scope) = (result.document_id, user.scope());
    let quotes: Vec<(String, String)> = result
        .criteria
        .iter()
        .flat_map(|verdict| {
            let name = criterion_text(&criteria, &verdict.criterion_id);
            verdict.evidence.iter().map(move |e| (name.clone(), e.quote.clone()))
        })
        .collect();

    let mut tx = state.db.begin_scoped(scope).await?;
    let event = AuditEvent::success(AuditAction::DocumentAccessed, Some(Target::document(id)))
        .detail("view", Detail::Label("text".to_owned()));
    audit::append(&mut tx, state.clock.now(), &user.audit(), &event).await?;
    tx.commit().await?;

    let blob = state.objects.get(&document.object_name).await?;
    let kind = DocumentKind::parse(&document.kind);
    let (limits, deadline) = (state.uploads.checks, state.read_timeout);
    let reading = tokio::task::spawn_blocking(move || {
        let plain = key.open_document(id, &blob).map_err(|_| read::ReadError::Unreadable)?;
        let kind = kind.ok_or(read::ReadError::Unreadable)?;
        read::read(kind, &plain, &limits, Instant::now() + deadline)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let (runs, hidden_chars) = match reading {
        Ok(reading) => (Some(mark(&reading.visible, &quotes)), reading.hidden.chars().count()),
        Err(error) => {
            tracing::info!(%error, "a document's text could not be shown");
            (None, 0)
        }
    };
    Ok(render(&CvTextPage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        document_id: id,
        candidate: candidate_name(&result),
        runs,
        hidden_chars,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(criterion: &str, text: &str) -> (String, String) {
        (criterion.to_owned(), text.to_owned())
    }

    #[test]
    fn quotes_are_marked_where_they_stand_and_overlaps_joined() {
        let text = "Orla\nLLB Law, 2:1\nSQE1 and SQE2\nLLB Law again";
        let runs = mark(text, &[quote("Degree", "LLB Law, 2:1"), quote("Law", "LLB Law")]);
        let marked: Vec<(&str, Option<&str>)> =
            runs.iter().map(|r| (r.text.as_str(), r.evidence_for.as_deref())).collect();
        assert_eq!(
            marked,
            [
                ("Orla\n", None),
                ("LLB Law, 2:1", Some("Degree; Law")),
                ("\nSQE1 and SQE2\n", None),
                ("LLB Law", Some("Law")),
                (" again", None),
            ]
        );
        assert_eq!(runs.iter().map(|r| r.text.as_str()).collect::<String>(), text);
    }

    #[test]
    fn no_or_empty_quotes_leave_the_text_whole() {
        let runs = mark("Orla Penhaligon", &[quote("x", "  "), quote("y", "absent")]);
        assert_eq!(runs, [Run { text: "Orla Penhaligon".to_owned(), evidence_for: None }]);
        assert!(mark("", &[]).is_empty());
    }
}
