//! A running server with a real store, users with known secrets, and a cookie-aware client.

use mamori_domain::auth::{Membership, Role, User};
use mamori_domain::institution::{Institution, InstitutionKind};
use mamori_domain::{ApiTokenId, UserId, time_fmt};
use mamori_jobs::JobRunner;
use mamori_store::{ApiToken, DbSettings, OpenOptions, Scope, Store, hash_secret, new_secret};
use mamori_web::security::{Totp, hash_password, unix_now};
use mamori_web::{AppState, InstallationKey, Throttle};
use sqlx::Connection;
use std::collections::HashMap;
use std::sync::Arc;

pub const PASSWORD: &str = "k7#vLq2m9!";

pub struct Kit {
    pub rt: tokio::runtime::Runtime,
    pub url: String,
    pub store: Arc<dyn Store>,
    pub key: InstallationKey,
    _dir: Option<tempfile::TempDir>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub struct TestUser {
    pub user: User,
    pub totp: Totp,
}

pub enum Backend {
    Sqlite,
    Postgres,
}

impl Kit {
    pub fn start(backend: Backend) -> Kit {
        Self::with_throttle(backend, 10_000)
    }

    pub fn with_throttle(backend: Backend, limit: usize) -> Kit {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (settings, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                (DbSettings::Sqlite { path: dir.path().join("m.db") }, Some(dir))
            }
            Backend::Postgres => (DbSettings::Postgres { url: rt.block_on(fresh_pg()) }, None),
        };
        let store = rt.block_on(mamori_store::open(&settings, OpenOptions { create: true, migrate: true })).unwrap();
        let key = InstallationKey::generate();
        let mut state = AppState::new(store.clone(), JobRunner::new(store.clone()), key.clone(), false);
        state.throttle = Arc::new(Throttle::with_limit(limit));
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        rt.spawn(async move {
            mamori_web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        // The first administrator exists: setup is done.
        let done = mamori_domain::audit::AuditDraft::new("test", "setup.completed");
        rt.block_on(store.set_setting(mamori_store::SETUP_DONE_SETTING, "now", &done)).unwrap();
        Kit { rt, url, store, key, _dir: dir, _stop: tx }
    }

    pub fn institution(&self, name: &str) -> Scope {
        let i = Institution::new(name, InstitutionKind::Clinic).unwrap();
        self.rt.block_on(self.store.create_institution(&i, "test")).unwrap()
    }

    /// A user with password [`PASSWORD`] and an enrolled authenticator.
    pub fn user(&self, login: &str, installation_admin: bool, roles: &[(Scope, Role)]) -> TestUser {
        let totp = Totp::generate(login);
        let now = time_fmt::now();
        let user = User {
            id: UserId::new(),
            login: login.into(),
            display_name: format!("{login} さん"),
            password_hash: hash_password(PASSWORD).unwrap(),
            totp_secret: Some(totp.seal(&self.key)),
            totp_last_step: None,
            installation_admin,
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            password_changed_at: now,
            last_login_at: None,
            created_at: now,
        };
        let m: Vec<Membership> = roles
            .iter()
            .map(|(s, r)| Membership { user_id: user.id, institution_id: s.institution(), role: *r })
            .collect();
        self.rt.block_on(self.store.create_user(&user, &m, "test")).unwrap();
        TestUser { user, totp }
    }

    /// A personal API token of `u` (optionally narrowed).
    pub fn token(&self, u: &TestUser, inst: Option<&Scope>, role: Option<Role>) -> String {
        let secret = format!("mamori_{}", new_secret());
        let t = ApiToken {
            id: ApiTokenId::new(),
            name: "test".into(),
            token_hash: hash_secret(&secret),
            user_id: Some(u.user.id),
            institution_id: inst.map(|s| s.institution()),
            role,
            created_by: "test".into(),
            created_at: time_fmt::now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.rt.block_on(self.store.insert_api_token(&t)).unwrap();
        secret
    }

    pub fn client(&self) -> Client {
        Client { base: self.url.clone(), cookies: HashMap::new(), csrf: None }
    }

    /// Logs in through the forms (password, then TOTP) and returns the logged-in client.
    pub fn login(&self, u: &TestUser) -> Client {
        let mut c = self.client();
        // Forget the last accepted step so each test login can use the current code.
        let mut fresh = self.rt.block_on(self.store.get_user(u.user.id)).unwrap().unwrap();
        fresh.totp_last_step = None;
        self.rt
            .block_on(self.store.update_user(&fresh, &mamori_domain::audit::AuditDraft::new("test", "test.reset_step")))
            .unwrap();
        let r = c.login_password(&u.user.login, PASSWORD);
        assert_eq!(r.status, 303, "password step: {}", r.body);
        assert_eq!(r.location(), "/login/mfa");
        let r = c.get("/login/mfa");
        assert_eq!(r.status, 200, "{}", r.body);
        c.csrf = r.csrf();
        let r = c.post("/login/mfa", &[("code", &u.totp.code_at(unix_now()))]);
        assert_eq!(r.status, 303, "code step: {}", r.body);
        assert_eq!(r.location(), "/dashboard");
        let r = c.get("/profile");
        assert_eq!(r.status, 200);
        c.csrf = r.csrf();
        c
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as sent (downloads).
    pub body_bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
    }
    /// The CSRF token of the page (hidden form field).
    pub fn csrf(&self) -> Option<String> {
        let i = self.body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
        Some(self.body[i..].split('"').next()?.to_owned())
    }
}

/// A browser-like client: keeps cookies, does not follow redirects, sends same-origin
/// headers on forms as a browser would.
pub struct Client {
    pub base: String,
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
}

impl Client {
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn take(&mut self, res: ureq::http::Response<ureq::Body>) -> Resp {
        let status = res.status().as_u16();
        let headers: Vec<(String, String)> =
            res.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
        }
        let mut res = res;
        let body_bytes = res.body_mut().with_config().limit(64 * 1024 * 1024).read_to_vec().unwrap_or_default();
        let body = String::from_utf8_lossy(&body_bytes).into_owned();
        Resp { status, headers, body, body_bytes }
    }

    pub fn get(&mut self, path: &str) -> Resp {
        let res =
            Self::agent().get(format!("{}{path}", self.base)).header("Cookie", self.cookie_header()).call().unwrap();
        self.take(res)
    }

    pub fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = Self::agent().get(format!("{}{path}", self.base)).header("Cookie", self.cookie_header());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.call().unwrap();
        self.take(res)
    }

    /// A form post with this client's CSRF token and same-origin headers.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let origin = self.base.clone();
        self.post_raw(path, &all, &[("Origin", &origin), ("Sec-Fetch-Site", "same-origin")])
    }

    pub fn post_raw(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let mut req = Self::agent()
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Content-Type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send(body.as_bytes()).unwrap();
        self.take(res)
    }

    /// A multipart upload as htmx sends it: the CSRF token in its header, same-origin.
    pub fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Resp {
        let boundary = format!("----mamori{}", uuid::Uuid::now_v7().simple());
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        if let Some((name, bytes)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let csrf = self.csrf.clone().unwrap_or_default();
        let res = Self::agent()
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .header("X-CSRF-Token", csrf)
            .header("HX-Request", "true")
            .header("Origin", self.base.clone())
            .header("Sec-Fetch-Site", "same-origin")
            .send(&body[..])
            .unwrap();
        self.take(res)
    }

    /// The password step; keeps the pre-session CSRF token from the login page.
    pub fn login_password(&mut self, login: &str, password: &str) -> Resp {
        let page = self.get("/login");
        self.csrf = page.csrf();
        self.post("/login", &[("login", login), ("password", password)])
    }

    pub fn api(&self, method: &str, path: &str, token: Option<&str>) -> Resp {
        let agent = Self::agent();
        let url = format!("{}{path}", self.base);
        let res = match method {
            "POST" => {
                let mut r = agent.post(url);
                if let Some(t) = token {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.header("Cookie", self.cookie_header()).send_empty()
            }
            _ => {
                let mut r = agent.get(url);
                if let Some(t) = token {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.header("Cookie", self.cookie_header()).call()
            }
        }
        .unwrap();
        let status = res.status().as_u16();
        let mut res = res;
        let body = res.body_mut().read_to_string().unwrap_or_default();
        Resp { status, headers: vec![], body_bytes: body.clone().into_bytes(), body }
    }
}

async fn fresh_pg() -> String {
    let server = std::env::var("MAMORI_TEST_PG_URL")
        .expect("MAMORI_TEST_PG_URL is not set: run scripts/test.sh, which starts a PostgreSQL server");
    let name = format!("mamori_web_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

pub fn unix() -> u64 {
    unix_now()
}
