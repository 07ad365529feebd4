//! `/api/v1`: JSON in and out, errors as `{"error": {"code", "message"}}` with a stable code.

use crate::AppState;
use crate::status::browser_lang;
use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mamori_domain::JobId;
use mamori_domain::job::JobStatus;
use mamori_i18n::Lang;
use mamori_store::{ApiToken, JobQuery, JobScope, StoreError, hash_secret};
use serde::Deserialize;

pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, lang: Lang, key: &str) -> Self {
        Self { status, code, message: lang.t(key) }
    }

    fn store(e: StoreError, lang: Lang) -> Self {
        let (status, key) = match &e {
            StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "api-not-found"),
            StoreError::Invalid(_) | StoreError::Record(_) | StoreError::Finding(_) | StoreError::InRow { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "api-invalid")
            }
            StoreError::Conflict { .. } | StoreError::Referenced { .. } | StoreError::JobFinished { .. } => {
                (StatusCode::CONFLICT, "api-conflict")
            }
            _ => {
                tracing::error!(error = %e, "API request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "api-internal")
            }
        };
        Self { status, code: e.code(), message: lang.t(key) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({"error": {"code": self.code, "message": self.message}}));
        let mut res = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// The API token that authenticated the request.
#[derive(Clone)]
pub(crate) struct Caller(pub ApiToken);

pub(crate) async fn require_token(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let lang = browser_lang(req.headers());
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(secret) = presented else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", lang, "api-unauthenticated").into_response();
    };
    match state.store.use_api_token(&hash_secret(secret)).await {
        Ok(Some(token)) => {
            req.extensions_mut().insert(Caller(token));
            next.run(req).await
        }
        Ok(None) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", lang, "api-unauthenticated").into_response()
        }
        Err(e) => ApiError::store(e, lang).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct JobsParams {
    institution: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
}

pub(crate) async fn list_jobs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<JobsParams>,
) -> Result<Response, ApiError> {
    let lang = browser_lang(&headers);
    let bad = || ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-request", lang, "api-invalid");
    let scope = match p.institution.as_deref() {
        None => JobScope::All,
        Some(s) => JobScope::Institution(s.parse().map_err(|_| bad())?),
    };
    let status = p.status.as_deref().map(|s| JobStatus::parse(s).ok_or_else(bad)).transpose()?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let jobs = state.store.list_jobs(&JobQuery { scope, status, limit }).await.map_err(|e| ApiError::store(e, lang))?;
    Ok(Json(serde_json::json!({"jobs": jobs})).into_response())
}

fn job_id(s: &str, lang: Lang) -> Result<JobId, ApiError> {
    s.parse().map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not-found", lang, "api-not-found"))
}

pub(crate) async fn get_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lang = browser_lang(&headers);
    let id = job_id(&id, lang)?;
    match state.store.get_job(id).await.map_err(|e| ApiError::store(e, lang))? {
        Some(job) => Ok(Json(job).into_response()),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not-found", lang, "api-not-found")),
    }
}

pub(crate) async fn cancel_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lang = browser_lang(&headers);
    let id = job_id(&id, lang)?;
    let actor = format!("token:{}", caller.0.id);
    let job = state.store.request_job_cancel(id, &actor).await.map_err(|e| ApiError::store(e, lang))?;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

pub(crate) async fn not_found(headers: HeaderMap) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", browser_lang(&headers), "api-not-found")
}
