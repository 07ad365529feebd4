//! `/healthz` for monitoring, and the browser's language preference.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
}
