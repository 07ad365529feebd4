//! The dashboard: which institution to look at, and one institution at a glance.

use super::{Page, lang_from_headers, render, server_error};
use crate::AppState;
use crate::session::Auth;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::finding::Severity;
use mamori_domain::record::RecordKind;
use mamori_store::{JobQuery, JobScope, Scope, StoreExt};

#[derive(Template)]
#[template(path = "choose.html")]
struct Choose {
    page: Page,
}

pub async fn choose(State(state): State<AppState>, headers: HeaderMap, Extension(auth): Extension<Auth>) -> Response {
    let lang = lang_from_headers(&headers);
    let page = Page::for_user(&state, &auth, lang, "dashboard-title", None).await;
    if let [only] = page.nav.institutions.as_slice() {
        return Redirect::to(&format!("/i/{}", only.id)).into_response();
    }
    render(&Choose { page })
}

pub struct Count {
    pub label: String,
    pub value: u64,
}

pub struct JobLine {
    pub kind: String,
    pub status: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    page: Page,
    institution: String,
    demo: bool,
    ledgers: Vec<Count>,
    findings: Vec<Count>,
    open_findings: u64,
    jobs: Vec<JobLine>,
    audit_entries: u64,
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let result: Result<Dashboard, mamori_store::StoreError> = async {
        let inst = state.store.institution(&scope).await?;
        let mut ledgers = Vec::new();
        for kind in [
            RecordKind::Assets,
            RecordKind::Software,
            RecordKind::Staff,
            RecordKind::Accounts,
            RecordKind::Vendors,
            RecordKind::RemoteMaintenance,
        ] {
            ledgers.push(Count {
                label: lang.t(&format!("ledger-{}", kind.as_str())),
                value: state.store.count_rows(&scope, kind).await?,
            });
        }
        let counts = state.store.finding_counts(&scope).await?;
        let open_of = |sev: Option<Severity>| -> u64 {
            counts.iter().filter(|c| c.status.is_open() && sev.is_none_or(|s| c.severity == s)).map(|c| c.count).sum()
        };
        let findings = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low]
            .into_iter()
            .map(|s| Count { label: lang.t(&format!("severity-{}", s.as_str())), value: open_of(Some(s)) })
            .collect();
        let jobs = state
            .store
            .list_jobs(&JobQuery { scope: JobScope::Institution(scope.institution()), status: None, limit: 5 })
            .await?
            .into_iter()
            .map(|j| JobLine {
                kind: super::jobs::kind_label(lang, &j.kind),
                status: lang.t(&format!("job-status-{}", j.status.as_str())),
                created: super::jobs::when(j.created_at),
            })
            .collect();
        let audit_entries = state.store.audit_head_seq(scope.chain()).await?;
        Ok(Dashboard {
            page: Page::for_user(&state, &auth, lang, "dashboard-title", Some(scope.institution())).await,
            institution: inst.name,
            demo: inst.demo,
            ledgers,
            open_findings: open_of(None),
            findings,
            jobs,
            audit_entries,
        })
    }
    .await;
    match result {
        Ok(d) => render(&d),
        Err(e) => server_error(lang, &e),
    }
}
