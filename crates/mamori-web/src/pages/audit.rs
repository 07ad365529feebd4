//! The audit log in the browser: list with filters, and verification of the hash chain as a
//! job (so it shows in the jobs list and can be cancelled on a very large log).

use super::{Page, lang_from_headers, render, server_error};
use crate::AppState;
use crate::session::Auth;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use mamori_domain::audit::{AuditEvent, Chain, ChainBreak};
use mamori_domain::job::{Job, JobStatus};
use mamori_i18n::{Arg, Lang};
use mamori_jobs::JobError;
use mamori_store::{ChainReport, Scope, StoreExt};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
}

pub struct Line {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub details: String,
}

pub struct Verdict {
    pub ok: bool,
    pub lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Page,
    heading: String,
    verify_url: String,
    can_verify: bool,
    filter_action: String,
    filter_actor: String,
    lines: Vec<Line>,
    shown_of: String,
    verdict: Option<Verdict>,
}

/// How many of the newest entries the page searches.
const WINDOW: u32 = 2_000;

async fn lines(state: &AppState, chain: Chain, f: &Filter) -> Result<(Vec<Line>, u64), mamori_store::StoreError> {
    // Show people by login name; other actors (cli:…, token:…, system) as recorded.
    let names: std::collections::HashMap<String, String> =
        state.store.list_users().await?.into_iter().map(|u| (format!("user:{}", u.id), u.login)).collect();
    let head = state.store.audit_head_seq(chain).await?;
    let events = state.store.latest_audit_events(chain, WINDOW).await?;
    let (action, actor) = (f.action.trim(), f.actor.trim());
    let out = events
        .iter()
        .rev()
        .filter(|e| action.is_empty() || e.action.starts_with(action))
        .filter(|e| actor.is_empty() || e.actor.contains(actor))
        .take(200)
        .map(|e| {
            let mut l = line(e);
            if let Some(login) = names.get(&e.actor) {
                l.actor = login.clone();
            }
            l
        })
        .collect();
    Ok((out, head))
}

fn line(e: &AuditEvent) -> Line {
    Line {
        seq: e.seq,
        at: super::jobs::when(e.at),
        actor: e.actor.clone(),
        action: e.action.clone(),
        object: match (&e.object_kind, &e.object_id) {
            (Some(k), Some(i)) => format!("{k}:{i}"),
            _ => String::new(),
        },
        details: if e.details == "{}" { String::new() } else { e.details.chars().take(300).collect() },
    }
}

pub fn break_text(lang: Lang, b: &ChainBreak) -> String {
    let n = |v: u64| Arg::from(v);
    match b {
        ChainBreak::Edited { seq } => lang.ta("audit-break-edited", &[("seq", n(*seq))]),
        ChainBreak::Gap { expected_after, found } => {
            lang.ta("audit-break-gap", &[("after", n(*expected_after)), ("found", n(*found))])
        }
        ChainBreak::Unlinked { seq } => lang.ta("audit-break-unlinked", &[("seq", n(*seq))]),
        ChainBreak::Truncated { last, head } => {
            lang.ta("audit-break-truncated", &[("last", n(*last)), ("head", n(*head))])
        }
        ChainBreak::HeadMismatch { seq } => lang.ta("audit-break-head-mismatch", &[("seq", n(*seq))]),
        ChainBreak::HeadMissing => lang.t("audit-break-head-missing"),
        ChainBreak::Emptied => lang.t("audit-break-emptied"),
    }
}

async fn page(
    state: &AppState,
    auth: &Auth,
    lang: Lang,
    chain: Chain,
    f: &Filter,
    verdict: Option<Verdict>,
) -> Response {
    let (inst, heading, verify_url, can_verify) = match chain {
        Chain::System => {
            (None, lang.t("audit-system-heading"), "/admin/audit/verify".to_owned(), auth.user.installation_admin)
        }
        Chain::Institution(i) => (
            Some(i),
            lang.t("audit-institution-heading"),
            format!("/i/{i}/audit/verify"),
            auth.can(i, mamori_domain::auth::Permission::VerifyAudit),
        ),
    };
    match lines(state, chain, f).await {
        Ok((lines, total)) => render(&AuditPage {
            page: Page::for_user(state, auth, lang, "audit-title", inst).await,
            heading,
            verify_url,
            can_verify,
            filter_action: f.action.clone(),
            filter_actor: f.actor.clone(),
            shown_of: lang.ta("audit-shown-of", &[("shown", Arg::from(lines.len())), ("total", Arg::from(total))]),
            lines,
            verdict,
        }),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn institution(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Query(f): Query<Filter>,
) -> Response {
    page(&state, &auth, lang_from_headers(&headers), scope.chain(), &f, None).await
}

pub async fn system(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Query(f): Query<Filter>,
) -> Response {
    page(&state, &auth, lang_from_headers(&headers), Chain::System, &f, None).await
}

/// Runs verification as a job and waits a little for it; a long one continues in the
/// jobs list.
async fn verify(state: &AppState, auth: &Auth, lang: Lang, chain: Option<Chain>) -> Result<Verdict, String> {
    let store = state.store.clone();
    let job = Job::new(
        chain.and_then(Chain::institution),
        "audit-verify",
        serde_json::json!({"chain": chain.map(|c| c.to_string())}),
        &format!("user:{}", auth.user.id),
    );
    let handle = state
        .runner
        .spawn(job, move |ctx| async move {
            let keep_going = |n: u64| {
                ctx.set_progress(n, None);
                !ctx.is_cancelled()
            };
            let reports: Vec<ChainReport> = match chain {
                Some(c) => vec![mamori_store::verify_chain(&*store, c, &keep_going).await?],
                None => mamori_store::verify_audit(&*store, &keep_going).await?,
            };
            ctx.check()?;
            serde_json::to_value(reports).map_err(|e| JobError::Failed(e.to_string()))
        })
        .await
        .map_err(|e| e.to_string())?;
    let id = handle.id;
    let status = tokio::time::timeout(Duration::from_secs(20), handle.wait())
        .await
        .map_err(|_| lang.t("audit-verify-running"))?;
    let job = state.store.get_job(id).await.map_err(|e| e.to_string())?.ok_or("job vanished")?;
    if status != JobStatus::Succeeded {
        return Err(lang.t(&format!("job-status-{}", status.as_str())));
    }
    let reports: Vec<ChainReport> =
        serde_json::from_value(job.result.unwrap_or_default()).map_err(|e| e.to_string())?;
    let names: std::collections::HashMap<String, String> = state
        .store
        .list_institutions()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|i| (i.id.to_string(), i.name))
        .collect();
    let ok = reports.iter().all(|r| r.broken.is_none());
    let lines = reports
        .iter()
        .map(|r| {
            let name = if r.chain == "system" {
                lang.t("audit-chain-system")
            } else {
                names.get(&r.chain).cloned().unwrap_or(r.chain.clone())
            };
            match &r.broken {
                None => lang.ta("audit-chain-ok", &[("chain", Arg::from(name)), ("count", Arg::from(r.checked))]),
                Some(b) => lang.ta(
                    "audit-chain-broken",
                    &[("chain", Arg::from(name)), ("problem", Arg::from(break_text(lang, b)))],
                ),
            }
        })
        .collect();
    Ok(Verdict { ok, lines })
}

pub async fn verify_institution(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let verdict = verify(&state, &auth, lang, Some(scope.chain()))
        .await
        .unwrap_or_else(|e| Verdict { ok: false, lines: vec![e] });
    page(&state, &auth, lang, scope.chain(), &Filter::default(), Some(verdict)).await
}

pub async fn verify_system(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let verdict = verify(&state, &auth, lang, None).await.unwrap_or_else(|e| Verdict { ok: false, lines: vec![e] });
    page(&state, &auth, lang, Chain::System, &Filter::default(), Some(verdict)).await
}
