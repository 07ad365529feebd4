//! Login: password, then TOTP (enrolled at first login when an administrator created the
//! account). Failures get one generic message; accounts lock after repeated failures and a
//! source address is throttled; every attempt is in the audit log. A successful login always
//! gets a new session id (no fixation) and a new CSRF token.

use super::{Page, field, lang_from_headers, pre_session_token, render, server_error, with_cookie};
use crate::security::{Totp, burn_password_check, unix_now, verify_password};
use crate::session::{Auth, PendingMfa, clear_cookie, cookie_name};
use crate::{AppState, ClientIp};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::audit::{AuditDraft, Chain};
use mamori_domain::auth::{User, lockout_after_failure, normalize_login};
use mamori_domain::time_fmt;
use serde_json::json;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginForm {
    page: Page,
    error: Option<String>,
    login: String,
}

#[derive(Template)]
#[template(path = "login_mfa.html")]
struct MfaForm {
    page: Page,
    error: Option<String>,
    /// Set when the account has no authenticator yet: enrol now.
    enrol: Option<Enrol>,
}

pub struct Enrol {
    pub qr_svg: String,
    pub secret: String,
    pub sealed: String,
}

const ENROL_SEAL: &str = "login-enrol";

pub async fn form(State(state): State<AppState>, headers: HeaderMap, auth: Option<Extension<Auth>>) -> Response {
    if auth.is_some() {
        return Redirect::to("/dashboard").into_response();
    }
    let lang = lang_from_headers(&headers);
    if matches!(crate::setup_pending(&state).await, Ok(true)) {
        return Redirect::to("/setup").into_response();
    }
    let (csrf, cookie) = pre_session_token(&state, &headers);
    with_cookie(
        render(&LoginForm { page: Page::anonymous(lang, "login-title", &csrf), error: None, login: String::new() }),
        cookie,
    )
}

fn failed_form(state: &AppState, headers: &HeaderMap, login: &str, status: StatusCode) -> Response {
    let lang = lang_from_headers(headers);
    let (csrf, cookie) = pre_session_token(state, headers);
    let t = LoginForm {
        page: Page::anonymous(lang, "login-title", &csrf),
        error: Some(lang.t("login-failed")),
        login: login.to_owned(),
    };
    let mut res = with_cookie(render(&t), cookie);
    *res.status_mut() = status;
    res
}

/// Also records an authentication event in the log of every institution the user belongs
/// to, so each institution's auditor sees its own users' logins.
async fn audit_in_institutions(state: &AppState, user: &User, draft: &AuditDraft) {
    if let Ok(memberships) = state.store.memberships(user.id).await {
        for m in memberships {
            if let Err(e) = state.store.append_audit(Chain::Institution(m.institution_id), draft).await {
                tracing::error!(error = %e, "recording a login in an institution's log failed");
            }
        }
    }
}

/// Counts a failure against the account (lockout) and the address (throttle), audited.
async fn record_failure(state: &AppState, user: Option<&User>, login: &str, ip: &Option<String>, reason: &str) {
    state.throttle.fail(ip.as_deref());
    let details = json!({"login": login, "ip": ip, "reason": reason});
    let result = match user {
        Some(u) => {
            let mut u = u.clone();
            u.failed_logins += 1;
            let now = time_fmt::now();
            if let Some(until) = lockout_after_failure(u.failed_logins, now) {
                u.locked_until = Some(until);
            }
            let draft =
                AuditDraft::new(&format!("user:{}", u.id), "auth.login_failed").object("user", u.id).details(details);
            audit_in_institutions(state, &u, &draft).await;
            state.store.update_user(&u, &draft).await
        }
        None => state
            .store
            .append_audit(Chain::System, &AuditDraft::new("anonymous", "auth.login_failed").details(details))
            .await
            .map(drop),
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "recording a failed login failed");
    }
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let raw_login = field(&f, "login").to_owned();
    let password = f.get("password").cloned().unwrap_or_default();
    if state.throttle.blocked(ip.as_deref()) {
        let _ = state
            .store
            .append_audit(
                Chain::System,
                &AuditDraft::new("anonymous", "auth.throttled").details(json!({"login": raw_login, "ip": ip})),
            )
            .await;
        return failed_form(&state, &headers, &raw_login, StatusCode::TOO_MANY_REQUESTS);
    }
    let user = match normalize_login(&raw_login) {
        Ok(login) => match state.store.find_user_by_login(&login).await {
            Ok(u) => u,
            Err(e) => return server_error(lang, &e),
        },
        Err(_) => None,
    };
    let Some(user) = user else {
        burn_password_check(&password);
        record_failure(&state, None, &raw_login, &ip, "unknown-login").await;
        return failed_form(&state, &headers, &raw_login, StatusCode::UNAUTHORIZED);
    };
    let now = time_fmt::now();
    if user.disabled || user.is_locked(now) {
        burn_password_check(&password);
        let reason = if user.disabled { "disabled" } else { "locked" };
        record_failure(&state, Some(&user), &raw_login, &ip, reason).await;
        return failed_form(&state, &headers, &raw_login, StatusCode::UNAUTHORIZED);
    }
    if !verify_password(&password, &user.password_hash) {
        record_failure(&state, Some(&user), &raw_login, &ip, "password").await;
        return failed_form(&state, &headers, &raw_login, StatusCode::UNAUTHORIZED);
    }
    match crate::session::start(&state, &user, true, &headers, ip).await {
        Ok(secret) => crate::session::redirect_with_session(&state, &secret, "/login/mfa"),
        Err(e) => server_error(lang, &e),
    }
}

fn enrolment(state: &AppState, user: &User, sealed: Option<&str>) -> Option<Enrol> {
    if user.mfa_enrolled() {
        return None;
    }
    // Keep the seed across a wrong code: it travels sealed, bound to this user.
    let purpose = format!("{ENROL_SEAL}:{}", user.id);
    let totp = sealed
        .and_then(|s| state.key.open(&purpose, s).ok())
        .and_then(|seed| Totp::from_sealed(&state.key, std::str::from_utf8(&seed).ok()?, &user.login).ok())
        .unwrap_or_else(|| Totp::generate(&user.login));
    let seed = totp.seal(&state.key);
    Some(Enrol {
        qr_svg: totp.qr_svg(),
        secret: totp.secret_base32(),
        sealed: state.key.seal(&purpose, seed.as_bytes()),
    })
}

pub async fn mfa_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(p): Extension<PendingMfa>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let t = MfaForm {
        page: Page::anonymous(lang, "login-mfa-title", &p.session.csrf_token),
        error: None,
        enrol: enrolment(&state, &p.user, None),
    };
    render(&t)
}

pub async fn mfa_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Extension(p): Extension<PendingMfa>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let user = p.user.clone();
    let code = field(&f, "code");
    let now = unix_now();
    // The seed to check against: the enrolled one, or the one being enrolled.
    let (totp, new_seed) = match &user.totp_secret {
        Some(sealed) => (Totp::from_sealed(&state.key, sealed, &user.login).ok(), None),
        None => {
            let purpose = format!("{ENROL_SEAL}:{}", user.id);
            let seed = state.key.open(&purpose, field(&f, "enrol")).ok().and_then(|s| String::from_utf8(s).ok());
            (seed.as_deref().and_then(|s| Totp::from_sealed(&state.key, s, &user.login).ok()), seed)
        }
    };
    let step = totp.as_ref().and_then(|t| t.matching_step(code, now));
    let accepted = match step {
        Some(step) if user.mfa_enrolled() => state.store.accept_totp_step(user.id, step).await.unwrap_or(false),
        Some(_) => true,
        None => false,
    };
    if !accepted {
        record_failure(&state, Some(&user), &user.login, &ip, "totp").await;
        let locked = state.store.get_user(user.id).await.ok().flatten().is_some_and(|u| u.is_locked(time_fmt::now()));
        if locked {
            let _ = state.store.delete_session(&p.session.id_hash).await;
            let mut res = failed_form(&state, &headers, &user.login, StatusCode::UNAUTHORIZED);
            res.headers_mut()
                .append(header::SET_COOKIE, clear_cookie(cookie_name(state.secure_cookies), state.secure_cookies));
            return res;
        }
        let t = MfaForm {
            page: Page::anonymous(lang, "login-mfa-title", &p.session.csrf_token),
            error: Some(lang.t("login-code-failed")),
            enrol: enrolment(&state, &user, (!user.mfa_enrolled()).then(|| field(&f, "enrol"))),
        };
        let mut res = render(&t);
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return res;
    }
    // Success: a fresh session replaces the pending one.
    let mut u = user.clone();
    // Carry the accepted step: writing back the old one would let the same code work again.
    u.totp_last_step = step.max(u.totp_last_step);
    u.failed_logins = 0;
    u.locked_until = None;
    u.last_login_at = Some(time_fmt::now());
    let mut action = "auth.login";
    if let Some(seed) = new_seed {
        u.totp_secret = Some(seed);
        u.totp_last_step = step;
        action = "auth.mfa_enrolled";
    }
    let draft = AuditDraft::new(&format!("user:{}", u.id), action).object("user", u.id).details(json!({"ip": ip}));
    if let Err(e) = state.store.update_user(&u, &draft).await {
        return server_error(lang, &e);
    }
    let login =
        AuditDraft::new(&format!("user:{}", u.id), "auth.login").object("user", u.id).details(json!({"ip": ip}));
    if action == "auth.mfa_enrolled" {
        let _ = state.store.append_audit(Chain::System, &login).await;
    }
    audit_in_institutions(&state, &u, &login).await;
    let _ = state.store.delete_session(&p.session.id_hash).await;
    match crate::session::start(&state, &u, false, &headers, ip).await {
        Ok(secret) => crate::session::redirect_with_session(&state, &secret, "/dashboard"),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    auth: Option<Extension<Auth>>,
    pending: Option<Extension<PendingMfa>>,
) -> Response {
    let (user, id_hash) = match (auth, pending) {
        (Some(Extension(a)), _) => (a.user.id, a.session.id_hash),
        (None, Some(Extension(p))) => (p.user.id, p.session.id_hash),
        _ => return Redirect::to("/login").into_response(),
    };
    let _ = state.store.delete_session(&id_hash).await;
    let _ = state
        .store
        .append_audit(Chain::System, &AuditDraft::new(&format!("user:{user}"), "auth.logout").object("user", user))
        .await;
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, clear_cookie(cookie_name(state.secure_cookies), state.secure_cookies));
    res
}
