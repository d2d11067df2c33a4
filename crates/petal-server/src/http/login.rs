//! Signing in: password, then a second factor (enrolling one first if there is none), then a
//! session. Also step-up re-authentication and logout.

use super::session::{self, SessionResponse};
use super::{ApiError, AppState, ErrorBody};
use crate::alerts::{self, AlertKind};
use crate::auth::extract::{Authenticated, ClientMeta};
use crate::auth::{MFA_TOKEN_TTL, backup_codes, password, totp};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use petal_crypto::{SecretToken, TokenHash};
use petal_domain::audit::{Actor, AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{Email, UserId};
use petal_storage::sessions::{self, PendingLogin};
use petal_storage::users::FailureOutcome;
use petal_storage::{ScopedTx, audit, sms_codes, throttle, users};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Email and password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// A password was accepted; a second factor must follow.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Presented to the MFA routes; valid 10 minutes.
    mfa_token: String,
    /// `enroll` when the user has no second factor yet, otherwise `verify`.
    next: &'static str,
    /// The methods the next step accepts: the user's enrolled factors and `backup_code`, or
    /// the factors they may enrol.
    methods: Vec<&'static str>,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "Wrong email or password.")
}

fn invalid_code() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_code", "That code is not valid.")
}

fn event(action: AuditAction, user: UserId, ok: bool) -> AuditEvent {
    let target = Some(Target { kind: "user", id: user.to_string() });
    if ok { AuditEvent::success(action, target) } else { AuditEvent::failure(action, target) }
}

/// Checks the password. The answer and its timing are the same for an unknown email, a wrong
/// password, a deactivated, delayed or locked account: `401 invalid_credentials`. An address
/// with too many recent failures across accounts gets `429` with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let ip = meta.throttle_key();
    let (recent_failures, oldest) =
        throttle::failures_since(&state.db, &ip, now - state.auth.limits.ip_window).await?;
    if recent_failures >= state.auth.limits.ip_failures {
        let retry_after = oldest
            .map_or(state.auth.limits.ip_window, |t| t + state.auth.limits.ip_window - now)
            .num_seconds()
            .max(1);
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many failed sign-ins from your address; try again later.",
        )
        .into_response();
        response.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
        return Ok(response);
    }
    let account = match Email::parse(&request.email) {
        Ok(email) => users::find_for_login(&state.db, &email).await?,
        Err(_) => None,
    };
    let Some(account) = account else {
        // Spend the same time as a real check, then give the same answer.
        password::verify(request.password, state.auth.dummy_password_hash.clone()).await?;
        throttle::record_failure(&state.db, &ip, now, now - state.auth.limits.ip_window).await?;
        if recent_failures + 1 == state.auth.limits.ip_failures {
            // No organisation to alert: the attempts named no account. Logged for operators.
            tracing::warn!(%ip, failures = state.auth.limits.ip_failures, "password spraying: address throttled");
        }
        return Err(invalid_credentials());
    };
    let matches = password::verify(request.password, account.password_hash.clone()).await?;
    if !matches {
        // Recorded before the account's transaction: on SQLite that transaction holds the
        // write lock, which this separate statement would wait for.
        throttle::record_failure(&state.db, &ip, now, now - state.auth.limits.ip_window).await?;
    }
    let context = meta.context(Actor::User { id: account.user_id, role: account.role });
    let mut tx = state.db.begin_scoped(&account.scope).await?;
    let locked = account.locked_until.is_some_and(|until| until > now);
    // While an account is delayed or locked, attempts are refused without being counted, so
    // a lock can neither be extended by an attacker nor cut short by a later, shorter delay.
    let refusal = match (locked, account.active, matches) {
        (true, _, _) => Some("locked"),
        (false, false, _) => Some("deactivated"),
        (false, true, false) => Some("bad_password"),
        (false, true, true) => None,
    };
    let Some(reason) = refusal else {
        let token = SecretToken::generate().map_err(|e| ApiError::internal(&e))?;
        sessions::create_pending_login(
            &mut tx,
            account.user_id,
            token.hash().as_bytes(),
            now,
            MFA_TOKEN_TTL,
        )
        .await?;
        tx.commit().await?;
        // The factors this user can verify with (plus backup codes), or those they may enrol.
        let (next, methods) = if account.factors.is_empty() {
            // Passkeys only where the server can offer them (under a domain name).
            let passkey = state.auth.webauthn.is_some().then_some("passkey");
            ("enroll", ["totp", "sms"].into_iter().chain(passkey).collect())
        } else {
            ("verify", [account.factors.as_slice(), &["backup_code"]].concat())
        };
        return Ok(Json(LoginResponse { mfa_token: token.expose().to_owned(), next, methods })
            .into_response());
    };
    let failed = event(AuditAction::LoginFailed, account.user_id, false)
        .detail("reason", Detail::Label(reason.to_owned()));
    audit::append(&mut tx, now, &context, &failed).await?;
    let mut raised = Vec::new();
    if reason == "bad_password" {
        if let Some(alert) =
            count_failure(&state, &mut tx, account.user_id, &context, Some(ip.clone()), now).await?
        {
            raised.push(alert);
        }
        if recent_failures + 1 == state.auth.limits.ip_failures {
            let details = json!({"failures": state.auth.limits.ip_failures, "window_minutes": state.auth.limits.ip_window.num_minutes()});
            raised.push(
                alerts::raise(
                    &mut tx,
                    AlertKind::PasswordSpraying,
                    None,
                    Some(ip.clone()),
                    details,
                    now,
                )
                .await?,
            );
        }
    }
    tx.commit().await?;
    alerts::deliver(&state, raised);
    Err(invalid_credentials())
}

/// Counts a failed password or second-factor code against the account's delay and lockout
/// policy; when it locks the account, audits `auth.login_locked` and returns the alert to
/// deliver once committed.
async fn count_failure(
    state: &AppState,
    tx: &mut ScopedTx,
    user: UserId,
    context: &AuditContext,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<alerts::Raised>, ApiError> {
    let FailureOutcome::Locked(until) =
        users::record_login_failure(tx, user, now, &state.auth.limits.lockout).await?
    else {
        return Ok(None);
    };
    let locked = event(AuditAction::LoginLocked, user, true)
        .detail("minutes", Detail::Number(state.auth.limits.lockout.lock_for.num_minutes()));
    audit::append(tx, now, context, &locked).await?;
    let details = json!({"locked_until": until});
    Ok(Some(alerts::raise(tx, AlertKind::AccountLocked, Some(user), ip, details, now).await?))
}

/// A pending login, its open transaction, and the audit context of its user.
pub(super) struct Pending {
    pub(super) login: PendingLogin,
    pub(super) tx: ScopedTx,
    pub(super) user: users::User,
    pub(super) context: AuditContext,
}

/// Resolves an `mfa_token` or answers `401 invalid_mfa_token`.
pub(super) async fn pending(
    state: &AppState,
    meta: &ClientMeta,
    token: &str,
) -> Result<Pending, ApiError> {
    let now = state.clock.now();
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_token",
            "This sign-in has expired or is not valid; sign in again.",
        )
    };
    let login = sessions::find_pending_login(&state.db, TokenHash::of(token).as_bytes(), now)
        .await?
        .ok_or_else(invalid)?;
    let mut tx = state.db.begin_scoped(&login.scope).await?;
    let user =
        users::get(&mut tx, login.user_id).await?.filter(|u| u.active).ok_or_else(invalid)?;
    let context = meta.context(Actor::User { id: user.id, role: user.role });
    Ok(Pending { login, tx, user, context })
}

/// Records a wrong code: audited, and counted against the pending login.
pub(super) async fn reject_code(
    state: &AppState,
    mut p: Pending,
    method: &str,
    now: DateTime<Utc>,
) -> Result<ApiError, ApiError> {
    let failed = event(AuditAction::MfaFailed, p.user.id, false)
        .detail("method", Detail::Label(method.to_owned()));
    audit::append(&mut p.tx, now, &p.context, &failed).await?;
    sessions::record_pending_login_failure(&mut p.tx, p.login.id).await?;
    // Wrong codes count against the account like wrong passwords: a known password does not
    // buy unlimited guesses at the second factor.
    let ip = p.context.ip.map(|ip| ip.to_string());
    let alert = count_failure(state, &mut p.tx, p.user.id, &p.context, ip, now).await?;
    p.tx.commit().await?;
    if let Some(alert) = alert {
        alerts::deliver(state, vec![alert]);
    }
    Ok(invalid_code())
}

/// Checks a TOTP code for the user (replay-safe), opening the sealed secret.
async fn totp_ok(
    state: &AppState,
    tx: &mut ScopedTx,
    user: UserId,
    code: &str,
    enable: bool,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Some((sealed, enabled)) = users::totp_secret(tx, user).await? else { return Ok(false) };
    if enabled == enable {
        return Ok(false);
    }
    let secret = state
        .auth
        .user_secrets
        .open(&sealed, user.as_uuid().as_bytes())
        .map_err(|e| ApiError::internal(&e))?;
    let Some(step) = totp::matching_step(&secret, code, now) else { return Ok(false) };
    Ok(users::accept_totp_step(tx, user, step, enable.then_some(now)).await?)
}

/// Checks the named second factor.
async fn factor_ok(
    state: &AppState,
    tx: &mut ScopedTx,
    user: UserId,
    method: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    match method {
        "totp" => totp_ok(state, tx, user, code, false, now).await,
        "backup_code" => {
            let hash = backup_codes::hash(&state.auth.codes, user, code);
            Ok(users::use_backup_code(tx, user, &hash, now).await?)
        }
        "sms" => redeem_sms_code(state, tx, user, PhoneKind::Verified, code, now).await,
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_method",
            "Use method \"totp\", \"sms\" or \"backup_code\".",
        )),
    }
}

/// The `mfa_token` alone.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MfaTokenRequest {
    pub(super) mfa_token: String,
}

/// What an authenticator app needs.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpSetupResponse {
    secret: String,
    otpauth_uri: String,
    qr_svg: String,
}

/// Starts TOTP enrolment: a new secret (sealed at rest), its `otpauth://` link and QR code.
#[utoipa::path(post, path = "/api/v1/auth/mfa/totp/setup", tag = "auth", request_body = MfaTokenRequest,
    responses((status = 200, body = TotpSetupResponse), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn totp_setup(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<MfaTokenRequest>,
) -> Result<Json<TotpSetupResponse>, ApiError> {
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    // Enrolment through an mfa_token is for a first factor only: with a factor enrolled, a
    // password alone must not be able to add another (that would bypass the factor).
    if p.user.has_factor() {
        return Err(already_enrolled());
    }
    let secret = totp::new_secret()?;
    let sealed = state
        .auth
        .user_secrets
        .seal(&secret, p.user.id.as_uuid().as_bytes())
        .map_err(|e| ApiError::internal(&e))?;
    users::set_pending_totp(&mut p.tx, p.user.id, &sealed).await?;
    p.tx.commit().await?;
    let enrolment = totp::enrolment(&secret, &p.user.email)?;
    Ok(Json(TotpSetupResponse {
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    }))
}

pub(super) fn already_enrolled() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "already_enrolled", "A second factor is already enrolled.")
}

/// An `mfa_token` and a code.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CodeRequest {
    mfa_token: String,
    code: String,
}

/// Finishes TOTP enrolment with a first code: the session starts, and 10 backup codes are
/// shown once.
#[utoipa::path(post, path = "/api/v1/auth/mfa/totp/activate", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn totp_activate(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<CodeRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    // Enrolment through an mfa_token is for a first factor only: with a factor enrolled, a
    // password alone must not be able to add another (that would bypass the factor).
    if p.user.has_factor() {
        return Err(already_enrolled());
    }
    if !totp_ok(&state, &mut p.tx, p.user.id, &request.code, true, now).await? {
        return Err(reject_code(&state, p, "totp", now).await?);
    }
    let codes = new_backup_codes(&state, &mut p).await?;
    let raised = enrolment_alert(&mut p, &meta, "totp", now).await?;
    finish_login(&state, p, &meta, now, Some(codes), raised).await
}

/// Replaces the user's backup codes with a fresh set and returns it, to be shown once.
pub(super) async fn new_backup_codes(
    state: &AppState,
    p: &mut Pending,
) -> Result<Vec<String>, ApiError> {
    let codes = backup_codes::generate()?;
    let hashes: Vec<[u8; 32]> =
        codes.iter().map(|c| backup_codes::hash(&state.auth.codes, p.user.id, c)).collect();
    users::replace_backup_codes(&mut p.tx, p.user.id, &hashes).await?;
    Ok(codes)
}

/// Audits an enrolment; a first enrolment is part of signing up, a later one (after a reset)
/// is a change that raises an alert.
pub(super) async fn enrolment_alert(
    p: &mut Pending,
    meta: &ClientMeta,
    method: &str,
    now: DateTime<Utc>,
) -> Result<Vec<alerts::Raised>, ApiError> {
    let enrolled = event(AuditAction::MfaEnrolled, p.user.id, true)
        .detail("method", Detail::Label(method.to_owned()));
    audit::append(&mut p.tx, now, &p.context, &enrolled).await?;
    let (signed_in_before, _, _) = sessions::seen_before(&mut p.tx, p.user.id, None, None).await?;
    if !signed_in_before {
        return Ok(Vec::new());
    }
    let ip = meta.ip.map(|ip| ip.to_string());
    let details = json!({"change": "enrolled", "method": method});
    Ok(vec![
        alerts::raise(&mut p.tx, AlertKind::MfaChanged, Some(p.user.id), ip, details, now).await?,
    ])
}

/// Consumes the pending login, audits the successful login (alerting on a new address or
/// device), starts the session, and delivers `raised` alerts once committed.
pub(super) async fn finish_login(
    state: &AppState,
    mut p: Pending,
    meta: &ClientMeta,
    now: DateTime<Utc>,
    backup_codes: Option<Vec<String>>,
    mut raised: Vec<alerts::Raised>,
) -> Result<Response, ApiError> {
    if !sessions::consume_pending_login(&mut p.tx, p.login.id, now).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_token",
            "This sign-in was already completed.",
        ));
    }
    users::clear_login_failures(&mut p.tx, p.user.id).await?;
    let succeeded = event(AuditAction::LoginSucceeded, p.user.id, true);
    audit::append(&mut p.tx, now, &p.context, &succeeded).await?;
    let ip = meta.ip.map(|ip| ip.to_string());
    let (before, same_ip, same_device) =
        sessions::seen_before(&mut p.tx, p.user.id, ip.as_deref(), meta.user_agent.as_deref())
            .await?;
    if before && !(same_ip && same_device) {
        let details = json!({"new_ip": !same_ip, "new_device": !same_device});
        raised.push(
            alerts::raise(
                &mut p.tx,
                AlertKind::NewLoginLocation,
                Some(p.user.id),
                ip,
                details,
                now,
            )
            .await?,
        );
    }
    let response = session::start(state, &mut p.tx, p.user.id, meta, now, backup_codes).await?;
    p.tx.commit().await?;
    alerts::deliver(state, raised);
    Ok(response)
}

/// How long an SMS code works.
const SMS_CODE_TTL: chrono::Duration = chrono::Duration::minutes(5);

/// The stored hash of an SMS code: bound to the user and to the number it was sent to, so a
/// code sent to one number can never confirm or sign in through another.
pub(super) fn sms_code_hash(state: &AppState, user: UserId, phone: &str, code: &str) -> [u8; 32] {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    state.auth.codes.hash(user.as_uuid().as_bytes(), &format!("sms:{phone}:{digits}"))
}

/// Which of the user's numbers.
#[derive(Debug, Clone, Copy)]
pub(super) enum PhoneKind {
    /// The verified number that receives sign-in codes.
    Verified,
    /// A number being enrolled, not yet proven.
    Pending,
}

/// The user's verified or pending phone number, unsealed.
pub(super) async fn phone_of(
    state: &AppState,
    tx: &mut ScopedTx,
    user: UserId,
    kind: PhoneKind,
) -> Result<Option<String>, ApiError> {
    let (verified, pending) = users::phones(tx, user).await?;
    let sealed = match kind {
        PhoneKind::Verified => verified,
        PhoneKind::Pending => pending,
    };
    let Some(sealed) = sealed else { return Ok(None) };
    let phone = state
        .auth
        .user_secrets
        .open(&sealed, &phone_context(user))
        .map_err(|e| ApiError::internal(&e))?;
    String::from_utf8(phone.to_vec()).map(Some).map_err(|e| ApiError::internal(&e))
}

/// Redeems an SMS code sent to the user's number of `kind`; `false` when there is no such
/// number or the code is wrong, spent or expired.
pub(super) async fn redeem_sms_code(
    state: &AppState,
    tx: &mut ScopedTx,
    user: UserId,
    kind: PhoneKind,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Some(phone) = phone_of(state, tx, user, kind).await? else { return Ok(false) };
    Ok(sms_codes::redeem(tx, user, &sms_code_hash(state, user, &phone, code), now).await?)
}

/// The refusal when the user has no verified phone.
pub(super) fn no_verified_phone() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "method_unavailable",
        "No verified phone: use another method.",
    )
}

/// A uniformly random 6-digit code.
fn six_digits() -> Result<String, ApiError> {
    loop {
        let mut bytes = [0u8; 4];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| ApiError::internal(&"random failed"))?;
        let n = u32::from_be_bytes(bytes);
        // Reject the top sliver so every code is equally likely.
        if n < u32::MAX - (u32::MAX % 1_000_000) {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// Checks the per-user limit, stores a new code and commits, then sends it to `phone`. The
/// code is committed first so no transaction waits on the gateway; a code that could not be
/// delivered is simply never used.
pub(super) async fn send_sms_code(
    state: &AppState,
    mut tx: ScopedTx,
    user: UserId,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    if sms_codes::sent_since(&mut tx, user, now - state.auth.limits.sms_window).await?
        >= state.auth.limits.sms_codes
    {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_codes",
            "Too many codes sent; wait a few minutes.",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, state.auth.limits.sms_window.num_seconds().into());
        return Ok(response);
    }
    let code = six_digits()?;
    let hash = sms_code_hash(state, user, phone, &code);
    sms_codes::create(&mut tx, user, &hash, now, SMS_CODE_TTL).await?;
    tx.commit().await?;
    let body =
        format!("Your Petal sign-in code is {code}. It expires in 5 minutes. Never share it.");
    if let Err(error) = state.sms.send(phone, &body).await {
        tracing::warn!(error = %format!("{error:#}"), "SMS not sent");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sms_unavailable",
            "The code could not be sent; try another method.",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(json!({"sent": true, "to": masked(phone)}))).into_response())
}

/// `+44••••••0123`: enough to recognise one's own number, not to learn someone else's.
fn masked(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 3 || i + 4 >= chars.len() { *c } else { '•' })
        .collect()
}

/// A phone number in E.164 form: `+`, a non-zero digit, 7 to 14 more digits.
pub(super) fn parse_phone(input: &str) -> Result<String, ApiError> {
    let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = compact.strip_prefix('+').unwrap_or_default();
    let valid = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(compact)
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
            "Give the number in international form, e.g. +447700900123.",
        ))
    }
}

/// Associated data binding a sealed phone number to its user.
pub(super) fn phone_context(user: UserId) -> Vec<u8> {
    [b"phone:".as_slice(), user.as_uuid().as_bytes()].concat()
}

/// An `mfa_token` and a phone number.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SmsSetupRequest {
    mfa_token: String,
    /// E.164, e.g. `+447700900123`.
    phone: String,
}

/// Starts SMS enrolment: the number is kept (sealed) and a code is sent to it.
#[utoipa::path(post, path = "/api/v1/auth/mfa/sms/setup", tag = "auth", request_body = SmsSetupRequest,
    responses((status = 202), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sms_setup(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<SmsSetupRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let phone = parse_phone(&request.phone)?;
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    if p.user.has_factor() {
        return Err(already_enrolled());
    }
    let sealed = state
        .auth
        .user_secrets
        .seal(phone.as_bytes(), &phone_context(p.user.id))
        .map_err(|e| ApiError::internal(&e))?;
    users::set_pending_phone(&mut p.tx, p.user.id, &sealed).await?;
    // A code sent to an earlier number must not confirm this one.
    sms_codes::void_all(&mut p.tx, p.user.id, now).await?;
    send_sms_code(&state, p.tx, p.user.id, &phone, now).await
}

/// Finishes SMS enrolment with the code sent to the number: the session starts, and 10 backup
/// codes are shown once.
#[utoipa::path(post, path = "/api/v1/auth/mfa/sms/activate", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn sms_activate(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<CodeRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    if p.user.has_factor() {
        return Err(already_enrolled());
    }
    if !redeem_sms_code(&state, &mut p.tx, p.user.id, PhoneKind::Pending, &request.code, now)
        .await?
        || !users::confirm_phone(&mut p.tx, p.user.id, now).await?
    {
        return Err(reject_code(&state, p, "sms", now).await?);
    }
    let codes = new_backup_codes(&state, &mut p).await?;
    let raised = enrolment_alert(&mut p, &meta, "sms", now).await?;
    finish_login(&state, p, &meta, now, Some(codes), raised).await
}

/// Asks for a code by SMS for a pending login.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChallengeRequest {
    mfa_token: String,
    /// `sms`.
    method: String,
}

/// Sends an SMS code to the user's verified number (at most 3 per 10 minutes).
#[utoipa::path(post, path = "/api/v1/auth/mfa/challenge", tag = "auth", request_body = ChallengeRequest,
    responses((status = 202), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn mfa_challenge(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<ChallengeRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    let phone = match request.method.as_str() {
        "sms" => phone_of(&state, &mut p.tx, p.user.id, PhoneKind::Verified).await?,
        _ => None,
    };
    let phone = phone.ok_or_else(no_verified_phone)?;
    send_sms_code(&state, p.tx, p.user.id, &phone, now).await
}

/// A second factor for a pending login.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyRequest {
    mfa_token: String,
    /// `totp`, `sms` (after `/auth/mfa/challenge`) or `backup_code`; passkeys use their own
    /// routes.
    method: String,
    code: String,
}

/// Verifies a second factor and starts the session. Each code works once; five wrong codes
/// void the pending login.
#[utoipa::path(post, path = "/api/v1/auth/mfa/verify", tag = "auth", request_body = VerifyRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn mfa_verify(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<VerifyRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    if !p.user.has_factor() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "mfa_enrollment_required",
            "Enrol a second factor first.",
        ));
    }
    if !factor_ok(&state, &mut p.tx, p.user.id, &request.method, &request.code, now).await? {
        return Err(reject_code(&state, p, &request.method, now).await?);
    }
    let verified = event(AuditAction::MfaVerified, p.user.id, true)
        .detail("method", Detail::Label(request.method.clone()));
    audit::append(&mut p.tx, now, &p.context, &verified).await?;
    finish_login(&state, p, &meta, now, None, Vec::new()).await
}

/// Password and a second factor, again.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReauthRequest {
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// `totp`, `sms` or `backup_code`.
    method: String,
    code: String,
}

/// Step-up: after this, sensitive changes are allowed for 5 minutes on this session.
#[utoipa::path(post, path = "/api/v1/auth/reauth", tag = "auth", request_body = ReauthRequest,
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn reauth(
    State(state): State<AppState>,
    user: Authenticated,
    Json(request): Json<ReauthRequest>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let id = user.principal.user_id;
    let password_ok = step_up_password(&state, &user, request.password).await?;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    let factor_ok =
        password_ok && factor_ok(&state, &mut tx, id, &request.method, &request.code, now).await?;
    if !factor_ok {
        return Err(refuse_step_up(&state, tx, &user, now).await?);
    }
    grant_step_up(tx, &user, &request.method, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether `password` is the signed-in user's, the first half of every step-up. Argon2 runs
/// before the caller opens its write transaction, so no lock is held while it works.
pub(super) async fn step_up_password(
    state: &AppState,
    user: &Authenticated,
    password: SecretString,
) -> Result<bool, ApiError> {
    let mut read = state.db.begin_snapshot(user.scope()).await?;
    let (stored, _) = users::credentials(&mut read, user.principal.user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(read);
    Ok(password::verify(password, stored).await?)
}

/// A failed step-up: audited, and counted like a failed login, so enough of them lock the
/// account, which ends its sessions (and raises an alert). Commits `tx`; the error to answer.
pub(super) async fn refuse_step_up(
    state: &AppState,
    mut tx: ScopedTx,
    user: &Authenticated,
    now: DateTime<Utc>,
) -> Result<ApiError, ApiError> {
    let id = user.principal.user_id;
    let failed = event(AuditAction::MfaFailed, id, false)
        .detail("purpose", Detail::Label("step_up".to_owned()));
    audit::append(&mut tx, now, &user.audit(), &failed).await?;
    let ip = user.meta.ip.map(|ip| ip.to_string());
    let alert = count_failure(state, &mut tx, id, &user.audit(), ip, now).await?;
    if alert.is_some() {
        sessions::revoke_all(&mut tx, id, "locked", now).await?;
    }
    tx.commit().await?;
    alerts::deliver(state, alert.into_iter().collect());
    Ok(invalid_credentials())
}

/// A step-up that passed with `method`: sensitive changes are allowed on this session for the
/// next five minutes. Audited; commits `tx`.
pub(super) async fn grant_step_up(
    mut tx: ScopedTx,
    user: &Authenticated,
    method: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let id = user.principal.user_id;
    sessions::record_reauth(&mut tx, user.principal.session_id, now).await?;
    let verified = event(AuditAction::MfaVerified, id, true)
        .detail("purpose", Detail::Label("step_up".to_owned()))
        .detail("method", Detail::Label(method.to_owned()));
    audit::append(&mut tx, now, &user.audit(), &verified).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the current session at once and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    user: Authenticated,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let p = &user.principal;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    sessions::revoke(&mut tx, p.user_id, p.session_id, "logout", now).await?;
    audit::append(&mut tx, now, &user.audit(), &event(AuditAction::Logout, p.user_id, true))
        .await?;
    tx.commit().await?;
    let clear = session::session_cookie(&state, "", 0)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}
