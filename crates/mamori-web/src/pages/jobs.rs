//! Jobs of one institution with live progress (htmx refreshes the rows every 2 seconds).

use super::{Page, lang_from_headers, render, server_error};
use crate::AppState;
use crate::session::Auth;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::JobId;
use mamori_domain::auth::Permission;
use mamori_domain::job::Job;
use mamori_i18n::Lang;
use mamori_store::{JobQuery, JobScope, Scope};
use time::OffsetDateTime;

/// A job kind as people read it (`scan` → ネットワーク検査); unknown kinds as stored.
pub fn kind_label(lang: mamori_i18n::Lang, kind: &str) -> String {
    lang.try_t(&format!("job-kind-{kind}")).unwrap_or_else(|| kind.to_owned())
}

pub fn when(t: OffsetDateTime) -> String {
    // Japan Standard Time: the institutions mamori serves are in Japan.
    let jst = t.to_offset(time::UtcOffset::from_hms(9, 0, 0).expect("valid offset"));
    format!("{:04}-{:02}-{:02} {:02}:{:02}", jst.year(), u8::from(jst.month()), jst.day(), jst.hour(), jst.minute())
}

pub struct Row {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub running: bool,
    pub percent: Option<u32>,
    pub progress: String,
    pub created: String,
    pub by: String,
    pub error: String,
}

fn row(j: &Job, lang: Lang) -> Row {
    Row {
        id: j.id.to_string(),
        kind: kind_label(lang, &j.kind),
        status: lang.t(&format!("job-status-{}", j.status.as_str())),
        running: !j.status.is_finished(),
        percent: j.fraction().map(|f| (f * 100.0).round() as u32),
        progress: match j.progress_total {
            Some(t) => format!("{}/{}", j.progress_done, t),
            None => j.progress_done.to_string(),
        },
        created: when(j.created_at),
        by: j.created_by.clone(),
        error: j.error.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct Jobs {
    page: Page,
    inst: String,
    rows: Vec<Row>,
    can_cancel: bool,
}

#[derive(Template)]
#[template(path = "jobs_rows.html")]
struct JobRows {
    page: Page,
    inst: String,
    rows: Vec<Row>,
    can_cancel: bool,
}

async fn load(state: &AppState, scope: &Scope, lang: Lang) -> Result<Vec<Row>, mamori_store::StoreError> {
    let jobs = state
        .store
        .list_jobs(&JobQuery { scope: JobScope::Institution(scope.institution()), status: None, limit: 100 })
        .await?;
    Ok(jobs.iter().map(|j| row(j, lang)).collect())
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match load(&state, &scope, lang).await {
        Ok(rows) => render(&Jobs {
            page: Page::for_user(&state, &auth, lang, "jobs-title", Some(scope.institution())).await,
            inst: scope.institution().to_string(),
            rows,
            can_cancel: auth.can(scope.institution(), Permission::CancelJobs),
        }),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn rows(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match load(&state, &scope, lang).await {
        Ok(rows) => render(&JobRows {
            page: Page::anonymous(lang, "jobs-title", &auth.session.csrf_token),
            inst: scope.institution().to_string(),
            rows,
            can_cancel: auth.can(scope.institution(), Permission::CancelJobs),
        }),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, job)): Path<(String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let back = Redirect::to(&format!("/i/{}/jobs", scope.institution())).into_response();
    let Ok(id) = job.parse::<JobId>() else { return super::not_found(lang) };
    match state.store.get_job(id).await {
        // Another institution's job is "not found" here.
        Ok(Some(j)) if j.institution_id == Some(scope.institution()) => {
            match state.store.request_job_cancel(id, &format!("user:{}", auth.user.id)).await {
                Ok(_) | Err(mamori_store::StoreError::JobFinished { .. }) => back,
                Err(e) => server_error(lang, &e),
            }
        }
        Ok(_) => super::not_found(lang),
        Err(e) => server_error(lang, &e),
    }
}
