//! Users and roles of one institution (システム管理者 of that institution, or the installation
//! administrator). New users get a password here and enrol their authenticator at first login.

use super::{Page, field, lang_from_headers, render, server_error};
use crate::AppState;
use crate::security::hash_password;
use crate::session::Auth;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::auth::{Membership, Role, User, check_password, normalize_login};
use mamori_domain::{UserId, time_fmt};
use mamori_i18n::Lang;
use mamori_store::{Scope, StoreError};
use std::collections::HashMap;

pub struct Member {
    pub id: String,
    pub login: String,
    pub name: String,
    pub role: String,
    pub role_label: String,
    pub disabled: bool,
    pub mfa: bool,
    pub me: bool,
}

pub struct RoleOption {
    pub value: &'static str,
    pub label: String,
}

pub fn role_options(lang: Lang) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .map(|r| RoleOption { value: r.as_str(), label: lang.t(&format!("role-{}", r.as_str())) })
        .collect()
}

#[derive(Template)]
#[template(path = "users.html")]
struct Users {
    page: Page,
    inst: String,
    members: Vec<Member>,
    roles: Vec<RoleOption>,
    errors: Vec<String>,
    notice: Option<String>,
}

async fn show(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    errors: Vec<String>,
    notice: Option<String>,
) -> Response {
    match state.store.institution_users(scope).await {
        Ok(list) => {
            let members = list
                .into_iter()
                .map(|(u, r)| Member {
                    id: u.id.to_string(),
                    login: u.login.clone(),
                    name: u.display_name.clone(),
                    role: r.as_str().to_owned(),
                    role_label: lang.t(&format!("role-{}", r.as_str())),
                    disabled: u.disabled,
                    mfa: u.mfa_enrolled(),
                    me: u.id == auth.user.id,
                })
                .collect();
            render(&Users {
                page: Page::for_user(state, auth, lang, "users-title", Some(scope.institution())).await,
                inst: scope.institution().to_string(),
                members,
                roles: role_options(lang),
                errors,
                notice,
            })
        }
        Err(e) => server_error(lang, &e),
    }
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
) -> Response {
    show(&state, &auth, &scope, lang_from_headers(&headers), vec![], None).await
}

/// Validates the new-user fields of a form and builds the user (no MFA yet).
pub fn new_user(f: &HashMap<String, String>, lang: Lang) -> Result<User, Vec<String>> {
    let mut errors = Vec::new();
    let login = normalize_login(field(f, "login"));
    if login.is_err() {
        errors.push(lang.t("web-error-login-format"));
    }
    let name = field(f, "display_name");
    if name.is_empty() {
        errors.push(lang.t("web-error-display-name"));
    }
    let password = f.get("password").map(String::as_str).unwrap_or("");
    if let Err(p) = check_password(password, login.as_deref().unwrap_or("")) {
        errors.push(lang.t(&format!("password-problem-{}", p.code())));
    }
    let (Ok(login), true) = (login, errors.is_empty()) else { return Err(errors) };
    let hash = hash_password(password).map_err(|e| vec![e.to_string()])?;
    let now = time_fmt::now();
    Ok(User {
        id: UserId::new(),
        login,
        display_name: name.to_owned(),
        password_hash: hash,
        totp_secret: None,
        totp_last_step: None,
        installation_admin: false,
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        password_changed_at: now,
        last_login_at: None,
        created_at: now,
    })
}

/// Adds an existing user (by login) or creates a new one, with a role.
pub async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let actor = format!("user:{}", auth.user.id);
    let Some(role) = Role::parse(field(&f, "role")) else {
        return show(&state, &auth, &scope, lang, vec![lang.t("users-error-role")], None).await;
    };
    let result = if field(&f, "mode") == "existing" {
        let login = normalize_login(field(&f, "login")).unwrap_or_default();
        match state.store.find_user_by_login(&login).await {
            Ok(Some(u)) => state
                .store
                .set_membership(&scope, u.id, Some(role), &actor)
                .await
                .map_err(|e| vec![store_text(lang, &e)]),
            Ok(None) => Err(vec![lang.t("users-error-unknown-login")]),
            Err(e) => return server_error(lang, &e),
        }
    } else {
        match new_user(&f, lang) {
            Ok(u) => {
                let m = Membership { user_id: u.id, institution_id: scope.institution(), role };
                state.store.create_user(&u, &[m], &actor).await.map_err(|e| vec![store_text(lang, &e)])
            }
            Err(errors) => Err(errors),
        }
    };
    match result {
        Ok(()) => show(&state, &auth, &scope, lang, vec![], Some(lang.t("users-saved"))).await,
        Err(errors) => show(&state, &auth, &scope, lang, errors, None).await,
    }
}

pub async fn set_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, user)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let Ok(user) = user.parse::<UserId>() else { return super::not_found(lang) };
    if user == auth.user.id {
        // Nobody removes their own administration by accident.
        return show(&state, &auth, &scope, lang, vec![lang.t("users-error-self")], None).await;
    }
    let role = match field(&f, "role") {
        "remove" => None,
        r => match Role::parse(r) {
            Some(r) => Some(r),
            None => return show(&state, &auth, &scope, lang, vec![lang.t("users-error-role")], None).await,
        },
    };
    match state.store.set_membership(&scope, user, role, &format!("user:{}", auth.user.id)).await {
        Ok(()) => Redirect::to(&format!("/i/{}/users", scope.institution())).into_response(),
        Err(e) => show(&state, &auth, &scope, lang, vec![store_text(lang, &e)], None).await,
    }
}

pub fn store_text(lang: Lang, e: &StoreError) -> String {
    match e {
        StoreError::Conflict { .. } => lang.t("users-error-login-taken"),
        StoreError::NotFound { .. } => lang.t("users-error-unknown-login"),
        other => {
            tracing::error!(error = %other, "user change failed");
            lang.t("web-error-body")
        }
    }
}
