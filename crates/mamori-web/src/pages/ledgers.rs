//! The ledgers of one institution, read-only for now: one page per ledger with its main
//! columns (imports come in through `mamori ledger import`; editing in the browser later).

use super::{Page, lang_from_headers, render, server_error};
use crate::AppState;
use crate::session::Auth;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use mamori_domain::record::RecordKind;
use mamori_i18n::{Arg, Lang};
use mamori_ledger::export;
use mamori_store::{RecordQuery, Scope};
use std::collections::HashMap;

/// At most this many rows on one page.
const PAGE: u32 = 500;

pub struct Tab {
    pub slug: &'static str,
    pub title: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    page: Page,
    inst: String,
    tabs: Vec<Tab>,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    count_line: String,
}

fn export_lang(lang: Lang) -> export::Lang {
    match lang {
        Lang::Ja => export::Lang::Ja,
        Lang::En => export::Lang::En,
    }
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind)): Path<(String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let Some(kind) = RecordKind::parse(&kind) else { return super::not_found(lang) };
    let xl = export_lang(lang);
    let result: Result<(Vec<Vec<String>>, u64), mamori_store::StoreError> = async {
        let total = state.store.count_rows(&scope, kind).await?;
        let query = RecordQuery { limit: Some(PAGE), ..Default::default() };
        let rows = state.store.list_rows(&scope, kind, &query).await?;
        // References show as the referenced record's name.
        let mut names = HashMap::new();
        for k in export::referenced_kinds(kind) {
            for row in state.store.list_rows(&scope, k, &RecordQuery::default()).await? {
                if let Some(name) = export::display_name(&row) {
                    names.insert(row.id.0, name);
                }
            }
        }
        let fields = export::summary_fields(kind);
        let table = rows
            .iter()
            .map(|r| {
                fields
                    .iter()
                    .filter_map(|name| kind.field(name))
                    .map(|f| export::render(kind, f, r.get(f.name), &names, xl).to_text().replace('\n', ", "))
                    .collect()
            })
            .collect();
        Ok((table, total))
    }
    .await;
    let (rows, total) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let tabs = RecordKind::ALL
        .into_iter()
        .map(|k| Tab { slug: k.as_str(), title: export::ledger_title(k, xl), current: k == kind })
        .collect();
    let headers = export::summary_fields(kind).iter().map(|f| export::column_title(kind, f, xl)).collect();
    let count_line = lang.ta("ledger-web-count", &[("total", Arg::from(total)), ("shown", Arg::from(rows.len()))]);
    render(&LedgerPage {
        page: Page::for_user(&state, &auth, lang, "ledger-web-title", Some(scope.institution())).await,
        inst: scope.institution().to_string(),
        tabs,
        headers,
        rows,
        count_line,
    })
}
