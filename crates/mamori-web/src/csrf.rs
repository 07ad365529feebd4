//! CSRF defence for every unsafe request made with cookies: the browser's own signals
//! (`Sec-Fetch-Site`, `Origin`) must say the request came from this site, and the request
//! must carry the synchronizer token of its session (form field `csrf` or header
//! `X-CSRF-Token`, which htmx sends). Before login there is no session, so the login and
//! setup forms use a pre-session token held in its own cookie (double submit).
//! The API takes only bearer tokens, never cookies, so it is outside this check.

use crate::AppState;
use crate::security::same_secret;
use crate::session::{Auth, PendingMfa, pre_cookie_name, read_cookie};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;

const FORM_LIMIT: usize = 1 << 20;

fn same_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = fetch_site
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        // A privacy-preserving browser may send `Origin: null`; then only its own
        // `Sec-Fetch-Site: same-origin` vouches for the request.
        if origin == "null" {
            return fetch_site == Some("same-origin");
        }
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
        return !host.is_empty() && origin_host.eq_ignore_ascii_case(host);
    }
    true
}

pub(crate) async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !unsafe_method || req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let lang = crate::pages::lang_of(&req);
    if !same_site(req.headers()) {
        return crate::pages::csrf_failed(lang);
    }
    let expected = if let Some(a) = req.extensions().get::<Auth>() {
        Some(a.session.csrf_token.clone())
    } else if let Some(p) = req.extensions().get::<PendingMfa>() {
        Some(p.session.csrf_token.clone())
    } else {
        read_cookie(req.headers(), pre_cookie_name(state.secure_cookies))
    };
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return crate::pages::csrf_failed(lang);
    };
    if let Some(h) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if same_secret(h, &expected) { next.run(req).await } else { crate::pages::csrf_failed(lang) };
    }
    // A form post: read the body, check the field, and hand the body on unchanged.
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return crate::pages::csrf_failed(lang);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return crate::pages::csrf_failed(lang);
    };
    let presented = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v));
    match presented {
        Some(p) if same_secret(&p, &expected) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        _ => crate::pages::csrf_failed(lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn cross_site_signals_are_refused() {
        assert!(same_site(&headers(&[("host", "127.0.0.1:8780")])));
        assert!(same_site(&headers(&[("host", "127.0.0.1:8780"), ("origin", "http://127.0.0.1:8780")])));
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin"), ("host", "h")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site"), ("host", "h")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "same-site"), ("host", "h")])));
        assert!(!same_site(&headers(&[("host", "127.0.0.1:8780"), ("origin", "http://evil.example")])));
        assert!(!same_site(&headers(&[("origin", "http://127.0.0.1:8780")])));
        assert!(same_site(&headers(&[("origin", "null"), ("sec-fetch-site", "same-origin"), ("host", "h")])));
        assert!(!same_site(&headers(&[("origin", "null"), ("host", "h")])));
    }
}
