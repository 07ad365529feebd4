//! The MHLW checklist of one institution: the whole form with mamori's proposals and the
//! evidence behind them, a guided mode that takes a clinic manager through one item at a
//! time, answering (with overrides audited), documents and the designated 責任者 that the
//! rules read, and the official form as XLSX and PDF.

use super::{Page, lang_from_headers, not_found, render, server_error};
use crate::AppState;
use crate::checklist_io::{self, ChecklistIoError};
use crate::session::Auth;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_checklist::answer::Override;
use mamori_checklist::evaluate::{DocumentKind, EvidenceKind, Responsible};
use mamori_checklist::{Answer, AnswerValue, Edition, Evaluation, Item, ProposedValue};
use mamori_domain::audit::AuditDraft;
use mamori_domain::auth::Permission;
use mamori_domain::record::RecordKind;
use mamori_i18n::{Arg, Lang};
use mamori_store::{Attachment, ChecklistKey, MAX_ATTACHMENT_BYTES, RecordQuery, Scope};
use serde::Deserialize;
use std::collections::HashMap;

fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.id)
}

/// The edition and form a path names, or the page that says why not.
async fn open(state: &AppState, lang: Lang, fy: &str, form: &str) -> Result<(Edition, ChecklistKey), Response> {
    let fy: i32 = fy.parse().map_err(|_| not_found(lang))?;
    let edition = match checklist_io::edition_for(&*state.store, fy).await {
        Ok(e) => e,
        Err(ChecklistIoError::NoEdition { .. }) => return Err(not_found(lang)),
        Err(e) => return Err(server_error(lang, &e)),
    };
    // The institution's own forms only: a vendor form is answered per vendor.
    if edition.form(form).is_none_or(|f| f.respondent != mamori_checklist::Respondent::Institution) {
        return Err(not_found(lang));
    }
    Ok((edition, ChecklistKey { fiscal_year: fy, form: form.to_owned(), vendor: None }))
}

// ---- overview: /i/{inst}/checklist ------------------------------------------------------

/// The newest edition's own form of the institution.
pub async fn index(State(state): State<AppState>, headers: HeaderMap, Extension(scope): Extension<Scope>) -> Response {
    let lang = lang_from_headers(&headers);
    let result: Result<_, ChecklistIoError> = async {
        let fy = *checklist_io::fiscal_years(&*state.store)
            .await?
            .first()
            .ok_or(ChecklistIoError::NoEdition { fiscal_year: 0 })?;
        let edition = checklist_io::edition_for(&*state.store, fy).await?;
        let kind = state.store.institution(&scope).await?.kind;
        Ok((fy, checklist_io::own_form(kind, &edition)))
    }
    .await;
    match result {
        Ok((fy, form)) => Redirect::to(&format!("/i/{}/checklist/{fy}/{form}", scope.institution())).into_response(),
        Err(e) => server_error(lang, &e),
    }
}

// ---- the form ---------------------------------------------------------------------------

pub struct EvidenceLine {
    pub label: String,
    pub link: Option<String>,
}

pub struct Slot {
    /// Last year's answer, when this year's is not given yet (pre-selected in the guide).
    pub previous: String,
    pub previous_value: &'static str,
    pub class: String,
    pub class_label: String,
    pub answer: String,
    pub answer_class: &'static str,
    pub confirmed: String,
    pub target: String,
    pub overridden: bool,
    pub proposal: String,
    pub proposal_class: &'static str,
    pub reasons: Vec<String>,
    pub evidence: Vec<EvidenceLine>,
}

pub struct ItemRow {
    pub id: String,
    pub text: String,
    pub caveat: Option<&'static str>,
    pub slots: Vec<Slot>,
}

pub struct SectionView {
    pub title: String,
    pub items: Vec<ItemRow>,
}

pub struct YearLink {
    pub fy: i32,
    pub label: String,
    pub current: bool,
}

pub struct FormLink {
    pub id: String,
    pub title: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "checklist.html")]
struct ChecklistPage {
    page: Page,
    inst: String,
    base: String,
    fy: i32,
    form_id: String,
    heading: String,
    years: Vec<YearLink>,
    forms: Vec<FormLink>,
    progress_line: String,
    deadlines: Vec<String>,
    unconfirmed: usize,
    sections: Vec<SectionView>,
    can_edit: bool,
    /// The institution's own form (not a vendor's).
    own_form: bool,
    /// Seen by the institution (not by the vendor answering it).
    institution_side: bool,
    vendors: Vec<VendorRow>,
    vendor_users: Vec<(String, String)>,
    can_assign: bool,
    responsible: Option<String>,
    documents: usize,
}

fn answer_badge(v: AnswerValue) -> &'static str {
    match v {
        AnswerValue::Yes => "ans-yes",
        AnswerValue::No => "ans-no",
        AnswerValue::Unanswered => "ans-none",
    }
}

fn proposal_badge(v: ProposedValue) -> &'static str {
    match v {
        ProposedValue::Yes => "ans-yes",
        ProposedValue::No => "ans-no",
        ProposedValue::Manual => "ans-none",
    }
}

fn evidence_lines(inst: &str, refs: &[mamori_checklist::EvidenceRef]) -> Vec<EvidenceLine> {
    refs.iter()
        .map(|e| {
            let when = e.observed_at.map(|t| format!("（{}）", super::jobs::when(t))).unwrap_or_default();
            let link = match (e.kind, e.ledger) {
                // A record, or (when the evidence is the ledger as a whole) the ledger's list.
                (EvidenceKind::LedgerRow, Some(k)) if e.id.parse::<uuid::Uuid>().is_ok() => {
                    Some(format!("/i/{inst}/ledgers/{k}/{}", e.id))
                }
                (EvidenceKind::LedgerRow, Some(k)) => Some(format!("/i/{inst}/ledgers/{k}")),
                (EvidenceKind::Document, _) => Some(format!("/i/{inst}/evidence/{}/file", e.id)),
                (EvidenceKind::Scan, _) => Some(format!("/i/{inst}/scans/{}", e.id)),
                _ => None,
            };
            EvidenceLine { label: format!("{}: {}{when}", e.kind.label_ja(), e.label), link }
        })
        .collect()
}

fn slots(inst: &str, edition: &Edition, item: &Item, answers: &[Answer], evaluation: &Evaluation) -> Vec<Slot> {
    item.answer_slots()
        .into_iter()
        .map(|class| {
            let a = answers.iter().find(|a| a.item_id == item.id && a.device_class.as_deref() == class);
            let p = evaluation.get(&item.id, class);
            let value = a.map_or(AnswerValue::Unanswered, |a| a.value);
            Slot {
                previous: String::new(),
                previous_value: "",
                class: class.unwrap_or("").to_owned(),
                class_label: class.map(|c| edition.device_class_label(c).to_owned()).unwrap_or_default(),
                answer: value.label_ja().to_owned(),
                answer_class: answer_badge(value),
                confirmed: a.and_then(|a| a.confirmed_on).map(|d| d.to_string()).unwrap_or_default(),
                target: a.and_then(|a| a.target_date).map(|d| d.to_string()).unwrap_or_default(),
                overridden: a.is_some_and(|a| a.overridden.is_some()),
                proposal: p.map(|p| p.value.label_ja().to_owned()).unwrap_or_default(),
                proposal_class: p.map_or("ans-none", |p| proposal_badge(p.value)),
                reasons: p.map(|p| p.reasons.clone()).unwrap_or_default(),
                evidence: p.map(|p| evidence_lines(inst, &p.evidence)).unwrap_or_default(),
            }
        })
        .collect()
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, form)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (edition, key) = match open(&state, lang, &fy, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let view = View::institution(&auth, &scope, &key);
    render_form(&state, &auth, &scope, lang, &edition, &key, &view).await
}

/// Where a form is shown and who may answer it: the institution's own form, the vendor's
/// form seen by the institution, or the vendor's form answered by the vendor.
pub struct View {
    pub base: String,
    pub can_answer: bool,
    pub vendor_name: Option<String>,
    /// The institution's page of a vendor form links back to the vendor list.
    pub institution_side: bool,
}

impl View {
    fn institution(auth: &Auth, scope: &Scope, key: &ChecklistKey) -> View {
        View {
            base: format!("/i/{}/checklist/{}/{}", scope.institution(), key.fiscal_year, key.form),
            can_answer: auth.can(scope.institution(), Permission::EditData),
            vendor_name: None,
            institution_side: true,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    edition: &Edition,
    key: &ChecklistKey,
    view: &View,
) -> Response {
    let today = checklist_io::today();
    let result: Result<_, ChecklistIoError> = async {
        let answers = checklist_io::answers(&*state.store, scope, key).await?;
        let evaluation = checklist_io::evaluate(&*state.store, scope, edition, &key.form, today).await?;
        let progress = mamori_checklist::progress(edition, &key.form, &answers, today, 60)?;
        let years = checklist_io::fiscal_years(&*state.store).await?;
        // A vendor answering its form sees neither the institution's 責任者 nor its documents.
        let (responsible, documents) = if view.institution_side {
            (
                checklist_io::responsible(&*state.store, scope).await?,
                checklist_io::documents(&*state.store, scope).await?.len(),
            )
        } else {
            (None, 0)
        };
        Ok((answers, evaluation, progress, years, responsible, documents))
    }
    .await;
    let (answers, evaluation, progress, years, responsible, documents) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let vendors = if key.vendor.is_none() && view.institution_side {
        match vendor_rows(state, scope, edition, key.fiscal_year).await {
            Ok(v) => v,
            Err(e) => return server_error(lang, &e),
        }
    } else {
        Vec::new()
    };
    let inst = scope.institution().to_string();
    let f = edition.form(&key.form).expect("checked by the caller");
    let sections = f
        .sections
        .iter()
        .map(|s| SectionView {
            title: s.display_title(),
            items: s
                .items
                .iter()
                .map(|item| ItemRow {
                    id: item.id.clone(),
                    text: item.display_text().to_owned(),
                    caveat: item.wording_caveat_ja(),
                    slots: slots(&inst, edition, item, &answers, &evaluation),
                })
                .collect(),
        })
        .collect();
    let progress_line = lang.ta(
        "checklist-progress",
        &[
            ("yes", progress.total.yes.into()),
            ("no", progress.total.no.into()),
            ("unanswered", progress.total.unanswered.into()),
            ("unconfirmed", progress.unconfirmed_wording.into()),
        ],
    );
    // One line per deadline: the items it concerns, and how far off (or past) it is.
    let mut grouped: Vec<(String, time::Date, i64, Vec<String>)> = Vec::new();
    for d in &progress.deadlines {
        match grouped.iter_mut().find(|g| g.0 == d.label_ja && g.1 == d.date) {
            Some(g) => {
                if !g.3.contains(&d.item_id) {
                    g.3.push(d.item_id.clone());
                }
            }
            None => grouped.push((d.label_ja.clone(), d.date, d.days_left, vec![d.item_id.clone()])),
        }
    }
    let deadlines = grouped
        .iter()
        .map(|(label, date, days, items)| {
            let args = [
                ("label", Arg::from(label.as_str())),
                ("date", Arg::from(date.to_string().as_str())),
                ("days", Arg::from(days.abs())),
                ("items", Arg::from(items.join("、").as_str())),
            ];
            lang.ta(if *days < 0 { "checklist-web-deadline-past" } else { "checklist-web-deadline" }, &args)
        })
        .collect();
    let mut page = Page::for_user(state, auth, lang, "checklist-web-title", Some(scope.institution())).await;
    page.title = match &view.vendor_name {
        Some(v) => format!("{} {}（{v}）", edition.label_ja, f.title_ja),
        None => format!("{} {}", edition.label_ja, f.title_ja),
    };
    render(&ChecklistPage {
        page,
        base: view.base.clone(),
        fy: key.fiscal_year,
        form_id: key.form.clone(),
        heading: edition.title_ja.clone(),
        years: years
            .iter()
            .map(|y| YearLink { fy: *y, label: format!("令和{}年度", y - 2018), current: *y == key.fiscal_year })
            .collect(),
        forms: edition
            .forms
            .iter()
            .filter(|x| x.respondent == mamori_checklist::Respondent::Institution)
            .map(|x| FormLink { id: x.id.clone(), title: x.title_ja.clone(), current: x.id == key.form })
            .collect(),
        progress_line,
        deadlines,
        unconfirmed: progress.unconfirmed_wording,
        sections,
        can_edit: view.can_answer,
        own_form: key.vendor.is_none(),
        vendors,
        vendor_users: if key.vendor.is_none() && view.institution_side {
            match state.store.institution_users(scope).await {
                Ok(users) => users
                    .into_iter()
                    .filter(|(_, r)| *r == mamori_domain::auth::Role::Vendor)
                    .map(|(u, _)| (u.id.to_string(), u.display_name))
                    .collect(),
                Err(e) => return server_error(lang, &e),
            }
        } else {
            Vec::new()
        },
        can_assign: view.institution_side && auth.can(scope.institution(), Permission::EditData),
        institution_side: view.institution_side,
        responsible: responsible.map(|r| r.name),
        documents,
        inst,
    })
}

pub struct VendorRow {
    pub id: String,
    pub name: String,
    pub assigned: bool,
    pub user: String,
    pub answered: String,
}

/// The vendors of 事業者台帳 with their 事業者確認用 for a year.
async fn vendor_rows(
    state: &AppState,
    scope: &Scope,
    edition: &Edition,
    fy: i32,
) -> Result<Vec<VendorRow>, ChecklistIoError> {
    let Some(form) = vendor_form(edition) else { return Ok(Vec::new()) };
    let assignments = state.store.checklist_assignments(scope).await?;
    let users: HashMap<String, String> = state
        .store
        .institution_users(scope)
        .await?
        .into_iter()
        .map(|(u, _)| (u.id.to_string(), u.display_name))
        .collect();
    let mut out = Vec::new();
    for v in state.store.list_rows(scope, RecordKind::Vendors, &RecordQuery::default()).await? {
        let a = assignments.iter().find(|a| a.vendor == v.id && a.fiscal_year == fy && a.form == form);
        let key = ChecklistKey { fiscal_year: fy, form: form.clone(), vendor: Some(v.id) };
        let answers = checklist_io::answers(&*state.store, scope, &key).await?;
        let answered = answers.iter().filter(|x| x.value != AnswerValue::Unanswered).count();
        out.push(VendorRow {
            id: v.id.to_string(),
            name: v.text("name").ok().flatten().unwrap_or_default(),
            assigned: a.is_some(),
            user: a
                .and_then(|a| a.user)
                .map(|u| users.get(&u.to_string()).cloned().unwrap_or_default())
                .unwrap_or_default(),
            answered: if answers.is_empty() { String::new() } else { answered.to_string() },
        });
    }
    Ok(out)
}

/// The edition's 事業者確認用.
fn vendor_form(edition: &Edition) -> Option<String> {
    edition.forms.iter().find(|f| f.respondent == mamori_checklist::Respondent::Vendor).map(|f| f.id.clone())
}

// ---- guided mode ------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct GuideQuery {
    #[serde(default)]
    item: String,
}

#[derive(Template)]
#[template(path = "checklist_guide.html")]
struct GuidePage {
    page: Page,
    base: String,
    position: String,
    item_id: String,
    text: String,
    caveat: Option<&'static str>,
    meaning: String,
    check: Vec<String>,
    if_no: Vec<String>,
    ask: String,
    slots: Vec<Slot>,
    /// Registered documents (id, label, cited by this item's answer).
    documents: Vec<(String, String, bool)>,
    /// (when, who, what) of this item's answers, newest first.
    history: Vec<(String, String, String)>,
    today: String,
    target_window: String,
    note: String,
    prev: Option<String>,
    next: Option<String>,
    can_edit: bool,
    error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn guide_page(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    edition: &Edition,
    key: &ChecklistKey,
    view: &View,
    item_id: &str,
    error: Option<String>,
) -> Response {
    let today = checklist_io::today();
    let result: Result<_, ChecklistIoError> = async {
        let answers = checklist_io::answers(&*state.store, scope, key).await?;
        let evaluation = checklist_io::evaluate(&*state.store, scope, edition, &key.form, today).await?;
        let previous = checklist_io::previous_year(&*state.store, scope, edition, key).await?;
        let documents =
            if view.institution_side { checklist_io::documents(&*state.store, scope).await? } else { Vec::new() };
        let users: HashMap<String, String> =
            state.store.list_users().await?.into_iter().map(|u| (format!("user:{}", u.id), u.display_name)).collect();
        Ok((answers, evaluation, previous, documents, users))
    }
    .await;
    let (answers, evaluation, previous, documents, users) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let f = edition.form(&key.form).expect("checked in open()");
    let items: Vec<&Item> = f.items().collect();
    // No item named: the first one not answered yet.
    let index = if item_id.is_empty() {
        items
            .iter()
            .position(|i| {
                i.answer_slots().into_iter().any(|c| {
                    !answers.iter().any(|a| {
                        a.item_id == i.id && a.device_class.as_deref() == c && a.value != AnswerValue::Unanswered
                    })
                })
            })
            .unwrap_or(0)
    } else {
        match items.iter().position(|i| i.id == item_id) {
            Some(i) => i,
            None => return not_found(lang),
        }
    };
    let item = items[index];
    let mut history = Vec::new();
    for class in item.answer_slots() {
        let id = key.object_id(&item.id, class);
        match state.store.object_history(scope, "checklist", &id, 20).await {
            Ok(events) => history.extend(events.into_iter().map(|e| {
                let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                let a: Option<Answer> = serde_json::from_value(details["answer"].clone()).ok();
                let what = a.map_or_else(String::new, |a| {
                    let mut w = a.value.label_ja().to_owned();
                    if let Some(c) = class {
                        w = format!("{}: {w}", edition.device_class_label(c));
                    }
                    if let Some(o) = a.overridden {
                        w.push_str(&format!("（{}: {}）", lang.t("checklist-web-reason-short"), o.reason));
                    }
                    w
                });
                (e.at, super::jobs::when(e.at), users.get(&e.actor).cloned().unwrap_or(e.actor), what)
            })),
            Err(e) => return server_error(lang, &e),
        }
    }
    history.sort_by_key(|h| std::cmp::Reverse(h.0));
    let history: Vec<(String, String, String)> =
        history.into_iter().map(|(_, at, who, what)| (at, who, what)).collect();
    let inst = scope.institution().to_string();
    let base = view.base.clone();
    let (meaning, check, if_no, ask) = match &item.guidance {
        Some(g) => (g.meaning_ja.clone(), g.check_ja.clone(), g.if_no_ja.clone(), g.ask_ja.clone().unwrap_or_default()),
        None => Default::default(),
    };
    let (from, to) = edition.target_window(item);
    let note = answers.iter().find(|a| a.item_id == item.id).and_then(|a| a.note.clone()).unwrap_or_default();
    let guide_url = |i: &Item| format!("{base}/guide?item={}", super::ledgers::url_encode(&i.id));
    let mut res = render(&GuidePage {
        page: Page::for_user(state, auth, lang, "checklist-web-guide-title", Some(scope.institution())).await,
        position: lang.ta("checklist-web-position", &[("n", (index + 1).into()), ("total", items.len().into())]),
        item_id: item.id.clone(),
        text: item.display_text().to_owned(),
        caveat: item.wording_caveat_ja(),
        meaning,
        check,
        if_no,
        ask,
        slots: slots(&inst, edition, item, &answers, &evaluation)
            .into_iter()
            .map(|mut sl| {
                let class = (!sl.class.is_empty()).then_some(sl.class.as_str());
                let last = previous.iter().find(|p| p.item_id == item.id && p.device_class.as_deref() == class);
                if let Some(p) = last.filter(|p| p.value != AnswerValue::Unanswered)
                    && sl.answer_class == "ans-none"
                {
                    sl.previous = p.value.label_ja().to_owned();
                    sl.previous_value = answer_badge(p.value);
                }
                sl
            })
            .collect(),
        documents: documents
            .iter()
            .map(|(e, d)| {
                let cited =
                    answers.iter().any(|a| a.item_id == item.id && a.evidence.iter().any(|r| r.id == e.id.to_string()));
                (e.id.to_string(), format!("{}: {}", d.kind.label_ja(), d.title), cited)
            })
            .collect(),
        history,
        today: today.to_string(),
        target_window: lang
            .ta("checklist-web-target-window", &[("from", from.to_string().into()), ("to", to.to_string().into())]),
        note,
        prev: index.checked_sub(1).map(|i| guide_url(items[i])),
        next: items.get(index + 1).map(|i| guide_url(i)),
        can_edit: view.can_answer,
        error: error.clone(),
        base,
    });
    if error.is_some() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

pub async fn guide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, form)): Path<(String, String, String)>,
    Query(q): Query<GuideQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match open(&state, lang, &fy, &form).await {
        Ok((edition, key)) => {
            let view = View::institution(&auth, &scope, &key);
            guide_page(&state, &auth, &scope, lang, &edition, &key, &view, &q.item, None).await
        }
        Err(r) => r,
    }
}

/// Saves the answers of one item (every device class it asks for) and goes on.
pub async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, form)): Path<(String, String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (edition, key) = match open(&state, lang, &fy, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let view = View::institution(&auth, &scope, &key);
    save_item(&state, &auth, &scope, lang, &edition, &key, &view, &f).await
}

#[allow(clippy::too_many_arguments)]
async fn save_item(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    edition: &Edition,
    key: &ChecklistKey,
    view: &View,
    f: &HashMap<String, String>,
) -> Response {
    if !view.can_answer {
        return super::forbidden(lang);
    }
    let item_id = super::field(f, "item").to_owned();
    let Some(item) = edition.form(&key.form).and_then(|x| x.item(&item_id)).cloned() else {
        return not_found(lang);
    };
    let today = checklist_io::today();
    let bad = |code: &str| lang.t(&format!("checklist-web-error-{code}"));
    let date = |name: &str| -> Result<Option<time::Date>, String> {
        let raw = super::field(f, name);
        if raw.is_empty() {
            return Ok(None);
        }
        mamori_ledger::normalize::parse_date_text(raw).map(Some).map_err(|_| bad("date"))
    };
    let (confirmed, target) = match (date("confirmed_on"), date("target_date")) {
        (Ok(c), Ok(t)) => (c, t),
        (Err(e), _) | (_, Err(e)) => {
            return guide_page(state, auth, scope, lang, edition, key, view, &item_id, Some(e)).await;
        }
    };
    let evaluation = match checklist_io::evaluate(&*state.store, scope, edition, &key.form, today).await {
        Ok(e) => e,
        Err(e) => return server_error(lang, &e),
    };
    let reason = super::field(f, "reason");
    let note = super::field(f, "note");
    // Documents the person cites as the basis of the answer.
    let documents =
        if view.institution_side { checklist_io::documents(&*state.store, scope).await } else { Ok(Vec::new()) };
    let cited: Vec<mamori_checklist::EvidenceRef> = match documents {
        Ok(docs) => docs
            .iter()
            .filter(|(e, _)| f.contains_key(&format!("doc_{}", e.id)))
            .map(|(e, d)| {
                mamori_checklist::EvidenceRef::new(
                    EvidenceKind::Document,
                    e.id.to_string(),
                    format!("{}: {}", d.kind.label_ja(), d.title),
                )
                .observed(Some(e.observed_at))
            })
            .collect(),
        Err(e) => return server_error(lang, &e),
    };
    let mut answers = Vec::new();
    for class in item.answer_slots() {
        let field = format!("value_{}", class.unwrap_or(""));
        let value = match super::field(f, &field) {
            "yes" => AnswerValue::Yes,
            "no" => AnswerValue::No,
            _ => AnswerValue::Unanswered,
        };
        let mut a = Answer::new(&item.id, class, value);
        a.confirmed_on = confirmed.or(Some(today)).filter(|_| value != AnswerValue::Unanswered);
        a.target_date = target.filter(|_| value == AnswerValue::No);
        a.note = (!note.is_empty()).then(|| note.to_owned());
        a.evidence.clone_from(&cited);
        if let Some(p) = evaluation.get(&item.id, class) {
            a.evidence.extend(p.evidence.iter().cloned());
            if matches!((p.value, value), (ProposedValue::Yes, AnswerValue::No) | (ProposedValue::No, AnswerValue::Yes))
            {
                a.overridden = Some(Override { by: actor(auth), reason: reason.to_owned(), proposed: p.value });
            }
        }
        answers.push(a);
    }
    match checklist_io::save_answers(&*state.store, scope, edition, key, &answers, &actor(auth)).await {
        Ok(_) => {
            let base = view.base.clone();
            let form_def = edition.form(&key.form).expect("checked by the caller");
            let items: Vec<&Item> = form_def.items().collect();
            let next = items.iter().position(|i| i.id == item.id).and_then(|i| items.get(i + 1));
            let to = match next {
                _ if super::field(f, "go") == "form" => base,
                Some(n) => format!("{base}/guide?item={}", super::ledgers::url_encode(&n.id)),
                None => base,
            };
            Redirect::to(&to).into_response()
        }
        Err(e) => {
            let message = checklist_io::error_text(lang, &e);
            guide_page(state, auth, scope, lang, edition, key, view, &item_id, Some(message)).await
        }
    }
}

// ---- export -----------------------------------------------------------------------------

pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, form)): Path<(String, String, String)>,
    Query(q): Query<super::ledgers::FormatQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (edition, key) = match open(&state, lang, &fy, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let pdf = q.format == "pdf";
    let result: Result<Vec<u8>, ChecklistIoError> = async {
        let institution = state.store.institution(&scope).await?;
        let answers = checklist_io::answers(&*state.store, &scope, &key).await?;
        let evaluation =
            checklist_io::evaluate(&*state.store, &scope, &edition, &key.form, checklist_io::today()).await?;
        let name = institution.name.as_str();
        if pdf {
            checklist_io::export_pdf(&edition, &key.form, name, &answers, Some(&evaluation))
        } else {
            Ok(mamori_checklist::export_xlsx(&edition, &key.form, name, &answers, Some(&evaluation))?)
        }
    }
    .await;
    let bytes = match result {
        Ok(b) => b,
        Err(e @ ChecklistIoError::Pdf(_)) => {
            let message = checklist_io::error_text(lang, &e);
            return super::message_page(&state, &auth, lang, Some(scope.institution()), &message).await;
        }
        Err(e) => return server_error(lang, &e),
    };
    let (ext, media) = if pdf {
        ("pdf", "application/pdf")
    } else {
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    };
    let draft = AuditDraft::new(&actor(&auth), "checklist.export")
        .object("checklist", format!("{}/{}", key.fiscal_year, key.form))
        .details(serde_json::json!({"format": ext, "via": "web"}));
    let f = edition.form(&key.form).expect("checked in open()");
    let name = format!("{}_{}.{ext}", edition.label_ja, f.title_ja);
    super::ledgers::audited_download(&state, &scope, lang, draft, (bytes, media, &name)).await
}

// ---- documents and the 責任者 -----------------------------------------------------------

pub struct DocRow {
    pub kind: String,
    pub title: String,
    pub reviewed: String,
    pub file: String,
    pub link: String,
}

pub struct StaffOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "documents.html")]
struct DocumentsPage {
    page: Page,
    inst: String,
    docs: Vec<DocRow>,
    kinds: Vec<(&'static str, &'static str)>,
    staff: Vec<StaffOption>,
    responsible: String,
    designated_on: String,
    can_edit: bool,
    error: Option<String>,
}

const KINDS: [(DocumentKind, &str); 7] = [
    (DocumentKind::ContactChart, "contact-chart"),
    (DocumentKind::Bcp, "bcp"),
    (DocumentKind::OperationRules, "operation-rules"),
    (DocumentKind::Appointment, "appointment"),
    (DocumentKind::RestoreProcedure, "restore-procedure"),
    (DocumentKind::VendorReply, "vendor-reply"),
    (DocumentKind::Other, "other"),
];

#[derive(Debug, Deserialize, Default)]
pub struct ErrorQuery {
    #[serde(default)]
    error: String,
}

pub async fn documents(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Query(q): Query<ErrorQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let result: Result<_, mamori_store::StoreError> = async {
        let docs = checklist_io::documents(&*state.store, &scope).await?;
        let staff = state.store.list_rows(&scope, RecordKind::Staff, &RecordQuery::default()).await?;
        let responsible = checklist_io::responsible(&*state.store, &scope).await?;
        Ok((docs, staff, responsible))
    }
    .await;
    let (docs, staff, responsible) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let inst = scope.institution().to_string();
    let chosen = responsible.as_ref().and_then(|r| r.person_id).map(|p| p.to_string());
    render(&DocumentsPage {
        page: Page::for_user(&state, &auth, lang, "documents-web-title", Some(scope.institution())).await,
        docs: docs
            .iter()
            .map(|(e, d)| DocRow {
                kind: d.kind.label_ja().to_owned(),
                title: d.title.clone(),
                reviewed: d.reviewed_on.map(|x| x.to_string()).unwrap_or_default(),
                file: e.source.clone().unwrap_or_default(),
                link: format!("/i/{inst}/evidence/{}/file", e.id),
            })
            .collect(),
        kinds: KINDS.iter().map(|(k, code)| (*code, k.label_ja())).collect(),
        staff: staff
            .iter()
            .filter_map(|r| {
                let name = r.text("name").ok().flatten()?;
                let id = r.id.to_string();
                Some(StaffOption { selected: chosen.as_deref() == Some(id.as_str()), id, name })
            })
            .collect(),
        responsible: responsible.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
        designated_on: responsible.and_then(|r| r.designated_on).map(|d| d.to_string()).unwrap_or_default(),
        can_edit: auth.can(scope.institution(), Permission::EditData),
        error: match q.error.as_str() {
            "" => None,
            code => Some(lang.try_t(&format!("ledger-web-error-{code}")).unwrap_or_else(|| lang.t("web-error-body"))),
        },
        inst,
    })
}

/// Registers a document with its file (multipart, sent by htmx).
pub async fn document_upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    multipart: Multipart,
) -> Response {
    let lang = lang_from_headers(&headers);
    let back = format!("/i/{}/documents", scope.institution());
    let fail = |code: &str| super::ledgers::hx_redirect(&headers, &format!("{back}?error={code}"));
    let (name, bytes, fields) = match super::ledger_import::read_upload(multipart, MAX_ATTACHMENT_BYTES).await {
        Ok(Some(f)) if !f.bytes.is_empty() => (f.name, f.bytes, f.fields),
        Ok(_) => return fail("upload-empty"),
        Err(code) => return fail(code),
    };
    let media_type = match mamori_domain::evidence::classify_upload(&name, &bytes) {
        Ok(m) => m,
        Err(e) => return fail(e.code()),
    };
    let kind = KINDS
        .iter()
        .find(|(_, code)| Some(*code) == fields.get("kind").map(String::as_str))
        .map_or(DocumentKind::Other, |(k, _)| *k);
    let title = fields.get("title").map(|t| t.trim()).filter(|t| !t.is_empty()).unwrap_or(&name).to_owned();
    if title.chars().count() > 200 {
        return fail("title-too-long");
    }
    let reviewed = match fields.get("reviewed_on").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        Some(r) => match mamori_ledger::normalize::parse_date_text(r) {
            Ok(d) => Some(d),
            Err(_) => return fail("date"),
        },
        None => None,
    };
    let file = Attachment { name, media_type: media_type.to_owned(), bytes };
    match checklist_io::register_document(&*state.store, &scope, kind, &title, reviewed, file, &actor(&auth)).await {
        Ok(_) => super::ledgers::hx_redirect(&headers, &back),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn set_responsible(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let back = format!("/i/{}/documents", scope.institution());
    let person = super::field(&f, "person");
    let staff = match person.parse::<uuid::Uuid>() {
        Ok(id) => state.store.get_row(&scope, RecordKind::Staff, mamori_domain::RecordId(id)).await,
        Err(_) => return Redirect::to(&format!("{back}?error=responsible")).into_response(),
    };
    let row = match staff {
        Ok(Some(r)) => r,
        Ok(None) => return Redirect::to(&format!("{back}?error=responsible")).into_response(),
        Err(e) => return server_error(lang, &e),
    };
    let designated_on = match super::field(&f, "designated_on") {
        "" => None,
        raw => match mamori_ledger::normalize::parse_date_text(raw) {
            Ok(d) => Some(d),
            Err(_) => return Redirect::to(&format!("{back}?error=date")).into_response(),
        },
    };
    let r = Responsible {
        name: row.text("name").ok().flatten().unwrap_or_default(),
        person_id: Some(row.id),
        designated_on,
    };
    match checklist_io::set_responsible(&*state.store, &scope, &r, &actor(&auth)).await {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => server_error(lang, &e),
    }
}

// ---- 事業者確認用 -------------------------------------------------------------------------

/// The vendor form of a year for one vendor of the ledger.
async fn open_vendor(
    state: &AppState,
    scope: &Scope,
    lang: Lang,
    fy: &str,
    vendor: &str,
) -> Result<(Edition, ChecklistKey, String), Response> {
    let fy: i32 = fy.parse().map_err(|_| not_found(lang))?;
    let edition = match checklist_io::edition_for(&*state.store, fy).await {
        Ok(e) => e,
        Err(ChecklistIoError::NoEdition { .. }) => return Err(not_found(lang)),
        Err(e) => return Err(server_error(lang, &e)),
    };
    let form = vendor_form(&edition).ok_or_else(|| not_found(lang))?;
    let vendor_id = vendor.parse::<uuid::Uuid>().map(mamori_domain::RecordId).map_err(|_| not_found(lang))?;
    let row = match state.store.get_row(scope, RecordKind::Vendors, vendor_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(not_found(lang)),
        Err(e) => return Err(server_error(lang, &e)),
    };
    let name = row.text("name").ok().flatten().unwrap_or_default();
    Ok((edition, ChecklistKey { fiscal_year: fy, form, vendor: Some(vendor_id) }, name))
}

/// Sends (or withdraws) the year's 事業者確認用 to a vendor, naming the 事業者 user who answers.
pub async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (edition, key, _) = match open_vendor(&state, &scope, lang, &fy, super::field(&f, "vendor")).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let user = match super::field(&f, "user") {
        "" => None,
        u => match u.parse::<uuid::Uuid>() {
            // Only a 事業者 member of this institution may be named.
            Ok(id) => match state.store.institution_users(&scope).await {
                Ok(users) if users.iter().any(|(x, r)| x.id.0 == id && *r == mamori_domain::auth::Role::Vendor) => {
                    Some(mamori_domain::UserId(id))
                }
                Ok(_) => return not_found(lang),
                Err(e) => return server_error(lang, &e),
            },
            Err(_) => return not_found(lang),
        },
    };
    let a = mamori_store::ChecklistAssignment {
        fiscal_year: key.fiscal_year,
        form: key.form.clone(),
        vendor: key.vendor.expect("a vendor key"),
        user,
    };
    let assigned = super::field(&f, "action") != "withdraw";
    if let Err(e) = state.store.set_checklist_assignment(&scope, &a, assigned, &actor(&auth)).await {
        return server_error(lang, &e);
    }
    let own = checklist_io::own_form(
        state
            .store
            .institution(&scope)
            .await
            .map(|i| i.kind)
            .unwrap_or(mamori_domain::institution::InstitutionKind::Clinic),
        &edition,
    );
    Redirect::to(&format!("/i/{}/checklist/{}/{own}#vendors", scope.institution(), key.fiscal_year)).into_response()
}

/// The institution's view of a vendor's form (read-only; the vendor answers it, or the
/// institution imports the vendor's filled XLSX).
pub async fn vendor_form_view(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, vendor)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (edition, key, name) = match open_vendor(&state, &scope, lang, &fy, &vendor).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let view = View {
        base: format!("/i/{}/checklist/{fy}/vendor/{vendor}", scope.institution()),
        can_answer: false,
        vendor_name: Some(name),
        institution_side: true,
    };
    render_form(&state, &auth, &scope, lang, &edition, &key, &view).await
}

pub async fn vendor_form_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, vendor)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (edition, key, name) = match open_vendor(&state, &scope, lang, &fy, &vendor).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result: Result<Vec<u8>, ChecklistIoError> = async {
        let institution = state.store.institution(&scope).await?;
        let answers = checklist_io::answers(&*state.store, &scope, &key).await?;
        Ok(mamori_checklist::export_xlsx(&edition, &key.form, &institution.name, &answers, None)?)
    }
    .await;
    let bytes = match result {
        Ok(b) => b,
        Err(e) => return server_error(lang, &e),
    };
    let draft = AuditDraft::new(&actor(&auth), "checklist.export")
        .object("checklist", format!("{}/{}/{vendor}", key.fiscal_year, key.form))
        .details(serde_json::json!({"format": "xlsx", "vendor": name, "via": "web"}));
    let f = edition.form(&key.form).expect("a vendor form");
    let file = format!("{}_{}_{name}.xlsx", edition.label_ja, f.title_ja);
    super::ledgers::audited_download(
        &state,
        &scope,
        lang,
        draft,
        (bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &file),
    )
    .await
}

#[derive(Template)]
#[template(path = "checklist_import_result.html")]
struct ImportResult {
    ok: bool,
    message: String,
}

/// The vendor's filled XLSX, checked against the layout mamori exported; all answers or none.
/// Sent by htmx; the result replaces a part of the page.
pub async fn vendor_form_import(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, vendor)): Path<(String, String, String)>,
    multipart: Multipart,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (edition, key, _) = match open_vendor(&state, &scope, lang, &fy, &vendor).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let fail = |message: String| render(&ImportResult { ok: false, message });
    let bytes = match super::ledger_import::read_upload(multipart, MAX_ATTACHMENT_BYTES).await {
        Ok(Some(f)) if !f.bytes.is_empty() => f.bytes,
        Ok(_) => return fail(lang.t("ledger-web-error-upload-empty")),
        Err(code) => return fail(lang.t(&format!("ledger-web-error-{code}"))),
    };
    let imported = match mamori_checklist::import_answers_xlsx(&edition, &key.form, &bytes) {
        Ok(i) => i,
        Err(e) => return fail(checklist_io::error_text(lang, &ChecklistIoError::from(e))),
    };
    let answered: Vec<Answer> = imported.answers.into_iter().filter(|a| a.value != AnswerValue::Unanswered).collect();
    match checklist_io::save_answers(&*state.store, &scope, &edition, &key, &answered, &actor(&auth)).await {
        Ok(n) => render(&ImportResult {
            ok: true,
            message: lang.ta("checklist-web-imported", &[("count", answered.len().into()), ("changed", n.into())]),
        }),
        Err(e) => fail(checklist_io::error_text(lang, &e)),
    }
}

/// The 事業者 user's forms: the vendor forms assigned to them (an administrator sees all).
#[derive(Template)]
#[template(path = "vendor_forms.html")]
struct VendorFormsPage {
    page: Page,
    forms: Vec<(String, String, String)>,
}

pub async fn vendor_forms(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let admin = auth.role_in(scope.institution()) == Some(mamori_domain::auth::Role::Admin);
    let result: Result<_, mamori_store::StoreError> = async {
        let mut out = Vec::new();
        for a in state.store.checklist_assignments(&scope).await? {
            if !admin && a.user != Some(auth.user.id) {
                continue;
            }
            let name = state
                .store
                .get_row(&scope, RecordKind::Vendors, a.vendor)
                .await?
                .and_then(|r| r.text("name").ok().flatten())
                .unwrap_or_default();
            out.push((
                format!("/i/{}/vendor-forms/{}/{}", scope.institution(), a.fiscal_year, a.vendor),
                format!("令和{}年度", a.fiscal_year - 2018),
                name,
            ));
        }
        Ok(out)
    }
    .await;
    match result {
        Ok(forms) => render(&VendorFormsPage {
            page: Page::for_user(&state, &auth, lang, "vendor-forms-title", Some(scope.institution())).await,
            forms,
        }),
        Err(e) => server_error(lang, &e),
    }
}

/// A vendor form as its 事業者 user answers it; refused unless assigned to them.
async fn open_assigned(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    fy: &str,
    vendor: &str,
) -> Result<(Edition, ChecklistKey, View), Response> {
    let (edition, key, name) = open_vendor(state, scope, lang, fy, vendor).await?;
    let admin = auth.role_in(scope.institution()) == Some(mamori_domain::auth::Role::Admin);
    let assigned = match state.store.checklist_assignments(scope).await {
        Ok(list) => list.into_iter().any(|a| {
            a.fiscal_year == key.fiscal_year
                && a.form == key.form
                && Some(a.vendor) == key.vendor
                && a.user == Some(auth.user.id)
        }),
        Err(e) => return Err(server_error(lang, &e)),
    };
    if !assigned && !admin {
        return Err(super::forbidden(lang));
    }
    let view = View {
        base: format!("/i/{}/vendor-forms/{fy}/{vendor}", scope.institution()),
        can_answer: true,
        vendor_name: Some(name),
        institution_side: false,
    };
    Ok((edition, key, view))
}

pub async fn vendor_answer_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, vendor)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match open_assigned(&state, &auth, &scope, lang, &fy, &vendor).await {
        Ok((edition, key, view)) => render_form(&state, &auth, &scope, lang, &edition, &key, &view).await,
        Err(r) => r,
    }
}

pub async fn vendor_answer_guide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, vendor)): Path<(String, String, String)>,
    Query(q): Query<GuideQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match open_assigned(&state, &auth, &scope, lang, &fy, &vendor).await {
        Ok((edition, key, view)) => guide_page(&state, &auth, &scope, lang, &edition, &key, &view, &q.item, None).await,
        Err(r) => r,
    }
}

pub async fn vendor_answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, fy, vendor)): Path<(String, String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match open_assigned(&state, &auth, &scope, lang, &fy, &vendor).await {
        Ok((edition, key, view)) => save_item(&state, &auth, &scope, lang, &edition, &key, &view, &f).await,
        Err(r) => r,
    }
}
