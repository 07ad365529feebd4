//! The user's own page: password change, re-enrolling the authenticator, sessions, and
//! personal API tokens (shown once, stored hashed, never more rights than the user).

use super::users::{RoleOption, role_options};
use super::{Page, field, lang_from_headers, render, server_error};
use crate::AppState;
use crate::security::{Totp, hash_password, unix_now, verify_password};
use crate::session::Auth;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::audit::AuditDraft;
use mamori_domain::auth::{Role, check_password};
use mamori_domain::{ApiTokenId, InstitutionId, time_fmt};
use mamori_i18n::Lang;
use mamori_store::{ApiToken, hash_secret, new_secret};
use std::collections::HashMap;

pub struct TokenLine {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

pub struct SessionLine {
    pub created: String,
    pub last_seen: String,
    pub ip: String,
    pub agent: String,
    pub current: bool,
}

pub struct NewMfa {
    pub qr_svg: String,
    pub secret: String,
    pub sealed: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct Profile {
    page: Page,
    login: String,
    name: String,
    memberships: Vec<(String, String)>,
    sessions: Vec<SessionLine>,
    tokens: Vec<TokenLine>,
    roles: Vec<RoleOption>,
    errors: Vec<String>,
    notice: Option<String>,
    new_token: Option<String>,
    new_mfa: Option<NewMfa>,
}

#[derive(Default)]
struct Extra {
    errors: Vec<String>,
    notice: Option<String>,
    new_token: Option<String>,
    new_mfa: Option<NewMfa>,
}

async fn show(state: &AppState, auth: &Auth, lang: Lang, extra: Extra) -> Response {
    let result: Result<Profile, mamori_store::StoreError> = async {
        let names: HashMap<InstitutionId, String> =
            state.store.list_institutions().await?.into_iter().map(|i| (i.id, i.name)).collect();
        let memberships = auth
            .memberships
            .iter()
            .map(|m| {
                (
                    names.get(&m.institution_id).cloned().unwrap_or_default(),
                    lang.t(&format!("role-{}", m.role.as_str())),
                )
            })
            .collect();
        let sessions = state
            .store
            .list_sessions(Some(auth.user.id))
            .await?
            .into_iter()
            .filter(|s| !s.mfa_pending)
            .map(|s| SessionLine {
                created: super::jobs::when(s.created_at),
                last_seen: super::jobs::when(s.last_seen_at),
                ip: s.ip.clone().unwrap_or_default(),
                agent: s.user_agent.clone().unwrap_or_default(),
                current: s.id_hash == auth.session.id_hash,
            })
            .collect();
        let tokens = state
            .store
            .list_api_tokens(Some(auth.user.id))
            .await?
            .into_iter()
            .map(|t| TokenLine {
                id: t.id.to_string(),
                name: t.name.clone(),
                scope: format!(
                    "{} / {}",
                    t.institution_id
                        .and_then(|i| names.get(&i).cloned())
                        .unwrap_or_else(|| lang.t("profile-token-all-institutions")),
                    t.role
                        .map(|r| lang.t(&format!("role-{}", r.as_str())))
                        .unwrap_or_else(|| lang.t("profile-token-my-role")),
                ),
                created: super::jobs::when(t.created_at),
                last_used: t.last_used_at.map(super::jobs::when).unwrap_or_default(),
                revoked: t.revoked_at.is_some(),
            })
            .collect();
        Ok(Profile {
            page: Page::for_user(state, auth, lang, "profile-title", None).await,
            login: auth.user.login.clone(),
            name: auth.user.display_name.clone(),
            memberships,
            sessions,
            tokens,
            roles: role_options(lang),
            errors: extra.errors,
            notice: extra.notice,
            new_token: extra.new_token,
            new_mfa: extra.new_mfa,
        })
    }
    .await;
    match result {
        Ok(p) => render(&p),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn show_page(state: &AppState, auth: &Auth, lang: Lang) -> Response {
    show(state, auth, lang, Extra::default()).await
}

pub async fn show_route(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
) -> Response {
    show_page(&state, &auth, lang_from_headers(&headers)).await
}

pub async fn change_password(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let fail = |key: &str| Extra { errors: vec![lang.t(key)], ..Default::default() };
    if !verify_password(f.get("current").map(String::as_str).unwrap_or(""), &auth.user.password_hash) {
        return show(&state, &auth, lang, fail("profile-error-current")).await;
    }
    let new = f.get("new").cloned().unwrap_or_default();
    if new != f.get("confirm").cloned().unwrap_or_default() {
        return show(&state, &auth, lang, fail("web-error-password-mismatch")).await;
    }
    if let Err(p) = check_password(&new, &auth.user.login) {
        return show(&state, &auth, lang, fail(&format!("password-problem-{}", p.code()))).await;
    }
    if verify_password(&new, &auth.user.password_hash) {
        return show(&state, &auth, lang, fail("profile-error-same")).await;
    }
    let Ok(hash) = hash_password(&new) else { return server_error(lang, &"hashing failed") };
    let mut u = auth.user.clone();
    u.password_hash = hash;
    u.password_changed_at = time_fmt::now();
    let actor = format!("user:{}", u.id);
    let result = async {
        state.store.update_user(&u, &AuditDraft::new(&actor, "user.password_changed").object("user", u.id)).await?;
        // Every other session ends with the old password; this one continues under a new id.
        state.store.revoke_sessions(u.id, &actor).await?;
        crate::session::start(&state, &u, false, &headers, ip).await
    }
    .await;
    match result {
        Ok(secret) => crate::session::redirect_with_session(&state, &secret, "/profile"),
        Err(e) => server_error(lang, &e),
    }
}

const MFA_SEAL: &str = "profile-mfa";

pub async fn mfa_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    if !verify_password(f.get("current").map(String::as_str).unwrap_or(""), &auth.user.password_hash) {
        return show(
            &state,
            &auth,
            lang,
            Extra { errors: vec![lang.t("profile-error-current")], ..Default::default() },
        )
        .await;
    }
    let totp = Totp::generate(&auth.user.login);
    let sealed = state.key.seal(&format!("{MFA_SEAL}:{}", auth.user.id), totp.seal(&state.key).as_bytes());
    let new_mfa = NewMfa { qr_svg: totp.qr_svg(), secret: totp.secret_base32(), sealed };
    show(&state, &auth, lang, Extra { new_mfa: Some(new_mfa), ..Default::default() }).await
}

pub async fn mfa_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let purpose = format!("{MFA_SEAL}:{}", auth.user.id);
    let Some(seed) = state.key.open(&purpose, field(&f, "sealed")).ok().and_then(|s| String::from_utf8(s).ok()) else {
        return show_page(&state, &auth, lang).await;
    };
    let Ok(totp) = Totp::from_sealed(&state.key, &seed, &auth.user.login) else {
        return show_page(&state, &auth, lang).await;
    };
    let Some(step) = totp.matching_step(field(&f, "code"), unix_now()) else {
        let new_mfa =
            NewMfa { qr_svg: totp.qr_svg(), secret: totp.secret_base32(), sealed: field(&f, "sealed").to_owned() };
        return show(
            &state,
            &auth,
            lang,
            Extra { errors: vec![lang.t("web-error-code")], new_mfa: Some(new_mfa), ..Default::default() },
        )
        .await;
    };
    let mut u = auth.user.clone();
    u.totp_secret = Some(seed);
    u.totp_last_step = Some(step);
    match state
        .store
        .update_user(&u, &AuditDraft::new(&format!("user:{}", u.id), "auth.mfa_enrolled").object("user", u.id))
        .await
    {
        Ok(()) => {
            show(&state, &auth, lang, Extra { notice: Some(lang.t("profile-mfa-done")), ..Default::default() }).await
        }
        Err(e) => server_error(lang, &e),
    }
}

pub async fn token_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let name = field(&f, "name").to_owned();
    if name.is_empty() {
        return show(&state, &auth, lang, Extra { errors: vec![lang.t("token-name-required")], ..Default::default() })
            .await;
    }
    let institution_id = match field(&f, "institution") {
        "" => None,
        s => match s.parse::<InstitutionId>() {
            Ok(i) if auth.role_in(i).is_some() => Some(i),
            _ => return super::forbidden(lang),
        },
    };
    let role = match field(&f, "role") {
        "" => None,
        r => match Role::parse(r) {
            Some(r) => Some(r),
            None => return super::forbidden(lang),
        },
    };
    let secret = format!("mamori_{}", new_secret());
    let token = ApiToken {
        id: ApiTokenId::new(),
        name,
        token_hash: hash_secret(&secret),
        user_id: Some(auth.user.id),
        institution_id,
        role,
        created_by: format!("user:{}", auth.user.id),
        created_at: time_fmt::now(),
        last_used_at: None,
        revoked_at: None,
    };
    match state.store.insert_api_token(&token).await {
        Ok(()) => show(&state, &auth, lang, Extra { new_token: Some(secret), ..Default::default() }).await,
        Err(e) => server_error(lang, &e),
    }
}

pub async fn token_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Path(token): Path<String>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let Ok(id) = token.parse::<ApiTokenId>() else { return super::not_found(lang) };
    // Only one's own tokens.
    match state.store.list_api_tokens(Some(auth.user.id)).await {
        Ok(list) if list.iter().any(|t| t.id == id) => {
            match state.store.revoke_api_token(id, &format!("user:{}", auth.user.id)).await {
                Ok(_) => Redirect::to("/profile").into_response(),
                Err(e) => server_error(lang, &e),
            }
        }
        Ok(_) => super::not_found(lang),
        Err(e) => server_error(lang, &e),
    }
}
