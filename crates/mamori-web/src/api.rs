//! `/api/v1`: JSON, bearer API tokens only (cookies are never read here, so CSRF does not
//! apply). A token acts with at most its user's rights, narrowed to its institution and
//! role; a console token (`mamori token create`) acts as the installation administrator.
//! Errors are `{"error": {"code", "message"}}` with a stable code.

use crate::AppState;
use crate::openapi::{
    ApiAuditEvent, ApiInstitution, ApiJob, ApiMe, ApiMembership, ApiTokenInfo, ApiUser, AuditList, ErrorBody,
    InstitutionList, JobList,
};
use crate::pages::lang_from_headers;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_domain::auth::{Membership, Permission, User};
use mamori_domain::job::{Job, JobStatus};
use mamori_domain::{InstitutionId, JobId};
use mamori_i18n::Lang;
use mamori_store::{ApiToken, JobQuery, JobScope, Scope, StoreError, StoreExt, hash_secret};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, lang: Lang, key: &str) -> Self {
        Self { status, code, message: lang.t(key) }
    }
    pub fn not_found(lang: Lang) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", lang, "api-not-found")
    }
    pub fn forbidden(lang: Lang) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", lang, "api-forbidden")
    }
    fn invalid(lang: Lang) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-request", lang, "api-invalid")
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

/// Who is calling the API.
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub token: ApiToken,
    /// `None` for a console token.
    pub user: Option<User>,
    pub memberships: Vec<Membership>,
}

impl ApiCaller {
    fn admin(&self) -> bool {
        self.user.as_ref().is_none_or(|u| u.installation_admin)
    }

    /// The user's right, narrowed by the token's institution and role.
    pub fn can(&self, inst: InstitutionId, p: Permission) -> bool {
        if self.token.institution_id.is_some_and(|i| i != inst) {
            return false;
        }
        if self.token.role.is_some_and(|r| !r.allows(p)) {
            return false;
        }
        self.admin() || self.memberships.iter().any(|m| m.institution_id == inst && m.role.allows(p))
    }

    /// Installation-wide work (jobs of no institution): console or administrator tokens
    /// not narrowed to one institution.
    fn can_system(&self, p: Permission) -> bool {
        self.admin() && self.token.institution_id.is_none() && self.token.role.is_none_or(|r| r.allows(p))
    }

    fn actor(&self) -> String {
        format!("token:{}", self.token.id)
    }
}

pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<ApiCaller, ApiError> {
    let lang = lang_from_headers(headers);
    let unauthenticated = || ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", lang, "api-unauthenticated");
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthenticated)?;
    let token = state
        .store
        .use_api_token(&hash_secret(secret))
        .await
        .map_err(|e| ApiError::store(e, lang))?
        .ok_or_else(unauthenticated)?;
    let (user, memberships) = match token.user_id {
        None => (None, vec![]),
        Some(uid) => {
            let user =
                state.store.get_user(uid).await.map_err(|e| ApiError::store(e, lang))?.ok_or_else(unauthenticated)?;
            if user.disabled {
                return Err(unauthenticated());
            }
            let m = state.store.memberships(uid).await.map_err(|e| ApiError::store(e, lang))?;
            (Some(user), m)
        }
    };
    Ok(ApiCaller { token, user, memberships })
}

/// The OpenAPI document of this API.
pub async fn openapi() -> Response {
    Json(crate::openapi::ApiDoc::openapi()).into_response()
}

/// Who the token belongs to and what it may reach.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = ApiMe), (status = 401, body = ErrorBody)))]
pub async fn me(Extension(c): Extension<ApiCaller>) -> Json<ApiMe> {
    Json(ApiMe {
        token: ApiTokenInfo {
            id: c.token.id.to_string(),
            name: c.token.name.clone(),
            institution_id: c.token.institution_id.map(|i| i.to_string()),
            role: c.token.role.map(|r| r.as_str().to_owned()),
        },
        user: c.user.as_ref().map(|u| ApiUser {
            id: u.id.to_string(),
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            installation_admin: u.installation_admin,
        }),
        memberships: c.memberships.iter().map(ApiMembership::from).collect(),
    })
}

/// The institutions the token may see.
#[utoipa::path(get, path = "/api/v1/institutions", responses((status = 200, body = InstitutionList), (status = 401, body = ErrorBody)))]
pub async fn institutions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(c): Extension<ApiCaller>,
) -> Result<Response, ApiError> {
    let lang = lang_from_headers(&headers);
    let list: Vec<_> = state
        .store
        .list_institutions()
        .await
        .map_err(|e| ApiError::store(e, lang))?
        .into_iter()
        .filter(|i| c.can(i.id, Permission::ViewDashboard))
        .map(ApiInstitution::from)
        .collect();
    Ok(Json(InstitutionList { institutions: list }).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsParams {
    /// Institution ID; required unless the token is installation-wide.
    institution: Option<String>,
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled` or `interrupted`
    status: Option<String>,
    /// 1–1000, default 100
    limit: Option<u32>,
}

fn may_view(c: &ApiCaller, job: &Job, p: Permission) -> bool {
    match job.institution_id {
        Some(i) => c.can(i, p),
        None => c.can_system(p),
    }
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", params(JobsParams), responses((status = 200, body = JobList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(c): Extension<ApiCaller>,
    Query(p): Query<JobsParams>,
) -> Result<Response, ApiError> {
    let lang = lang_from_headers(&headers);
    let scope = match p.institution.as_deref() {
        None if c.can_system(Permission::ViewJobs) => JobScope::All,
        None => match c.token.institution_id {
            Some(i) => JobScope::Institution(i),
            None => return Err(ApiError::invalid(lang)),
        },
        Some(s) => {
            let i: InstitutionId = s.parse().map_err(|_| ApiError::invalid(lang))?;
            if !c.can(i, Permission::ViewJobs) {
                return Err(ApiError::forbidden(lang));
            }
            JobScope::Institution(i)
        }
    };
    let status = p.status.as_deref().map(|s| JobStatus::parse(s).ok_or_else(|| ApiError::invalid(lang))).transpose()?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let jobs = state.store.list_jobs(&JobQuery { scope, status, limit }).await.map_err(|e| ApiError::store(e, lang))?;
    let jobs: Vec<ApiJob> =
        jobs.into_iter().filter(|j| may_view(&c, j, Permission::ViewJobs)).map(ApiJob::from).collect();
    Ok(Json(JobList { jobs }).into_response())
}

async fn visible_job(state: &AppState, c: &ApiCaller, id: &str, p: Permission, lang: Lang) -> Result<Job, ApiError> {
    let id: JobId = id.parse().map_err(|_| ApiError::not_found(lang))?;
    match state.store.get_job(id).await.map_err(|e| ApiError::store(e, lang))? {
        // Someone else's job does not exist, as far as this caller can tell.
        Some(job) if may_view(c, &job, Permission::ViewJobs) => {
            if may_view(c, &job, p) {
                Ok(job)
            } else {
                Err(ApiError::forbidden(lang))
            }
        }
        _ => Err(ApiError::not_found(lang)),
    }
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", params(("id" = String, Path, description = "Job ID")), responses((status = 200, body = ApiJob), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(c): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lang = lang_from_headers(&headers);
    Ok(Json(ApiJob::from(visible_job(&state, &c, &id, Permission::ViewJobs, lang).await?)).into_response())
}

/// Asks a job to stop (a queued job is cancelled at once).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", params(("id" = String, Path, description = "Job ID")), responses((status = 202, body = ApiJob), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(c): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lang = lang_from_headers(&headers);
    let job = visible_job(&state, &c, &id, Permission::CancelJobs, lang).await?;
    let job = state.store.request_job_cancel(job.id, &c.actor()).await.map_err(|e| ApiError::store(e, lang))?;
    Ok((StatusCode::ACCEPTED, Json(ApiJob::from(job))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// How many of the newest entries, 1–1000, default 100
    limit: Option<u32>,
}

/// The newest entries of an institution's audit log (needs the audit permission there).
#[utoipa::path(get, path = "/api/v1/institutions/{inst}/audit", params(("inst" = String, Path, description = "Institution ID"), AuditParams), responses((status = 200, body = AuditList), (status = 403, body = ErrorBody)))]
pub async fn audit_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(scope): Extension<Scope>,
    Query(p): Query<AuditParams>,
) -> Result<Response, ApiError> {
    let lang = lang_from_headers(&headers);
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let events = state.store.latest_audit_events(scope.chain(), limit).await.map_err(|e| ApiError::store(e, lang))?;
    Ok(Json(AuditList { events: events.into_iter().map(ApiAuditEvent::from).collect() }).into_response())
}
