//! The API's types as the API shows them, and the OpenAPI document generated from them and
//! from the handlers' annotations (`/api/openapi.json`). These view types keep the wire
//! format stable while domain types evolve, and keep HTTP concerns out of the domain crate.

use mamori_domain::audit::AuditEvent;
use mamori_domain::auth::Membership;
use mamori_domain::institution::Institution;
use mamori_domain::job::Job;
use mamori_domain::time_fmt;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiInstitution {
    /// UUID
    pub id: String,
    pub name: String,
    /// `clinic`, `hospital`, `pharmacy` or `other`
    pub kind: String,
    pub medical_code: Option<String>,
    pub demo: bool,
    /// RFC 3339
    pub created_at: String,
}

impl From<Institution> for ApiInstitution {
    fn from(i: Institution) -> Self {
        Self {
            id: i.id.to_string(),
            name: i.name,
            kind: i.kind.as_str().into(),
            medical_code: i.medical_code,
            demo: i.demo,
            created_at: time_fmt::format(i.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiJob {
    pub id: String,
    pub institution_id: Option<String>,
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled` or `interrupted`
    pub status: String,
    pub progress_done: u64,
    pub progress_total: Option<u64>,
    pub message: Option<String>,
    #[schema(value_type = Object)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_by: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl From<Job> for ApiJob {
    fn from(j: Job) -> Self {
        Self {
            id: j.id.to_string(),
            institution_id: j.institution_id.map(|i| i.to_string()),
            kind: j.kind,
            status: j.status.as_str().into(),
            progress_done: j.progress_done,
            progress_total: j.progress_total,
            message: j.message,
            result: j.result,
            error: j.error,
            cancel_requested: j.cancel_requested,
            created_by: j.created_by,
            created_at: time_fmt::format(j.created_at),
            started_at: j.started_at.map(time_fmt::format),
            finished_at: j.finished_at.map(time_fmt::format),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAuditEvent {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// Canonical JSON text, exactly as hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEvent> for ApiAuditEvent {
    fn from(e: AuditEvent) -> Self {
        Self {
            seq: e.seq,
            at: time_fmt::format(e.at),
            actor: e.actor,
            action: e.action,
            object_kind: e.object_kind,
            object_id: e.object_id,
            details: e.details,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiMembership {
    pub institution_id: String,
    /// `admin`, `operator`, `auditor` or `vendor`
    pub role: String,
}

impl From<&Membership> for ApiMembership {
    fn from(m: &Membership) -> Self {
        Self { institution_id: m.institution_id.to_string(), role: m.role.as_str().into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiUser {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub installation_admin: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    /// The one institution the token is limited to, if any.
    pub institution_id: Option<String>,
    /// The role the token is limited to, if any.
    pub role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiMe {
    pub token: ApiTokenInfo,
    /// Absent for a console token (`mamori token create`).
    pub user: Option<ApiUser>,
    pub memberships: Vec<ApiMembership>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionList {
    pub institutions: Vec<ApiInstitution>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<ApiJob>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub events: Vec<ApiAuditEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, e.g. `unauthenticated`, `forbidden`, `not-found`, `job-finished`.
    pub code: String,
    /// In the language of `Accept-Language` (Japanese by default).
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "mamori API", description = "Bearer API tokens (personal tokens from the profile page, or console tokens from `mamori token create`)."),
    paths(
        crate::api::me,
        crate::api::institutions,
        crate::api::list_jobs,
        crate::api::get_job,
        crate::api::cancel_job,
        crate::api::audit_events,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{Access, table};

    #[test]
    fn every_api_route_is_documented_with_bearer_auth() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let api: Vec<_> = table().into_iter().filter(|r| matches!(r.access, Access::Api(_))).collect();
        assert!(!api.is_empty());
        for r in &api {
            let method = r.method.as_str().to_ascii_lowercase();
            assert!(
                paths.get(r.path).and_then(|p| p.get(&method)).is_some(),
                "{} {} is not in the OpenAPI document",
                r.method,
                r.path
            );
        }
        assert_eq!(
            paths.len(),
            api.iter().map(|r| r.path).collect::<std::collections::BTreeSet<_>>().len(),
            "no undocumented extras"
        );
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        assert!(doc["components"]["schemas"]["ApiJob"]["properties"]["status"].is_object());
    }
}
