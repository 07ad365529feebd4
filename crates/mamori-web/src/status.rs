//! `/healthz` for monitoring and `/`, a status page a person can read.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use mamori_i18n::Lang;

pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "database": state.store.backend().as_str(),
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"}))).into_response()
        }
    }
}

/// The language the browser prefers, Japanese unless it asks for English first.
pub(crate) fn browser_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| Lang::from_tag(first.split(';').next().unwrap_or("")))
        .unwrap_or(Lang::Ja)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub(crate) async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = browser_lang(&headers);
    let setup_pending = match state.store.get_setting(mamori_store::SETUP_TOKEN_SETTING).await {
        Ok(v) => v.is_some(),
        Err(e) => {
            tracing::error!(error = %e, "status page: database unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, Html(escape(&lang.t("web-db-unavailable")))).into_response();
        }
    };
    let institutions = state.store.list_institutions().await.map(|l| l.len()).unwrap_or(0);
    let setup = if setup_pending { lang.t("web-setup-pending") } else { lang.t("web-setup-done") };
    let body = format!(
        "<!doctype html>\n<html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>mamori</title></head><body>\
         <h1>mamori（守り）</h1><p>{running}</p>\
         <dl><dt>{db_label}</dt><dd>{db}</dd><dt>{inst_label}</dt><dd>{institutions}</dd>\
         <dt>{setup_label}</dt><dd>{setup}</dd></dl></body></html>",
        tag = lang.tag(),
        running = escape(&lang.ta("web-running", &[("version", env!("CARGO_PKG_VERSION").into())])),
        db_label = escape(&lang.t("web-database")),
        db = state.store.backend().as_str(),
        inst_label = escape(&lang.t("web-institutions")),
        setup_label = escape(&lang.t("web-setup")),
        setup = escape(&setup),
    );
    Html(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_lang(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn japanese_unless_the_browser_prefers_english() {
        assert_eq!(browser_lang(&HeaderMap::new()), Lang::Ja);
        assert_eq!(browser_lang(&with_lang("en-US,en;q=0.9,ja;q=0.8")), Lang::En);
        assert_eq!(browser_lang(&with_lang("ja,en-US;q=0.9")), Lang::Ja);
        assert_eq!(browser_lang(&with_lang("fr-FR")), Lang::Ja);
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
