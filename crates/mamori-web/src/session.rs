//! Server-side sessions. The cookie carries a random 256-bit secret; the store keeps only its
//! hash, so a database copy cannot be replayed as a login. A session is either "MFA pending"
//! (password checked, TOTP not yet) or full; logging in always makes a new session id.

use crate::AppState;
use crate::security::random_token;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use mamori_domain::InstitutionId;
use mamori_domain::auth::{Membership, Permission, Role, Session, User};
use mamori_domain::time_fmt;
use mamori_store::hash_secret;

/// The logged-in user of a request (full sessions only).
#[derive(Clone, Debug)]
pub struct Auth {
    pub user: User,
    pub session: Session,
    pub memberships: Vec<Membership>,
}

/// A session whose password step is done but whose TOTP step is not.
#[derive(Clone, Debug)]
pub struct PendingMfa {
    pub user: User,
    pub session: Session,
}

impl Auth {
    /// The user's role in an institution; the installation administrator is システム管理者
    /// everywhere.
    pub fn role_in(&self, inst: InstitutionId) -> Option<Role> {
        if self.user.installation_admin {
            return Some(Role::Admin);
        }
        self.memberships.iter().find(|m| m.institution_id == inst).map(|m| m.role)
    }

    pub fn can(&self, inst: InstitutionId, p: Permission) -> bool {
        self.role_in(inst).is_some_and(|r| r.allows(p))
    }
}

pub(crate) fn cookie_name(secure: bool) -> &'static str {
    // `__Host-` makes the browser refuse the cookie unless Secure, Path=/ and no Domain.
    if secure { "__Host-mamori_session" } else { "mamori_session" }
}

pub(crate) fn pre_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-mamori_pre" } else { "mamori_pre" }
}

pub(crate) fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| cookie::Cookie::parse(c.trim().to_owned()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// `Set-Cookie` for a session-like secret: HttpOnly, SameSite=Strict, Path=/, Secure under
/// TLS; no Max-Age, so it ends with the browser session (the server enforces timeouts).
pub(crate) fn set_cookie(name: &str, value: &str, secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((name, value))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .secure(secure)
        .build();
    HeaderValue::from_str(&c.to_string()).expect("cookie is ASCII")
}

pub(crate) fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((name, ""))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&c.to_string()).expect("cookie is ASCII")
}

/// A redirect that also hands the browser its new session cookie.
pub(crate) fn redirect_with_session(state: &AppState, secret: &str, to: &str) -> Response {
    use axum::response::IntoResponse;
    let mut res = axum::response::Redirect::to(to).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(cookie_name(state.secure_cookies), secret, state.secure_cookies));
    res
}

/// Creates a session and returns its cookie value (the only copy of the secret).
pub(crate) async fn start(
    state: &AppState,
    user: &User,
    mfa_pending: bool,
    headers: &HeaderMap,
    ip: Option<String>,
) -> Result<String, mamori_store::StoreError> {
    let secret = random_token();
    let now = time_fmt::now();
    // A pending session lives only long enough to type a code.
    let absolute = if mfa_pending { time::Duration::minutes(5) } else { state.sessions.absolute };
    let session = Session {
        id_hash: hash_secret(&secret),
        user_id: user.id,
        csrf_token: random_token(),
        mfa_pending,
        created_at: now,
        last_seen_at: now,
        expires_at: now + absolute,
        ip,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect()),
    };
    state.store.insert_session(&session).await?;
    Ok(secret)
}

/// Loads the session named by the cookie into the request as [`Auth`] or [`PendingMfa`].
/// Expired and idle sessions are deleted; activity is recorded at most once a minute.
pub(crate) async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(secret) = read_cookie(req.headers(), cookie_name(state.secure_cookies)) {
        let id_hash = hash_secret(&secret);
        // An open page refreshing itself (htmx polling) is not the user doing something.
        let activity = !(req.method() == axum::http::Method::GET && req.headers().contains_key("hx-request"));
        match resolve(&state, &id_hash, activity).await {
            Ok(Some((user, session))) if session.mfa_pending => {
                req.extensions_mut().insert(PendingMfa { user, session });
            }
            Ok(Some((user, session))) => match state.store.memberships(user.id).await {
                Ok(memberships) => {
                    req.extensions_mut().insert(Auth { user, session, memberships });
                }
                Err(e) => tracing::error!(error = %e, "loading memberships failed"),
            },
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "loading the session failed"),
        }
    }
    next.run(req).await
}

async fn resolve(
    state: &AppState,
    id_hash: &str,
    activity: bool,
) -> Result<Option<(User, Session)>, mamori_store::StoreError> {
    let Some(session) = state.store.get_session(id_hash).await? else { return Ok(None) };
    let now = time_fmt::now();
    if !state.sessions.is_live(&session, now) {
        state.store.delete_session(id_hash).await?;
        return Ok(None);
    }
    let Some(user) = state.store.get_user(session.user_id).await? else { return Ok(None) };
    if user.disabled {
        state.store.delete_session(id_hash).await?;
        return Ok(None);
    }
    if activity && now - session.last_seen_at > time::Duration::minutes(1) {
        state.store.touch_session(id_hash, now).await?;
    }
    Ok(Some((user, session)))
}
