//! First run: the setup token printed by `mamori init` / `serve` lets the first person create
//! the installation administrator, with TOTP enrolled in the same flow (not later). Between
//! the two steps the pending account travels sealed in the form, never stored half-made.

use super::{Page, field, lang_from_headers, pre_session_token, render, server_error, with_cookie};
use crate::security::{Totp, hash_password, unix_now};
use crate::{AppState, ClientIp};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::audit::AuditDraft;
use mamori_domain::auth::{Role, User, check_password, normalize_login};
use mamori_domain::institution::{Institution, InstitutionKind};
use mamori_domain::{UserId, time_fmt};
use mamori_store::{SETUP_DONE_SETTING, SETUP_TOKEN_SETTING, hash_secret};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupForm {
    page: Page,
    errors: Vec<String>,
    login: String,
    display_name: String,
    institution: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "setup_mfa.html")]
struct SetupMfa {
    page: Page,
    errors: Vec<String>,
    qr_svg: String,
    secret: String,
    pending: String,
}

/// What step 1 established, sealed into the step-2 form.
#[derive(Serialize, Deserialize)]
struct Pending {
    login: String,
    display_name: String,
    password_hash: String,
    totp_seed: String,
    institution: String,
    kind: String,
    token_hash: String,
    expires: i64,
}

const SEAL: &str = "setup-pending";

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_from_headers(&headers);
    match crate::setup_pending(&state).await {
        Ok(false) => return Redirect::to("/login").into_response(),
        Err(e) => return server_error(lang, &e),
        Ok(true) => {}
    }
    let (csrf, cookie) = pre_session_token(&state, &headers);
    let t = SetupForm {
        page: Page::anonymous(lang, "setup-title", &csrf),
        errors: vec![],
        login: String::new(),
        display_name: String::new(),
        institution: String::new(),
        kind: "clinic".into(),
    };
    with_cookie(render(&t), cookie)
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match crate::setup_pending(&state).await {
        Ok(false) => return Redirect::to("/login").into_response(),
        Err(e) => return server_error(lang, &e),
        Ok(true) => {}
    }
    let (csrf, cookie) = pre_session_token(&state, &headers);
    let mut errors = Vec::new();
    let token_hash = hash_secret(field(&f, "token"));
    let stored = state.store.get_setting(SETUP_TOKEN_SETTING).await.ok().flatten();
    if !stored.as_deref().is_some_and(|s| crate::security::same_secret(s, &token_hash)) {
        errors.push(lang.t("setup-error-token"));
    }
    let login = normalize_login(field(&f, "login"));
    if login.is_err() {
        errors.push(lang.t("web-error-login-format"));
    }
    let display_name = field(&f, "display_name").to_owned();
    if display_name.is_empty() {
        errors.push(lang.t("web-error-display-name"));
    }
    let password = f.get("password").cloned().unwrap_or_default();
    if password != f.get("password_confirm").cloned().unwrap_or_default() {
        errors.push(lang.t("web-error-password-mismatch"));
    } else if let Err(p) = check_password(&password, login.as_deref().unwrap_or("")) {
        errors.push(lang.t(&format!("password-problem-{}", p.code())));
    }
    let kind = field(&f, "kind").to_owned();
    if InstitutionKind::parse(&kind).is_none() {
        errors.push(lang.t("web-error-kind"));
    }
    let institution = field(&f, "institution").to_owned();
    let (Ok(login), true) = (login, errors.is_empty()) else {
        let t = SetupForm {
            page: Page::anonymous(lang, "setup-title", &csrf),
            errors,
            login: field(&f, "login").to_owned(),
            display_name,
            institution,
            kind,
        };
        return with_cookie(render(&t), cookie);
    };
    let Ok(password_hash) = hash_password(&password) else {
        return server_error(lang, &"password hashing failed");
    };
    let totp = Totp::generate(&login);
    let pending = Pending {
        login,
        display_name,
        password_hash,
        totp_seed: totp.seal(&state.key),
        institution,
        kind,
        token_hash,
        expires: (time_fmt::now() + time::Duration::minutes(15)).unix_timestamp(),
    };
    let sealed = state.key.seal(SEAL, &serde_json::to_vec(&pending).expect("serialisable"));
    let t = SetupMfa {
        page: Page::anonymous(lang, "setup-mfa-title", &csrf),
        errors: vec![],
        qr_svg: totp.qr_svg(),
        secret: totp.secret_base32(),
        pending: sealed,
    };
    with_cookie(render(&t), cookie)
}

pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let restart = || Redirect::to("/setup").into_response();
    let Ok(raw) = state.key.open(SEAL, field(&f, "pending")) else { return restart() };
    let Ok(p) = serde_json::from_slice::<Pending>(&raw) else { return restart() };
    if p.expires < time_fmt::now().unix_timestamp() || !matches!(crate::setup_pending(&state).await, Ok(true)) {
        return restart();
    }
    let stored = state.store.get_setting(SETUP_TOKEN_SETTING).await.ok().flatten();
    if !stored.as_deref().is_some_and(|s| crate::security::same_secret(s, &p.token_hash)) {
        return restart();
    }
    let Ok(totp) = Totp::from_sealed(&state.key, &p.totp_seed, &p.login) else { return restart() };
    let Some(step) = totp.matching_step(field(&f, "code"), unix_now()) else {
        let (csrf, cookie) = pre_session_token(&state, &headers);
        let t = SetupMfa {
            page: Page::anonymous(lang, "setup-mfa-title", &csrf),
            errors: vec![lang.t("web-error-code")],
            qr_svg: totp.qr_svg(),
            secret: totp.secret_base32(),
            pending: field(&f, "pending").to_owned(),
        };
        return with_cookie(render(&t), cookie);
    };
    match finish(&state, &p, step).await {
        Ok(user) => match crate::session::start(&state, &user, false, &headers, ip).await {
            Ok(secret) => crate::session::redirect_with_session(&state, &secret, "/dashboard"),
            Err(e) => server_error(lang, &e),
        },
        Err(e) => server_error(lang, &e),
    }
}

async fn finish(state: &AppState, p: &Pending, step: i64) -> Result<User, mamori_store::StoreError> {
    let now = time_fmt::now();
    let user = User {
        id: UserId::new(),
        login: p.login.clone(),
        display_name: p.display_name.clone(),
        password_hash: p.password_hash.clone(),
        totp_secret: Some(p.totp_seed.clone()),
        totp_last_step: Some(step),
        installation_admin: true,
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        password_changed_at: now,
        last_login_at: Some(now),
        created_at: now,
    };
    let actor = format!("user:{}", user.id);
    state.store.create_user(&user, &[], &actor).await?;
    if !p.institution.is_empty() {
        let kind = InstitutionKind::parse(&p.kind).unwrap_or(InstitutionKind::Clinic);
        let inst = Institution::new(&p.institution, kind)?;
        let scope = state.store.create_institution(&inst, &actor).await?;
        state.store.set_membership(&scope, user.id, Some(Role::Admin), &actor).await?;
    }
    let done = AuditDraft::new(&actor, "setup.completed").details(serde_json::json!({"login": user.login}));
    state.store.set_setting(SETUP_DONE_SETTING, &time_fmt::format(now), &done).await?;
    let used = AuditDraft::new(&actor, "setup.token_used");
    state.store.set_setting(SETUP_TOKEN_SETTING, "", &used).await?;
    Ok(user)
}
