//! The web UI's pages (askama templates + htmx). Handlers read from the store and render;
//! rules live in the domain and the store, access checks in `routes`.

pub mod admin;
pub mod audit;
pub mod checklist;
pub mod dashboard;
pub mod editions;
pub mod jobs;
pub mod ledger_import;
pub mod ledgers;
pub mod login;
pub mod profile;
pub mod scans;
pub mod setup;
pub mod users;

use crate::AppState;
use crate::session::{Auth, pre_cookie_name, read_cookie, set_cookie};
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mamori_domain::InstitutionId;
use mamori_domain::auth::Permission;
use mamori_i18n::Lang;

/// Message lookup for templates: `{{ t.g("key") }}`.
#[derive(Clone, Copy, Debug)]
pub struct T(pub Lang);

impl T {
    pub fn g(&self, key: &str) -> String {
        self.0.t(key)
    }
    pub fn tag(&self) -> &'static str {
        self.0.tag()
    }
}

/// One entry of the institution switcher.
#[derive(Clone, Debug)]
pub struct NavInstitution {
    pub id: String,
    pub name: String,
    pub current: bool,
}

/// What the layout shows around every page.
#[derive(Clone, Debug, Default)]
pub struct Nav {
    pub user: Option<String>,
    pub installation_admin: bool,
    pub institutions: Vec<NavInstitution>,
    /// The institution being looked at, and what the user may do there.
    pub inst: Option<String>,
    pub can_jobs: bool,
    pub can_data: bool,
    pub can_audit: bool,
    pub can_users: bool,
    pub can_vendor_forms: bool,
    /// The institution looked at is demo data: every page says so.
    pub demo: bool,
}

#[derive(Clone, Debug)]
pub struct Page {
    pub t: T,
    pub csrf: String,
    pub nav: Nav,
    pub title: String,
}

impl Page {
    /// A page for a logged-in user, optionally inside one institution.
    pub async fn for_user(
        state: &AppState,
        auth: &Auth,
        lang: Lang,
        title_key: &str,
        inst: Option<InstitutionId>,
    ) -> Page {
        let all = state.store.list_institutions().await.unwrap_or_default();
        let demo = all.iter().any(|i| Some(i.id) == inst && i.demo);
        let institutions = all
            .into_iter()
            .filter(|i| auth.role_in(i.id).is_some())
            .map(|i| NavInstitution { id: i.id.to_string(), name: i.name, current: Some(i.id) == inst })
            .collect();
        let nav = Nav {
            user: Some(auth.user.display_name.clone()),
            installation_admin: auth.user.installation_admin,
            institutions,
            inst: inst.map(|i| i.to_string()),
            can_jobs: inst.is_some_and(|i| auth.can(i, Permission::ViewJobs)),
            can_data: inst.is_some_and(|i| auth.can(i, Permission::ViewData)),
            can_audit: inst.is_some_and(|i| auth.can(i, Permission::ViewAudit)),
            can_users: inst.is_some_and(|i| auth.can(i, Permission::ManageUsers)),
            can_vendor_forms: inst.is_some_and(|i| auth.can(i, Permission::VendorForms)),
            demo,
        };
        Page { t: T(lang), csrf: auth.session.csrf_token.clone(), nav, title: lang.t(title_key) }
    }

    /// A page before login, carrying the pre-session CSRF token.
    pub fn anonymous(lang: Lang, title_key: &str, csrf: &str) -> Page {
        Page { t: T(lang), csrf: csrf.to_owned(), nav: Nav::default(), title: lang.t(title_key) }
    }
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The UI language: the `mamori_lang` cookie if set, else the browser's preference.
pub fn lang_from_headers(headers: &HeaderMap) -> Lang {
    read_cookie(headers, "mamori_lang")
        .and_then(|v| Lang::from_tag(&v))
        .unwrap_or_else(|| crate::status::browser_lang(headers))
}

pub fn lang_of(req: &Request) -> Lang {
    lang_from_headers(req.headers())
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    page: Page,
    body: String,
    link: String,
    link_label: String,
}

fn message(lang: Lang, status: StatusCode, heading: &str, body: &str) -> Response {
    let t = MessagePage {
        page: Page::anonymous(lang, heading, ""),
        body: lang.t(body),
        link: "/".into(),
        link_label: lang.t("web-back-to-top"),
    };
    let mut res = render(&t);
    *res.status_mut() = status;
    res
}

/// A message inside the logged-in layout (e.g. why an export could not be made).
pub async fn message_page(
    state: &AppState,
    auth: &Auth,
    lang: Lang,
    inst: Option<InstitutionId>,
    body: &str,
) -> Response {
    let t = MessagePage {
        page: Page::for_user(state, auth, lang, "web-error-title", inst).await,
        body: body.to_owned(),
        link: inst.map_or_else(|| "/".to_owned(), |i| format!("/i/{i}")),
        link_label: lang.t("web-back-to-top"),
    };
    let mut res = render(&t);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

/// htmx swaps only successful responses: a page that explains a refused upload is sent to
/// an htmx request as a 200 (other clients keep the 4xx status).
pub fn for_htmx(headers: &HeaderMap, mut res: Response) -> Response {
    if headers.contains_key("hx-request") && res.status().is_client_error() {
        *res.status_mut() = StatusCode::OK;
    }
    res
}

pub fn forbidden(lang: Lang) -> Response {
    message(lang, StatusCode::FORBIDDEN, "web-forbidden-title", "web-forbidden-body")
}

pub fn not_found(lang: Lang) -> Response {
    message(lang, StatusCode::NOT_FOUND, "web-not-found-title", "web-not-found-body")
}

pub fn csrf_failed(lang: Lang) -> Response {
    message(lang, StatusCode::FORBIDDEN, "web-csrf-title", "web-csrf-body")
}

pub fn server_error(lang: Lang, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "request failed");
    message(lang, StatusCode::INTERNAL_SERVER_ERROR, "web-error-title", "web-error-body")
}

/// The pre-session CSRF token, and the cookie to set when it is new.
pub fn pre_session_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let name = pre_cookie_name(state.secure_cookies);
    match read_cookie(headers, name) {
        Some(t) if t.len() >= 32 => (t, None),
        _ => {
            let t = crate::security::random_token();
            let c = set_cookie(name, &t, state.secure_cookies);
            (t, Some(c))
        }
    }
}

pub fn with_cookie(mut res: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `/`: where a visitor belongs.
pub async fn index(State(state): State<AppState>, req: Request) -> Response {
    if req.extensions().get::<Auth>().is_some() {
        return Redirect::to("/dashboard").into_response();
    }
    match crate::setup_pending(&state).await {
        Ok(true) => Redirect::to("/setup").into_response(),
        Ok(false) => Redirect::to("/login").into_response(),
        Err(e) => server_error(lang_of(&req), &e),
    }
}

const CSS: &str = include_str!("../../static/mamori.css");
const HTMX: &str = include_str!("../../static/vendor/htmx-2.0.11.min.js");

/// Files compiled into the binary: no CDN, nothing fetched at run time.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ty) = match file.as_str() {
        "mamori.css" => (CSS, "text/css; charset=utf-8"),
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, ty), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// Switches the UI language (a cookie; the server keeps nothing) and goes back to the page
/// the link was on, when that page is on this site.
pub async fn set_lang(State(state): State<AppState>, Path(lang): Path<String>, headers: HeaderMap) -> Response {
    let Some(l) = Lang::from_tag(&lang) else { return not_found(lang_from_headers(&headers)) };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.split_once('/'))
        .filter(|(host, _)| headers.get(header::HOST).and_then(|h| h.to_str().ok()) == Some(*host))
        .map(|(_, path)| format!("/{path}"))
        .filter(|p| !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie("mamori_lang", l.tag(), state.secure_cookies));
    res
}

/// Reads `Form` fields leniently: a missing field is empty.
pub fn field<'a>(form: &'a std::collections::HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("").trim()
}
