//! The installation administrator imports MHLW's checklist workbook as an edition: upload →
//! the differences from the edition in use (added, removed, reworded, newly confirmed items)
//! and the items mamori cannot propose answers for → confirm. Nothing is stored before the
//! confirmation; the confirmation reads the same bytes again (their hash is recorded).

use super::{Page, field, lang_from_headers, render, server_error};
use crate::AppState;
use crate::checklist_io::{self, ChecklistIoError};
use crate::session::Auth;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use base64::Engine;
use mamori_checklist::Edition;
use mamori_i18n::Lang;
use std::collections::HashMap;

/// MHLW's workbooks are tens of kilobytes; the bytes travel back in the confirmation form.
const MAX_WORKBOOK: usize = 512 * 1024;

pub struct EditionLine {
    pub fy: i32,
    pub id: String,
    pub label: String,
    pub forms: String,
}

#[derive(Template)]
#[template(path = "admin_editions.html")]
struct EditionsPage {
    page: Page,
    editions: Vec<EditionLine>,
    preview: Option<Preview>,
    error: Option<String>,
}

pub struct Preview {
    pub file: String,
    pub lines: Vec<String>,
    pub coverage: String,
    pub data: String,
}

async fn page(state: &AppState, auth: &Auth, lang: Lang, preview: Option<Preview>, error: Option<String>) -> Response {
    let editions = match checklist_io::editions(&*state.store).await {
        Ok(e) => e,
        Err(e) => return server_error(lang, &e),
    };
    let failed = error.is_some();
    let mut res = render(&EditionsPage {
        page: Page::for_user(state, auth, lang, "editions-web-title", None).await,
        editions: editions
            .iter()
            .map(|e| EditionLine {
                fy: e.fiscal_year,
                id: e.id.clone(),
                label: e.label_ja.clone(),
                forms: e.forms.iter().map(|f| f.title_ja.as_str()).collect::<Vec<_>>().join("、"),
            })
            .collect(),
        preview,
        error,
    });
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap, Extension(auth): Extension<Auth>) -> Response {
    page(&state, &auth, lang_from_headers(&headers), None, None).await
}

/// Reads the workbook and the edition it would replace (or the newest one as the base).
async fn plan(
    state: &AppState,
    bytes: &[u8],
) -> Result<(Edition, Edition, mamori_checklist::EditionDiff), ChecklistIoError> {
    let imported = mamori_checklist::import_edition_xlsx(bytes)?;
    let fy = imported.fiscal_year.unwrap_or_else(|| checklist_io::fiscal_year_of(checklist_io::today()));
    let all = checklist_io::editions(&*state.store).await?;
    let base = all
        .iter()
        .rev()
        .find(|e| e.fiscal_year == fy)
        .or_else(|| all.iter().max_by_key(|e| e.fiscal_year))
        .cloned()
        .ok_or(ChecklistIoError::NoEdition { fiscal_year: fy })?;
    let diff = mamori_checklist::diff(&base, &imported);
    let id = format!("fy{fy}-{}", &blake3::hash(bytes).to_hex()[..8]);
    let edition = mamori_checklist::edition_from_import(&base, &imported, &id)?;
    Ok((base, edition, diff))
}

pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    multipart: Multipart,
) -> Response {
    super::for_htmx(&headers, preview_inner(&state, &headers, &auth, multipart).await)
}

async fn preview_inner(state: &AppState, headers: &HeaderMap, auth: &Auth, multipart: Multipart) -> Response {
    let (state, auth) = (state.clone(), auth.clone());
    let lang = lang_from_headers(headers);
    let (name, bytes) = match super::ledger_import::read_upload(multipart, MAX_WORKBOOK).await {
        Ok(Some(f)) if !f.bytes.is_empty() => (f.name, f.bytes),
        Ok(_) => return page(&state, &auth, lang, None, Some(lang.t("ledger-web-error-upload-empty"))).await,
        Err(code) => return page(&state, &auth, lang, None, Some(lang.t(&format!("ledger-web-error-{code}")))).await,
    };
    match plan(&state, &bytes).await {
        Ok((base, edition, diff)) => {
            let coverage = mamori_checklist::rules_coverage(&edition, &mamori_checklist::rules::ledger_rules());
            let preview = Preview {
                file: name,
                lines: checklist_io::diff_lines(lang, &base, &diff),
                coverage: lang.ta(
                    "checklist-coverage",
                    &[
                        ("manual", coverage.items_without_rule.len().into()),
                        ("dangling", coverage.rules_without_item.len().into()),
                    ],
                ),
                data: base64::engine::general_purpose::STANDARD.encode(&bytes),
            };
            page(&state, &auth, lang, Some(preview), None).await
        }
        Err(e) => page(&state, &auth, lang, None, Some(checklist_io::error_text(lang, &e))).await,
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(field(&f, "data")) else {
        return page(&state, &auth, lang, None, Some(lang.t("ledger-web-error-upload-broken"))).await;
    };
    let result = async {
        let (_, edition, _) = plan(&state, &bytes).await?;
        checklist_io::save_edition(
            &*state.store,
            &edition,
            field(&f, "file"),
            &bytes,
            &format!("user:{}", auth.user.id),
        )
        .await
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/editions").into_response(),
        Err(ChecklistIoError::Store(mamori_store::StoreError::Conflict { .. })) => {
            page(&state, &auth, lang, None, Some(lang.t("editions-web-exists"))).await
        }
        Err(e) => page(&state, &auth, lang, None, Some(checklist_io::error_text(lang, &e))).await,
    }
}
