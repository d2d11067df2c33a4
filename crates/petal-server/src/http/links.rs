//! Signed document links (SPEC §3 Documents). A link names the document, organisation and
//! user it was issued for, its expiry and the epoch of the key that signed it, and carries an
//! HMAC over all of them. Link keys are derived per day from the installation key, so each
//! signs a bounded number of links; a link verifies with its own day's key while that day or
//! the next is current. Fetching also needs the same user's live session and the right to
//! open documents; every issue, fetch and refusal is audited.

use super::documents::job_with_key;
use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authenticated, Authorized, ClientMeta, OpenDocuments};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use petal_crypto::Key256;
use petal_domain::audit::{Actor, AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{DocumentId, ExportId, OrgId, Permission, UserId};
use petal_storage::{audit, documents, throttle};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Seconds per link-key epoch.
const EPOCH_SECONDS: i64 = 24 * 3600;

/// Signs and checks document links.
pub struct LinkSigner {
    root: Key256,
    ttl: chrono::Duration,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinkSigner(ttl {})", self.ttl)
    }
}

/// The facts a link binds.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LinkClaims {
    /// Organisation.
    pub o: OrgId,
    /// User.
    pub u: UserId,
    /// Expiry, Unix seconds.
    pub e: i64,
    /// Key epoch.
    pub k: i64,
    /// Signature, hex.
    pub s: String,
}

/// Why a link was refused (recorded in the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Altered,
    Expired,
    OtherUser,
    NoSession,
    Forbidden,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::Altered => "altered",
            Refusal::Expired => "expired",
            Refusal::OtherUser => "other_user",
            Refusal::NoSession => "no_session",
            Refusal::Forbidden => "role_forbidden",
        }
    }
}

/// What a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    /// An original document.
    Document(DocumentId),
    /// An organisation export's ZIP.
    Export(ExportId),
}

impl std::fmt::Display for LinkTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkTarget::Document(id) => write!(f, "doc:{id}"),
            LinkTarget::Export(id) => write!(f, "export:{id}"),
        }
    }
}

fn mac_input(target: LinkTarget, org: OrgId, user: UserId, expires: i64, epoch: i64) -> Vec<u8> {
    format!("petal/link/v1|{target}|org:{org}|user:{user}|exp:{expires}|epoch:{epoch}").into_bytes()
}

impl LinkSigner {
    /// A signer whose links last `ttl`, keyed from the installation key.
    pub fn new(installation: &Key256, ttl: Duration) -> Self {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(15));
        Self { root: installation.derive(b"petal/link-root/v1"), ttl }
    }

    fn key(&self, epoch: i64) -> Key256 {
        self.root.link_signing_key(epoch.max(0) as u64)
    }

    /// Signs a link to `target` of `org` for `user`, issued `now`.
    pub fn sign(
        &self,
        target: LinkTarget,
        org: OrgId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> LinkClaims {
        let expires = (now + self.ttl).timestamp();
        let epoch = now.timestamp().div_euclid(EPOCH_SECONDS);
        let tag = self.key(epoch).mac(&mac_input(target, org, user, expires, epoch));
        LinkClaims { o: org, u: user, e: expires, k: epoch, s: hex::encode(tag) }
    }

    /// Whether the claims were signed by this server for `target` (and the epoch's key is
    /// still in use). Says nothing about expiry or who presents them.
    pub fn genuine(&self, target: LinkTarget, claims: &LinkClaims, now: DateTime<Utc>) -> bool {
        let current = now.timestamp().div_euclid(EPOCH_SECONDS);
        let Ok(tag) = hex::decode(&claims.s) else { return false };
        (current - 1..=current).contains(&claims.k)
            && self
                .key(claims.k)
                .verify_mac(&mac_input(target, claims.o, claims.u, claims.e, claims.k), &tag)
    }
}

/// A signed link.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedLink {
    /// Absolute URL; it needs the same user's session as well.
    url: String,
    expires_at: DateTime<Utc>,
}

impl SignedLink {
    /// The link to `target` for `user` of `org` at `path` (under the public URL), issued now.
    pub(super) fn issue(
        state: &AppState,
        target: LinkTarget,
        org: OrgId,
        user: UserId,
        path: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, ApiError> {
        let claims = state.links.sign(target, org, user, now);
        let query = serde_urlencoded::to_string(&claims).map_err(|e| ApiError::internal(&e))?;
        let mut url = state.public_url.clone();
        url.set_path(&format!("{}{path}", url.path().trim_end_matches('/')));
        url.set_query(Some(&query));
        let expires_at = DateTime::from_timestamp(claims.e, 0).unwrap_or(now);
        Ok(SignedLink { url: url.to_string(), expires_at })
    }
}

/// Issues a signed link to a document (Reviewers and Admins); Viewers get 403 and another
/// organisation's document is 404.
#[utoipa::path(post, path = "/api/v1/documents/{id}/url", tag = "documents",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SignedLink), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    user: Authorized<OpenDocuments>,
    Path(id): Path<DocumentId>,
) -> Result<Json<SignedLink>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let (org, me) = (user.user.scope().org_id(), user.user.principal.user_id);
    let path = format!("/api/v1/documents/{id}/content");
    let link = SignedLink::issue(&state, LinkTarget::Document(id), org, me, &path, now)?;
    let event = AuditEvent::success(AuditAction::DocumentLinkIssued, Some(Target::document(id)));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    tx.commit().await?;
    Ok(Json(link))
}

fn refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "link_refused",
        "This link is expired, altered, not yours, or needs your signed-in session.",
    )
}

/// Records a refusal in `org`'s trail and answers 403.
async fn refuse(
    state: &AppState,
    org: OrgId,
    context: AuditContext,
    document: DocumentId,
    why: Refusal,
) -> ApiError {
    let now = state.clock.now();
    // The organisation comes from a session, or from a link whose HMAC this server verified.
    #[allow(clippy::disallowed_methods)]
    let scope = petal_storage::OrgScope::for_verified_link(org);
    let event =
        AuditEvent::failure(AuditAction::DocumentLinkRefused, Some(Target::document(document)))
            .detail("reason", Detail::Label(why.code().to_owned()));
    let recorded = async {
        let mut tx = state.db.begin_scoped(&scope).await?;
        audit::append(&mut tx, now, &context, &event).await?;
        tx.commit().await
    };
    match recorded.await {
        Ok(()) => refused(),
        Err(e) => ApiError::internal(&e),
    }
}

/// Counts a sessionless link request as a failure of its address and says whether the
/// address was already over its limit.
async fn sessionless_throttled(state: &AppState, meta: &ClientMeta) -> Result<bool, ApiError> {
    let now = state.clock.now();
    let since = now - state.auth.limits.ip_window;
    let ip = meta.throttle_key();
    let (recent, _) = throttle::failures_since(&state.db, &ip, since).await?;
    throttle::record_failure(&state.db, &ip, now, since).await?;
    Ok(recent >= state.auth.limits.ip_failures)
}

/// Streams a document through a signed link: the link must be genuine, unexpired and for the
/// user whose live session comes with it, and that user must still be allowed to open
/// documents.
#[utoipa::path(get, path = "/api/v1/documents/{id}/content", tag = "documents",
    params(("id" = String, Path, format = Uuid), ("o" = String, Query), ("u" = String, Query),
        ("e" = i64, Query), ("k" = i64, Query), ("s" = String, Query)),
    responses((status = 200, description = "the original file"), (status = 403, body = ErrorBody)))]
pub async fn content(
    State(state): State<AppState>,
    Path(id): Path<DocumentId>,
    query: Result<Query<LinkClaims>, QueryRejection>,
    meta: ClientMeta,
    session: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    // A query that does not even parse was altered: it is refused like a bad signature.
    let claims = query.ok().map(|Query(claims)| claims);
    let genuine = claims.filter(|c| state.links.genuine(LinkTarget::Document(id), c, now));
    let user = match (session, &genuine) {
        (Ok(user), _) => user,
        // A link alone opens nothing. A genuine one is recorded against its organisation; a
        // forged one names nothing we can trust, so it is only logged.
        (Err(_), Some(claims)) => {
            // Each costs an audit append, so an address gets as many as it gets failed logins
            // (the same counter); beyond that, refusals are only logged.
            if sessionless_throttled(&state, &meta).await? {
                tracing::info!(document = %id, "refused a document link without a session (throttled)");
                return Err(refused());
            }
            let context = meta.context(Actor::Anonymous);
            return Err(refuse(&state, claims.o, context, id, Refusal::NoSession).await);
        }
        (Err(_), None) => {
            sessionless_throttled(&state, &meta).await?;
            tracing::info!(document = %id, "refused a forged document link without a session");
            return Err(refused());
        }
    };
    let org = user.scope().org_id();
    let why = match &genuine {
        None => Some(Refusal::Altered),
        Some(c) if c.u != user.principal.user_id || c.o != org => Some(Refusal::OtherUser),
        Some(c) if c.e <= now.timestamp() => Some(Refusal::Expired),
        Some(_) if !user.principal.role.allows(Permission::OpenDocuments) => {
            Some(Refusal::Forbidden)
        }
        Some(_) => None,
    };
    if let Some(why) = why {
        return Err(refuse(&state, org, user.audit(), id, why).await);
    }

    let mut tx = state.db.begin_scoped(user.scope()).await?;
    let document = documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let (_, key) = job_with_key(&state, &mut tx, document.job_id).await?;
    let filename = key
        .open_field("filename", id, &document.filename_sealed)
        .map_err(|e| ApiError::internal(&e))?;
    let event = AuditEvent::success(AuditAction::DocumentAccessed, Some(Target::document(id)));
    audit::append(&mut tx, now, &user.audit(), &event).await?;
    tx.commit().await?;

    let opener = key.document_opener(id).map_err(|e| ApiError::internal(&e))?;
    let source = state.objects.get_stream(&document.object_name).await?;
    let body = decrypting_stream(source, opener);
    let kind = petal_documents::DocumentKind::parse(&document.kind)
        .ok_or_else(|| ApiError::internal(&"unknown stored document kind"))?;
    let name = String::from_utf8_lossy(&filename).into_owned();
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, kind.media_type())
        .header(header::CONTENT_DISPOSITION, content_disposition(&name))
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'")
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::internal(&e))
}

/// Decrypts a blob stream segment by segment; a blob that fails to authenticate ends the
/// stream with an error (the client sees a cut-off transfer, never unauthenticated bytes).
pub(super) fn decrypting_stream(
    source: futures_util::stream::BoxStream<'static, Result<Bytes, petal_storage::StorageError>>,
    opener: petal_crypto::envelope::Opener<petal_crypto::envelope::WrappingKey>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let broken = || std::io::Error::other("stored document failed to decrypt");
    futures_util::stream::unfold(Some((source, opener)), move |state| async move {
        let (mut source, mut opener) = state?;
        match source.next().await {
            Some(Ok(chunk)) => match opener.push(&chunk) {
                Ok(plain) => Some((Ok(Bytes::from(plain)), Some((source, opener)))),
                Err(_) => Some((Err(broken()), None)),
            },
            Some(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), None)),
            None => Some((opener.finish().map(Bytes::from).map_err(|_| broken()), None)),
        }
    })
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 8187 form.
pub(super) fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LinkSigner {
        LinkSigner::new(&Key256::generate().unwrap(), Duration::from_secs(900))
    }

    #[test]
    fn a_link_verifies_only_as_issued() {
        let signer = signer();
        let (id, org, user) = (DocumentId::new(), OrgId::new(), UserId::new());
        let doc = LinkTarget::Document(id);
        let now = Utc::now();
        let claims = signer.sign(doc, org, user, now);
        assert!(signer.genuine(doc, &claims, now));
        let another = LinkTarget::Document(DocumentId::new());
        assert!(!signer.genuine(another, &claims, now), "another document");
        let export = LinkTarget::Export(ExportId::from_uuid(id.as_uuid()));
        assert!(!signer.genuine(export, &claims, now), "an export with the same id");
        assert!(!signer.genuine(doc, &LinkClaims { u: UserId::new(), ..claims.clone() }, now));
        assert!(!signer.genuine(doc, &LinkClaims { o: OrgId::new(), ..claims.clone() }, now));
        assert!(!signer.genuine(doc, &LinkClaims { e: claims.e + 3600, ..claims.clone() }, now));
        assert!(!signer.genuine(doc, &LinkClaims { s: "00".repeat(32), ..claims.clone() }, now));
        assert!(!signer.genuine(doc, &claims, now + chrono::Duration::days(2)), "key retired");
        assert!(!self::signer().genuine(doc, &claims, now), "another installation");
    }

    #[test]
    fn the_download_name_is_safe_and_exact() {
        let value = content_disposition("Zoë \"CV\"\r\n.pdf");
        let text = value.to_str().unwrap();
        assert!(text.starts_with("attachment; filename=\"Zo_ _CV___.pdf\""), "{text}");
        assert!(text.contains("filename*=UTF-8''Zo%C3%AB%20%22CV%22%0D%0A%2Epdf"), "{text}");
    }
}
