//! Network scans and findings in the browser: run a scan of a segment of the network ledger
//! (as a job with live progress on the jobs page), read what was found (hosts, open ports,
//! identified services with product and version, whether the device is in the 機器台帳),
//! export it as nmap XML or JSON, import nmap XML, and work through the findings.

use super::{Page, field, lang_from_headers, not_found, render, server_error};
use crate::AppState;
use crate::scan_io::{self, ScanRequest};
use crate::session::Auth;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::audit::AuditDraft;
use mamori_domain::auth::Permission;
use mamori_domain::finding::FindingStatus;
use mamori_domain::job::JobStatus;
use mamori_domain::record::RecordKind;
use mamori_domain::{EvidenceId, FindingId};
use mamori_i18n::Lang;
use mamori_store::{FindingQuery, RecordQuery, Scope};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.id)
}

pub struct ScanLine {
    pub id: String,
    pub at: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "scans.html")]
struct ScansPage {
    page: Page,
    inst: String,
    scans: Vec<ScanLine>,
    segments: Vec<String>,
    can_run: bool,
    schedule: Option<String>,
    window: String,
    exclusions: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ErrorQuery {
    #[serde(default)]
    error: String,
}

async fn scans_page(state: &AppState, auth: &Auth, scope: &Scope, lang: Lang, error: Option<String>) -> Response {
    let result: Result<_, mamori_store::StoreError> = async {
        let scans = scan_io::scans(&*state.store, scope, 100).await?;
        let segments = state.store.list_rows(scope, RecordKind::Segments, &RecordQuery::default()).await?;
        let schedule = scan_io::schedule(&*state.store, scope).await?;
        let rules = scan_io::rules(&*state.store, scope).await?;
        Ok((scans, segments, schedule, rules))
    }
    .await;
    let (scans, segments, schedule, rules) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let failed = error.is_some();
    let mut res = render(&ScansPage {
        page: Page::for_user(state, auth, lang, "scans-web-title", Some(scope.institution())).await,
        inst: scope.institution().to_string(),
        scans: scans
            .iter()
            .map(|e| ScanLine {
                id: e.id.to_string(),
                at: super::jobs::when(e.observed_at),
                summary: e.summary.clone(),
            })
            .collect(),
        segments: segments.iter().filter_map(|r| r.text("name").ok().flatten()).collect(),
        can_run: auth.can(scope.institution(), Permission::RunJobs),
        schedule: schedule.map(|s| {
            let profile = mamori_scan::Profile::parse(&s.profile).map_or(s.profile.clone(), |p| p.name_ja().to_owned());
            lang.ta(
                "scans-web-schedule-current",
                &[
                    ("day", i64::from(s.day).into()),
                    ("hour", i64::from(s.hour).into()),
                    ("segment", s.segment.as_str().into()),
                    ("profile", profile.as_str().into()),
                ],
            )
        }),
        window: rules.window.unwrap_or_default(),
        exclusions: rules.exclusions.join(", "),
        error,
    });
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Query(q): Query<ErrorQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let error = (!q.error.is_empty()).then(|| lang.try_t(&format!("ledger-web-error-{}", q.error)).unwrap_or_default());
    scans_page(&state, &auth, &scope, lang, error).await
}

/// Starts a scan; a short one shows its result, a longer one goes on in the jobs list.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let profile = match mamori_scan::Profile::parse(field(&f, "profile")) {
        Ok(p) => p,
        Err(e) => {
            let msg = scan_io::error_text(lang, &scan_io::ScanIoError::from(e));
            return scans_page(&state, &auth, &scope, lang, Some(msg)).await;
        }
    };
    let segment = Some(field(&f, "segment").to_owned()).filter(|s| !s.is_empty());
    let targets: Vec<String> = field(&f, "targets")
        .split([',', ' ', '\n', '、'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let req = ScanRequest { profile, segment, targets };
    let run = match scan_io::run_scan(&state.runner, state.store.clone(), scope, req, &actor(&auth)).await {
        Ok(r) => r,
        Err(e) => return scans_page(&state, &auth, &scope, lang, Some(scan_io::error_text(lang, &e))).await,
    };
    let job = run.handle.id;
    let inst = scope.institution();
    match tokio::time::timeout(Duration::from_secs(20), run.handle.wait()).await {
        Ok(JobStatus::Succeeded) => {
            let scan = state
                .store
                .get_job(job)
                .await
                .ok()
                .flatten()
                .and_then(|j| j.result)
                .and_then(|r| r["scan"].as_str().map(str::to_owned));
            match scan {
                Some(id) => Redirect::to(&format!("/i/{inst}/scans/{id}")).into_response(),
                None => Redirect::to(&format!("/i/{inst}/scans")).into_response(),
            }
        }
        _ => Redirect::to(&format!("/i/{inst}/jobs")).into_response(),
    }
}

pub struct PortLine {
    pub port: String,
    pub service: String,
    pub product: String,
    pub extra: String,
}

pub struct HostLine {
    pub addr: String,
    pub mac: String,
    pub asset: Option<(String, String)>,
    pub ports: Vec<PortLine>,
    pub probes: u32,
    pub note: String,
}

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanPage {
    page: Page,
    base: String,
    summary: String,
    at: String,
    hosts: Vec<HostLine>,
    probes: u64,
    cancelled: bool,
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let Ok(id) = id.parse::<uuid::Uuid>() else { return not_found(lang) };
    let (evidence, report) = match scan_io::report(&*state.store, &scope, Some(EvidenceId(id))).await {
        Ok(r) => r,
        Err(scan_io::ScanIoError::NoScan(_)) => return not_found(lang),
        Err(e) => return server_error(lang, &e),
    };
    let net = match scan_io::network(&*state.store, &scope).await {
        Ok(n) => n,
        Err(e) => return server_error(lang, &e),
    };
    let inst = scope.institution().to_string();
    let hosts = report
        .hosts
        .iter()
        .filter(|h| h.up)
        .map(|h| HostLine {
            addr: h.addr.to_string(),
            mac: h.mac.clone().unwrap_or_default(),
            asset: net.assets.get(&h.addr).map(|(id, name)| (format!("/i/{inst}/ledgers/assets/{id}"), name.clone())),
            ports: h
                .ports
                .iter()
                .filter(|p| p.state == mamori_scan::PortState::Open)
                .map(|p| {
                    let s = p.service.as_ref();
                    PortLine {
                        port: format!("{}/{}", p.port, if p.proto == mamori_scan::Proto::Udp { "udp" } else { "tcp" }),
                        service: s.map(|s| s.name.clone()).unwrap_or_default(),
                        product: s
                            .map(|s| {
                                [s.product.clone(), s.version.clone()]
                                    .into_iter()
                                    .flatten()
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .unwrap_or_default(),
                        extra: s.and_then(|s| s.cpe.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
            probes: h.probes_sent,
            note: if h.discovery_only { lang.t("scans-web-discovery-only") } else { String::new() },
        })
        .collect();
    render(&ScanPage {
        page: Page::for_user(&state, &auth, lang, "scans-web-scan-title", Some(scope.institution())).await,
        base: format!("/i/{inst}/scans/{}", evidence.id),
        summary: evidence.summary.clone(),
        at: super::jobs::when(evidence.observed_at),
        hosts,
        probes: report.probes_total(),
        cancelled: report.cancelled,
    })
}

pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<super::ledgers::FormatQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let Ok(id) = id.parse::<uuid::Uuid>() else { return not_found(lang) };
    let (evidence, report) = match scan_io::report(&*state.store, &scope, Some(EvidenceId(id))).await {
        Ok(r) => r,
        Err(scan_io::ScanIoError::NoScan(_)) => return not_found(lang),
        Err(e) => return server_error(lang, &e),
    };
    let (bytes, media, ext) = if q.format == "json" {
        (serde_json::to_vec_pretty(&scan_io::redacted(&report)).unwrap_or_default(), "application/json", "json")
    } else {
        (mamori_scan::nmap_xml::export(&report).into_bytes(), "application/xml", "xml")
    };
    let draft = AuditDraft::new(&actor(&auth), "scan.export")
        .object("evidence", evidence.id)
        .details(serde_json::json!({"format": ext, "via": "web"}));
    let name = format!("mamori-scan-{}.{ext}", evidence.id);
    super::ledgers::audited_download(&state, &scope, lang, draft, (bytes, media, &name)).await
}

/// An nmap XML file kept as a scan (multipart, by htmx).
pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    multipart: Multipart,
) -> Response {
    let lang = lang_from_headers(&headers);
    let back = format!("/i/{}/scans", scope.institution());
    let (name, bytes) = match super::ledger_import::read_upload(multipart, 64 * 1024 * 1024).await {
        Ok(Some(f)) if !f.bytes.is_empty() => (f.name, f.bytes),
        Ok(_) => return super::ledgers::hx_redirect(&headers, &format!("{back}?error=upload-empty")),
        Err(code) => return super::ledgers::hx_redirect(&headers, &format!("{back}?error={code}")),
    };
    let text = String::from_utf8_lossy(&bytes);
    match scan_io::import_nmap(&*state.store, &scope, &text, &name, &actor(&auth)).await {
        Ok((id, _, _)) => super::ledgers::hx_redirect(&headers, &format!("{back}/{id}")),
        Err(e) => super::for_htmx(
            &headers,
            scans_page(&state, &auth, &scope, lang, Some(scan_io::error_text(lang, &e))).await,
        ),
    }
}

// ---- findings ---------------------------------------------------------------------------

pub struct FindingLine {
    pub id: String,
    pub severity: String,
    pub severity_class: &'static str,
    pub status: String,
    pub title: String,
    pub detail: String,
    pub fix: String,
    pub last_seen: String,
    pub assets: Vec<(String, String)>,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    page: Page,
    inst: String,
    findings: Vec<FindingLine>,
    statuses: Vec<(&'static str, String)>,
    can_edit: bool,
    error: Option<String>,
}

pub async fn findings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Query(q): Query<ErrorQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let result: Result<_, mamori_store::StoreError> = async {
        let list = state.store.list_findings(&scope, &FindingQuery::default()).await?;
        let assets: HashMap<String, String> = state
            .store
            .list_rows(&scope, RecordKind::Assets, &RecordQuery::default())
            .await?
            .into_iter()
            .map(|r| (r.id.to_string(), r.text("name").ok().flatten().unwrap_or_default()))
            .collect();
        Ok((list, assets))
    }
    .await;
    let (list, assets) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let inst = scope.institution().to_string();
    let mut lines: Vec<FindingLine> = list
        .iter()
        .map(|f| FindingLine {
            id: f.id.to_string(),
            severity: lang.t(&format!("finding-severity-{}", f.severity.as_str())),
            severity_class: match f.severity.as_str() {
                "critical" | "high" => "ans-no",
                _ => "ans-none",
            },
            status: lang.t(&format!("finding-status-{}", f.status.as_str())),
            title: f.title.clone(),
            detail: f.detail.clone(),
            fix: f.remediation.clone(),
            last_seen: super::jobs::when(f.last_seen),
            assets: f
                .objects
                .iter()
                .filter(|o| o.kind == RecordKind::Assets)
                .map(|o| {
                    let id = o.id.to_string();
                    (format!("/i/{inst}/ledgers/assets/{id}"), assets.get(&id).cloned().unwrap_or(id))
                })
                .collect(),
            open: f.status.is_open(),
        })
        .collect();
    // Open ones first, then by severity (as listed: the store orders by severity).
    lines.sort_by_key(|l| !l.open);
    render(&FindingsPage {
        page: Page::for_user(&state, &auth, lang, "findings-web-title", Some(scope.institution())).await,
        inst,
        findings: lines,
        statuses: FindingStatus::ALL
            .iter()
            .map(|s| (s.as_str(), lang.t(&format!("finding-status-{}", s.as_str()))))
            .collect(),
        can_edit: auth.can(scope.institution(), Permission::EditData),
        error: lang.try_t(&format!("findings-web-error-{}", q.error)).filter(|_| !q.error.is_empty()),
    })
}

pub async fn set_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let back = format!("/i/{}/findings", scope.institution());
    let (Ok(id), Some(to)) = (id.parse::<uuid::Uuid>(), FindingStatus::parse(field(&f, "status"))) else {
        return not_found(lang);
    };
    let reason = Some(field(&f, "reason")).filter(|r| !r.is_empty());
    match state.store.set_finding_status(&scope, FindingId(id), to, &actor(&auth), reason).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(mamori_store::StoreError::NotFound { .. }) => not_found(lang),
        Err(e @ mamori_store::StoreError::Finding(_)) => {
            let code = if to.needs_reason() && reason.is_none() { "reason" } else { "status" };
            tracing::info!(error = %e, "finding status not changed");
            Redirect::to(&format!("{back}?error={code}")).into_response()
        }
        Err(e) => server_error(lang, &e),
    }
}

/// Sets or removes the monthly scan.
pub async fn set_schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let s = if field(&f, "action") == "remove" {
        None
    } else {
        let num = |k: &str| field(&f, k).parse::<u8>().unwrap_or(u8::MAX);
        let profile = mamori_scan::Profile::parse(field(&f, "profile")).map(|p| p.id().to_owned()).unwrap_or_default();
        Some(scan_io::Schedule {
            profile,
            segment: field(&f, "segment").to_owned(),
            day: num("day"),
            hour: num("hour"),
            last_run: None,
        })
    };
    match scan_io::set_schedule(&*state.store, &scope, s.as_ref(), &actor(&auth)).await {
        Ok(()) => Redirect::to(&format!("/i/{}/scans", scope.institution())).into_response(),
        Err(e) => scans_page(&state, &auth, &scope, lang, Some(scan_io::error_text(lang, &e))).await,
    }
}

/// When scans may run and what they never touch.
pub async fn set_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let rules = scan_io::ScanRules {
        window: Some(field(&f, "window").to_owned()).filter(|w| !w.is_empty()),
        exclusions: field(&f, "exclusions")
            .split([',', ' ', '\n', '、'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    match scan_io::set_rules(&*state.store, &scope, &rules, &actor(&auth)).await {
        Ok(()) => Redirect::to(&format!("/i/{}/scans", scope.institution())).into_response(),
        Err(e) => scans_page(&state, &auth, &scope, lang, Some(scan_io::error_text(lang, &e))).await,
    }
}
