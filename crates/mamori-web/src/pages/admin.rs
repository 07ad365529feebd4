//! The installation administrator's pages: institutions and every user.

use super::users::{new_user, store_text};
use super::{Page, field, lang_from_headers, render, server_error};
use crate::AppState;
use crate::session::Auth;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::UserId;
use mamori_domain::audit::AuditDraft;
use mamori_domain::institution::{Institution, InstitutionKind};
use mamori_i18n::Lang;
use std::collections::HashMap;

pub struct InstLine {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub code: String,
    pub demo: bool,
}

#[derive(Template)]
#[template(path = "institutions.html")]
struct Institutions {
    page: Page,
    list: Vec<InstLine>,
    errors: Vec<String>,
}

async fn show_institutions(state: &AppState, auth: &Auth, lang: Lang, errors: Vec<String>) -> Response {
    match state.store.list_institutions().await {
        Ok(list) => render(&Institutions {
            page: Page::for_user(state, auth, lang, "institutions-title", None).await,
            list: list
                .into_iter()
                .map(|i| InstLine {
                    id: i.id.to_string(),
                    name: i.name,
                    kind: lang.t(&format!("institution-kind-{}", i.kind.as_str())),
                    code: i.medical_code.unwrap_or_default(),
                    demo: i.demo,
                })
                .collect(),
            errors,
        }),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn institutions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
) -> Response {
    show_institutions(&state, &auth, lang_from_headers(&headers), vec![]).await
}

/// Loads the fictional clinic or hospital, marked 【デモ】 on every page.
pub async fn demo_load(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    use mamori_ledger::demo::DemoInstitution;
    let lang = lang_from_headers(&headers);
    let which = match field(&f, "which") {
        "clinic" => DemoInstitution::Clinic,
        "hospital" => DemoInstitution::Hospital,
        _ => return show_institutions(&state, &auth, lang, vec![lang.t("institutions-error-demo")]).await,
    };
    match crate::ledger_io::load_demo(&*state.store, which, &format!("user:{}", auth.user.id)).await {
        Ok((inst, _)) => Redirect::to(&format!("/i/{}", inst.id)).into_response(),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn institution_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let kind = InstitutionKind::parse(field(&f, "kind")).unwrap_or(InstitutionKind::Clinic);
    let inst = match Institution::new(field(&f, "name"), kind) {
        Ok(i) if field(&f, "code").is_empty() => Ok(i),
        Ok(i) => i.with_medical_code(field(&f, "code")),
        Err(e) => Err(e),
    };
    match inst {
        Ok(i) => match state.store.create_institution(&i, &format!("user:{}", auth.user.id)).await {
            Ok(_) => Redirect::to("/admin/institutions").into_response(),
            Err(e) => server_error(lang, &e),
        },
        Err(e) => {
            let key = match e {
                mamori_domain::institution::InstitutionError::EmptyName => "institutions-error-name",
                mamori_domain::institution::InstitutionError::BadMedicalCode => "institutions-error-code",
            };
            show_institutions(&state, &auth, lang, vec![lang.t(key)]).await
        }
    }
}

pub struct UserLine {
    pub id: String,
    pub login: String,
    pub name: String,
    pub admin: bool,
    pub disabled: bool,
    pub mfa: bool,
    pub locked: bool,
    pub last_login: String,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct Users {
    page: Page,
    list: Vec<UserLine>,
    errors: Vec<String>,
}

async fn show_users(state: &AppState, auth: &Auth, lang: Lang, errors: Vec<String>) -> Response {
    let now = mamori_domain::time_fmt::now();
    match state.store.list_users().await {
        Ok(list) => render(&Users {
            page: Page::for_user(state, auth, lang, "admin-users-title", None).await,
            list: list
                .into_iter()
                .map(|u| UserLine {
                    id: u.id.to_string(),
                    login: u.login.clone(),
                    name: u.display_name.clone(),
                    admin: u.installation_admin,
                    disabled: u.disabled,
                    mfa: u.mfa_enrolled(),
                    locked: u.is_locked(now),
                    last_login: u.last_login_at.map(super::jobs::when).unwrap_or_default(),
                    me: u.id == auth.user.id,
                })
                .collect(),
            errors,
        }),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn users(State(state): State<AppState>, headers: HeaderMap, Extension(auth): Extension<Auth>) -> Response {
    show_users(&state, &auth, lang_from_headers(&headers), vec![]).await
}

pub async fn user_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match new_user(&f, lang) {
        Ok(mut u) => {
            u.installation_admin = field(&f, "installation_admin") == "on";
            match state.store.create_user(&u, &[], &format!("user:{}", auth.user.id)).await {
                Ok(()) => Redirect::to("/admin/users").into_response(),
                Err(e) => show_users(&state, &auth, lang, vec![store_text(lang, &e)]).await,
            }
        }
        Err(errors) => show_users(&state, &auth, lang, errors).await,
    }
}

/// What an administrator does to another user's account.
enum UserChange {
    Disable,
    Enable,
    RevokeSessions,
    /// Lost phone: the authenticator is forgotten; the next login enrols a new one.
    ResetMfa,
    /// Forgotten password: a new one under the same rule.
    SetPassword(String),
}

async fn change(state: &AppState, auth: &Auth, lang: Lang, user: &str, change: UserChange) -> Response {
    let Ok(id) = user.parse::<UserId>() else { return super::not_found(lang) };
    if id == auth.user.id {
        return show_users(state, auth, lang, vec![lang.t("users-error-self")]).await;
    }
    let mut u = match state.store.get_user(id).await {
        Ok(Some(u)) => u,
        Ok(None) => return super::not_found(lang),
        Err(e) => return server_error(lang, &e),
    };
    // The audit action (if the account changes) and whether the user's sessions end.
    let (action, end_sessions) = match change {
        UserChange::Disable => {
            u.disabled = true;
            (Some("user.disable"), true)
        }
        UserChange::Enable => {
            u.disabled = false;
            u.failed_logins = 0;
            u.locked_until = None;
            (Some("user.enable"), false)
        }
        UserChange::RevokeSessions => (None, true),
        UserChange::ResetMfa => {
            u.totp_secret = None;
            u.totp_last_step = None;
            (Some("user.mfa_reset"), true)
        }
        UserChange::SetPassword(password) => {
            if let Err(p) = mamori_domain::auth::check_password(&password, &u.login) {
                return show_users(state, auth, lang, vec![lang.t(&format!("password-problem-{}", p.code()))]).await;
            }
            let Ok(hash) = crate::security::hash_password(&password) else {
                return server_error(lang, &"hashing failed");
            };
            u.password_hash = hash;
            u.password_changed_at = mamori_domain::time_fmt::now();
            u.failed_logins = 0;
            u.locked_until = None;
            (Some("user.password_reset"), true)
        }
    };
    let actor = format!("user:{}", auth.user.id);
    let result = async {
        if let Some(action) = action {
            let draft =
                AuditDraft::new(&actor, action).object("user", id).details(serde_json::json!({"login": u.login}));
            state.store.update_user(&u, &draft).await?;
        }
        if end_sessions {
            state.store.revoke_sessions(id, &actor).await?;
        }
        Ok::<(), mamori_store::StoreError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/users").into_response(),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn user_disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Path(user): Path<String>,
) -> Response {
    change(&state, &auth, lang_from_headers(&headers), &user, UserChange::Disable).await
}

pub async fn user_enable(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Path(user): Path<String>,
) -> Response {
    change(&state, &auth, lang_from_headers(&headers), &user, UserChange::Enable).await
}

pub async fn user_revoke_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Path(user): Path<String>,
) -> Response {
    change(&state, &auth, lang_from_headers(&headers), &user, UserChange::RevokeSessions).await
}

pub async fn user_reset_mfa(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Path(user): Path<String>,
) -> Response {
    change(&state, &auth, lang_from_headers(&headers), &user, UserChange::ResetMfa).await
}

pub async fn user_set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Path(user): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let password = f.get("password").cloned().unwrap_or_default();
    change(&state, &auth, lang_from_headers(&headers), &user, UserChange::SetPassword(password)).await
}
