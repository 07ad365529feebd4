//! Every route, with the access it requires, in one table. The router is built only from
//! this table and each route's check runs before its handler, so a route cannot be added
//! without an access rule; the security tests walk the same table for every role.

use crate::session::{Auth, PendingMfa};
use crate::{AppState, api, pages, status};
use axum::Router;
use axum::extract::{RawPathParams, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use mamori_domain::InstitutionId;
use mamori_domain::auth::Permission;
use mamori_store::Scope;
use std::collections::BTreeMap;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, static files, the status of setup).
    Public,
    /// Forms used before login (setup, login): anyone, with a pre-session CSRF token.
    PreAuth,
    /// A session whose TOTP step is still open.
    MfaPending,
    /// Any session, complete or not (logout).
    AnySession,
    /// A logged-in user.
    Authenticated,
    /// The installation administrator.
    InstallationAdmin,
    /// A logged-in user whose role in the `{inst}` of the path allows this.
    Institution(Permission),
    /// An API token; with a permission, for the `{inst}` of the path (or the token's own
    /// institution when the path has none).
    Api(Option<Permission>),
}

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

fn r(method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> Route {
    Route { method, path, access, handler }
}

/// The table. Keep it sorted by area; the tests read it.
pub fn table() -> Vec<Route> {
    use Access::*;
    use Method as M;
    use Permission as P;
    vec![
        r(M::GET, "/", Public, get(pages::index)),
        r(M::GET, "/healthz", Public, get(status::healthz)),
        r(M::GET, "/static/{file}", Public, get(pages::static_file)),
        r(M::GET, "/api/openapi.json", Public, get(api::openapi)),
        r(M::GET, "/lang/{lang}", Public, get(pages::set_lang)),
        // first run and login
        r(M::GET, "/setup", PreAuth, get(pages::setup::form)),
        r(M::POST, "/setup", PreAuth, post(pages::setup::submit)),
        r(M::POST, "/setup/confirm", PreAuth, post(pages::setup::confirm)),
        r(M::GET, "/login", PreAuth, get(pages::login::form)),
        r(M::POST, "/login", PreAuth, post(pages::login::submit)),
        r(M::GET, "/login/mfa", MfaPending, get(pages::login::mfa_form)),
        r(M::POST, "/login/mfa", MfaPending, post(pages::login::mfa_submit)),
        r(M::POST, "/logout", AnySession, post(pages::login::logout)),
        // everyone logged in
        r(M::GET, "/dashboard", Authenticated, get(pages::dashboard::choose)),
        r(M::GET, "/profile", Authenticated, get(pages::profile::show_route)),
        r(M::POST, "/profile/password", Authenticated, post(pages::profile::change_password)),
        r(M::POST, "/profile/mfa", Authenticated, post(pages::profile::mfa_start)),
        r(M::POST, "/profile/mfa/confirm", Authenticated, post(pages::profile::mfa_confirm)),
        r(M::POST, "/profile/tokens", Authenticated, post(pages::profile::token_create)),
        r(M::POST, "/profile/tokens/{token}/revoke", Authenticated, post(pages::profile::token_revoke)),
        // the installation administrator
        r(M::GET, "/admin/institutions", InstallationAdmin, get(pages::admin::institutions)),
        r(M::POST, "/admin/institutions", InstallationAdmin, post(pages::admin::institution_create)),
        r(M::POST, "/admin/demo", InstallationAdmin, post(pages::admin::demo_load)),
        r(M::GET, "/admin/users", InstallationAdmin, get(pages::admin::users)),
        r(M::POST, "/admin/users", InstallationAdmin, post(pages::admin::user_create)),
        r(M::POST, "/admin/users/{user}/disable", InstallationAdmin, post(pages::admin::user_disable)),
        r(M::POST, "/admin/users/{user}/enable", InstallationAdmin, post(pages::admin::user_enable)),
        r(M::POST, "/admin/users/{user}/revoke-sessions", InstallationAdmin, post(pages::admin::user_revoke_sessions)),
        r(M::POST, "/admin/users/{user}/reset-mfa", InstallationAdmin, post(pages::admin::user_reset_mfa)),
        r(M::POST, "/admin/users/{user}/password", InstallationAdmin, post(pages::admin::user_set_password)),
        r(M::GET, "/admin/editions", InstallationAdmin, get(pages::editions::list)),
        r(M::POST, "/admin/editions", InstallationAdmin, post(pages::editions::preview).layer(upload_limit())),
        r(M::POST, "/admin/editions/confirm", InstallationAdmin, post(pages::editions::confirm)),
        r(M::GET, "/admin/audit", InstallationAdmin, get(pages::audit::system)),
        r(M::POST, "/admin/audit/verify", InstallationAdmin, post(pages::audit::verify_system)),
        // one institution
        r(M::GET, "/i/{inst}", Institution(P::ViewDashboard), get(pages::dashboard::show)),
        r(M::GET, "/i/{inst}/ledgers/{kind}", Institution(P::ViewData), get(pages::ledgers::list)),
        r(M::POST, "/i/{inst}/ledgers/{kind}", Institution(P::EditData), post(pages::ledgers::create)),
        r(M::GET, "/i/{inst}/ledgers/{kind}/new", Institution(P::EditData), get(pages::ledgers::new_form)),
        r(M::GET, "/i/{inst}/ledgers/{kind}/export", Institution(P::ViewData), get(pages::ledgers::export_file)),
        r(M::GET, "/i/{inst}/ledgers/{kind}/template", Institution(P::ViewData), get(pages::ledgers::template_file)),
        r(M::GET, "/i/{inst}/ledgers/{kind}/import", Institution(P::EditData), get(pages::ledger_import::form)),
        r(
            M::POST,
            "/i/{inst}/ledgers/{kind}/import",
            Institution(P::EditData),
            post(pages::ledger_import::upload).layer(upload_limit()),
        ),
        r(
            M::GET,
            "/i/{inst}/ledgers/{kind}/import/{upload}",
            Institution(P::EditData),
            get(pages::ledger_import::preview),
        ),
        r(
            M::POST,
            "/i/{inst}/ledgers/{kind}/import/{upload}/mapping",
            Institution(P::EditData),
            post(pages::ledger_import::mapping),
        ),
        r(
            M::POST,
            "/i/{inst}/ledgers/{kind}/import/{upload}/commit",
            Institution(P::EditData),
            post(pages::ledger_import::commit),
        ),
        r(M::GET, "/i/{inst}/ledgers/{kind}/{id}", Institution(P::ViewData), get(pages::ledgers::show)),
        r(M::POST, "/i/{inst}/ledgers/{kind}/{id}", Institution(P::EditData), post(pages::ledgers::update)),
        r(M::GET, "/i/{inst}/ledgers/{kind}/{id}/edit", Institution(P::EditData), get(pages::ledgers::edit_form)),
        r(M::POST, "/i/{inst}/ledgers/{kind}/{id}/delete", Institution(P::EditData), post(pages::ledgers::delete)),
        r(
            M::POST,
            "/i/{inst}/ledgers/{kind}/{id}/attachment",
            Institution(P::EditData),
            post(pages::ledgers::attach).layer(upload_limit()),
        ),
        r(M::GET, "/i/{inst}/evidence/{id}/file", Institution(P::ViewData), get(pages::ledgers::attachment)),
        r(M::GET, "/i/{inst}/checklist", Institution(P::ViewData), get(pages::checklist::index)),
        r(M::GET, "/i/{inst}/checklist/{fy}/{form}", Institution(P::ViewData), get(pages::checklist::form)),
        r(M::GET, "/i/{inst}/checklist/{fy}/{form}/guide", Institution(P::ViewData), get(pages::checklist::guide)),
        r(M::POST, "/i/{inst}/checklist/{fy}/{form}/answer", Institution(P::EditData), post(pages::checklist::answer)),
        r(M::GET, "/i/{inst}/checklist/{fy}/{form}/export", Institution(P::ViewData), get(pages::checklist::export)),
        r(M::POST, "/i/{inst}/checklist/{fy}/vendors", Institution(P::EditData), post(pages::checklist::assign)),
        r(
            M::GET,
            "/i/{inst}/checklist/{fy}/vendor/{vendor}",
            Institution(P::ViewData),
            get(pages::checklist::vendor_form_view),
        ),
        r(
            M::GET,
            "/i/{inst}/checklist/{fy}/vendor/{vendor}/export",
            Institution(P::ViewData),
            get(pages::checklist::vendor_form_export),
        ),
        r(
            M::POST,
            "/i/{inst}/checklist/{fy}/vendor/{vendor}/import",
            Institution(P::EditData),
            post(pages::checklist::vendor_form_import).layer(upload_limit()),
        ),
        r(M::GET, "/i/{inst}/vendor-forms", Institution(P::VendorForms), get(pages::checklist::vendor_forms)),
        r(
            M::GET,
            "/i/{inst}/vendor-forms/{fy}/{vendor}",
            Institution(P::VendorForms),
            get(pages::checklist::vendor_answer_form),
        ),
        r(
            M::GET,
            "/i/{inst}/vendor-forms/{fy}/{vendor}/guide",
            Institution(P::VendorForms),
            get(pages::checklist::vendor_answer_guide),
        ),
        r(
            M::POST,
            "/i/{inst}/vendor-forms/{fy}/{vendor}/answer",
            Institution(P::VendorForms),
            post(pages::checklist::vendor_answer),
        ),
        r(M::GET, "/i/{inst}/documents", Institution(P::ViewData), get(pages::checklist::documents)),
        r(
            M::POST,
            "/i/{inst}/documents",
            Institution(P::EditData),
            post(pages::checklist::document_upload).layer(upload_limit()),
        ),
        r(
            M::POST,
            "/i/{inst}/documents/responsible",
            Institution(P::EditData),
            post(pages::checklist::set_responsible),
        ),
        r(M::GET, "/i/{inst}/scans", Institution(P::ViewData), get(pages::scans::list)),
        r(M::POST, "/i/{inst}/scans", Institution(P::RunJobs), post(pages::scans::start)),
        r(M::POST, "/i/{inst}/scans/import", Institution(P::RunJobs), post(pages::scans::import).layer(upload_limit())),
        r(M::POST, "/i/{inst}/scans/schedule", Institution(P::RunJobs), post(pages::scans::set_schedule)),
        r(M::POST, "/i/{inst}/scans/rules", Institution(P::RunJobs), post(pages::scans::set_rules)),
        r(M::GET, "/i/{inst}/scans/{id}", Institution(P::ViewData), get(pages::scans::show)),
        r(M::GET, "/i/{inst}/scans/{id}/export", Institution(P::ViewData), get(pages::scans::export)),
        r(M::GET, "/i/{inst}/findings", Institution(P::ViewData), get(pages::scans::findings)),
        r(M::POST, "/i/{inst}/findings/{id}/status", Institution(P::EditData), post(pages::scans::set_status)),
        r(M::GET, "/i/{inst}/jobs", Institution(P::ViewJobs), get(pages::jobs::list)),
        r(M::GET, "/i/{inst}/jobs/rows", Institution(P::ViewJobs), get(pages::jobs::rows)),
        r(M::POST, "/i/{inst}/jobs/{job}/cancel", Institution(P::CancelJobs), post(pages::jobs::cancel)),
        r(M::GET, "/i/{inst}/audit", Institution(P::ViewAudit), get(pages::audit::institution)),
        r(M::POST, "/i/{inst}/audit/verify", Institution(P::VerifyAudit), post(pages::audit::verify_institution)),
        r(M::GET, "/i/{inst}/users", Institution(P::ManageUsers), get(pages::users::list)),
        r(M::POST, "/i/{inst}/users", Institution(P::ManageUsers), post(pages::users::add)),
        r(M::POST, "/i/{inst}/users/{user}/role", Institution(P::ManageUsers), post(pages::users::set_role)),
        // REST API (bearer tokens only; cookies are ignored there)
        r(M::GET, "/api/v1/me", Api(None), get(api::me)),
        r(M::GET, "/api/v1/institutions", Api(None), get(api::institutions)),
        r(M::GET, "/api/v1/jobs", Api(None), get(api::list_jobs)),
        r(M::GET, "/api/v1/jobs/{id}", Api(None), get(api::get_job)),
        r(M::POST, "/api/v1/jobs/{id}/cancel", Api(None), post(api::cancel_job)),
        r(M::GET, "/api/v1/institutions/{inst}/audit", Api(Some(P::ViewAudit)), get(api::audit_events)),
    ]
}

/// Uploads (ledger files, attached documents) may be larger than axum's 2 MB default.
fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(pages::ledger_import::MAX_UPLOAD_BYTES + 64 * 1024)
}

/// Builds the router from [`table`], each route behind its access check.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for route in table() {
        let guarded = route.handler.layer(from_fn_with_state((state.clone(), route.access), authorize));
        let entry = by_path.remove(route.path);
        by_path.insert(
            route.path,
            match entry {
                Some(existing) => existing.merge(guarded),
                None => guarded,
            },
        );
    }
    by_path.into_iter().fold(Router::new(), |router, (path, mr)| router.route(path, mr))
}

fn institution_param(params: &RawPathParams) -> Option<Result<InstitutionId, ()>> {
    params.iter().find(|(k, _)| *k == "inst").map(|(_, v)| v.parse().map_err(|_| ()))
}

async fn authorize(
    State((state, access)): State<(AppState, Access)>,
    params: RawPathParams,
    mut req: Request,
    next: Next,
) -> Response {
    let auth = req.extensions().get::<Auth>().cloned();
    let lang = pages::lang_of(&req);
    match access {
        Access::Public | Access::PreAuth => next.run(req).await,
        Access::MfaPending => {
            if req.extensions().get::<PendingMfa>().is_some() {
                next.run(req).await
            } else {
                Redirect::to("/login").into_response()
            }
        }
        Access::AnySession => {
            if auth.is_some() || req.extensions().get::<PendingMfa>().is_some() {
                next.run(req).await
            } else {
                Redirect::to("/login").into_response()
            }
        }
        Access::Authenticated => match auth {
            Some(_) => next.run(req).await,
            None => Redirect::to("/login").into_response(),
        },
        Access::InstallationAdmin => match auth {
            Some(a) if a.user.installation_admin => next.run(req).await,
            Some(_) => pages::forbidden(lang),
            None => Redirect::to("/login").into_response(),
        },
        Access::Institution(p) => {
            let Some(auth) = auth else { return Redirect::to("/login").into_response() };
            let Some(Ok(inst)) = institution_param(&params) else { return pages::not_found(lang) };
            // Same answer for "no such institution" and "not yours": nothing to enumerate.
            if !auth.can(inst, p) {
                return pages::forbidden(lang);
            }
            match state.store.scope(inst).await {
                Ok(scope) => {
                    req.extensions_mut().insert::<Scope>(scope);
                    next.run(req).await
                }
                Err(_) => pages::forbidden(lang),
            }
        }
        Access::Api(p) => {
            let caller = match api::authenticate(&state, req.headers()).await {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            };
            if let Some(p) = p {
                let inst = match institution_param(&params) {
                    Some(Ok(i)) => Some(i),
                    Some(Err(())) => return api::ApiError::not_found(lang).into_response(),
                    None => caller.token.institution_id,
                };
                match inst {
                    Some(i) if caller.can(i, p) => match state.store.scope(i).await {
                        Ok(scope) => {
                            req.extensions_mut().insert::<Scope>(scope);
                        }
                        Err(_) => return api::ApiError::forbidden(lang).into_response(),
                    },
                    _ => return api::ApiError::forbidden(lang).into_response(),
                }
            }
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
    }
}

/// 404 for anything not in the table, in the page or API style.
pub(crate) async fn fallback(req: Request) -> Response {
    let lang = pages::lang_of(&req);
    if req.uri().path().starts_with("/api/") {
        api::ApiError::not_found(lang).into_response()
    } else {
        let mut res = pages::not_found(lang);
        *res.status_mut() = StatusCode::NOT_FOUND;
        res
    }
}
