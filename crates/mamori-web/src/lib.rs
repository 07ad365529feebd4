//! mamori's HTTP server. Today: health, a status page, and the jobs API under `/api/v1`
//! (bearer API tokens). The web UI with login, MFA, roles and CSRF grows here; this crate
//! only translates HTTP to calls on the store and the job runner, it holds no business rules.
#![forbid(unsafe_code)]

mod api;
mod headers;
mod status;

use axum::Router;
use axum::routing::{get, post};
use mamori_jobs::JobRunner;
use mamori_store::Store;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub runner: JobRunner,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/jobs", get(api::list_jobs))
        .route("/jobs/{id}", get(api::get_job))
        .route("/jobs/{id}/cancel", post(api::cancel_job))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), api::require_token));
    Router::new()
        .route("/", get(status::page))
        .route("/healthz", get(status::healthz))
        .nest("/api/v1", api)
        .fallback(api::not_found)
        .layer(axum::middleware::map_response(headers::security_headers))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
