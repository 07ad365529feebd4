//! mamori's HTTP server: the web UI (askama templates + vendored htmx, no build step) and the
//! REST API. This crate translates HTTP into calls on the store and the job runner; the
//! rules live in the domain. Security is middleware, not per-handler code: security headers,
//! session loading, CSRF, and an access check per route from one table (`routes`).
#![forbid(unsafe_code)]
// Page helpers return `Result<_, Response>` so a handler can hand back the error page as is;
// boxing the response would buy nothing on a request path.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod checklist_io;
mod csrf;
mod headers;
pub mod ledger_io;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod scan_io;
pub mod security;
pub mod session;
mod status;
pub mod tls;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use mamori_domain::auth::SessionPolicy;
use mamori_jobs::JobRunner;
use mamori_store::Store;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

pub use security::InstallationKey;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub runner: JobRunner,
    /// Seals TOTP seeds and pending setup state.
    pub key: InstallationKey,
    /// Served over TLS: cookies get `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
    pub sessions: SessionPolicy,
    pub throttle: Arc<Throttle>,
    /// Ledger files between upload and commit.
    pub uploads: Arc<pages::ledger_import::Uploads>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, runner: JobRunner, key: InstallationKey, secure_cookies: bool) -> Self {
        Self {
            store,
            runner,
            key,
            secure_cookies,
            sessions: SessionPolicy::default(),
            throttle: Arc::new(Throttle::default()),
            uploads: Arc::default(),
        }
    }
}

/// Failed logins per source address: past the limit within the window, login answers
/// "too many attempts" whatever the account.
#[derive(Debug)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    pub limit: usize,
    pub window: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Self { failures: Mutex::new(HashMap::new()), limit: 20, window: Duration::from_secs(15 * 60) }
    }
}

impl Throttle {
    pub fn with_limit(limit: usize) -> Self {
        Self { limit, ..Self::default() }
    }

    pub fn blocked(&self, ip: Option<&str>) -> bool {
        let Some(ip) = ip else { return false };
        let mut map = self.failures.lock().expect("throttle lock");
        let now = Instant::now();
        let list = map.entry(ip.to_owned()).or_default();
        list.retain(|t| now.duration_since(*t) < self.window);
        list.len() >= self.limit
    }

    pub fn fail(&self, ip: Option<&str>) {
        let Some(ip) = ip else { return };
        let mut map = self.failures.lock().expect("throttle lock");
        // Bounded memory under a spray of addresses: forget everything if it grows huge.
        if map.len() > 100_000 {
            map.clear();
        }
        map.entry(ip.to_owned()).or_default().push(Instant::now());
    }
}

/// The peer address of the connection (no proxy headers are trusted).
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string())))
    }
}

/// Whether the first administrator is still to be created.
pub async fn setup_pending(state: &AppState) -> Result<bool, mamori_store::StoreError> {
    Ok(state.store.get_setting(mamori_store::SETUP_DONE_SETTING).await?.is_none())
}

pub fn router(state: AppState) -> Router {
    routes::router(&state)
        .fallback(routes::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::load))
        .layer(axum::middleware::map_response(headers::security_headers))
        .with_state(state)
}

/// Serves plain HTTP until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
