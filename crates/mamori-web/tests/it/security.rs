//! Attacks a clinic's server will see, each against the real server.

use crate::kit::{Backend, Kit, PASSWORD, unix};
use mamori_domain::auth::Role;
use mamori_domain::job::Job;

#[test]
fn csrf_is_refused_without_the_token_or_from_another_site() {
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("A");
    let admin = kit.user("admin1", true, &[(a, Role::Admin)]);
    let mut c = kit.login(&admin);
    let path = format!("/i/{}/users", a.institution());
    let origin = kit.url.clone();
    let form =
        [("mode", "new"), ("login", "newuser"), ("display_name", "新規"), ("password", PASSWORD), ("role", "auditor")];
    // No token.
    let r = c.post_raw(&path, &form, &[("Origin", &origin)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("操作を受け付けられませんでした"));
    // A wrong token.
    let mut with_bad = vec![("csrf", "forged")];
    with_bad.extend_from_slice(&form);
    assert_eq!(c.post_raw(&path, &with_bad, &[("Origin", &origin)]).status, 403);
    // The right token from another site.
    let token = c.csrf.clone().unwrap();
    let mut with_good = vec![("csrf", token.as_str())];
    with_good.extend_from_slice(&form);
    assert_eq!(c.post_raw(&path, &with_good, &[("Origin", "http://evil.example")]).status, 403);
    assert_eq!(c.post_raw(&path, &with_good, &[("Sec-Fetch-Site", "cross-site")]).status, 403);
    assert!(kit.rt.block_on(kit.store.find_user_by_login("newuser")).unwrap().is_none(), "nothing was created");
    // The same request from the page itself works (htmx sends the header instead).
    let r = c.post_raw(&path, &with_good, &[("Origin", &origin), ("Sec-Fetch-Site", "same-origin")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(kit.rt.block_on(kit.store.find_user_by_login("newuser")).unwrap().is_some());
    // The login form needs its pre-session token too.
    let mut fresh = kit.client();
    let r = fresh.post_raw("/login", &[("login", "admin1"), ("password", PASSWORD)], &[]);
    assert_eq!(r.status, 403);
}

#[test]
fn repeated_failures_lock_the_account_and_say_nothing_specific() {
    let kit = Kit::start(Backend::Sqlite);
    let u = kit.user("clerk1", false, &[]);
    let mut c = kit.client();
    let unknown = c.login_password("nobody1", "Wrong#pass1");
    for _ in 0..5 {
        let r = c.login_password("clerk1", "Wrong#pass1");
        assert_eq!(r.status, 401);
        assert!(r.body.contains("ログイン名またはパスワードが正しくないか"));
    }
    // Locked now: even the right password fails, with the same message.
    let r = c.login_password("clerk1", PASSWORD);
    assert_eq!(r.status, 401);
    assert!(r.body.contains("ログイン名またはパスワードが正しくないか"));
    assert_eq!(
        r.body.len() - r.body.matches("clerk1").count() * 6,
        unknown.body.len() - unknown.body.matches("nobody1").count() * 7,
        "the same page for an unknown login and a locked one"
    );
    let locked = kit.rt.block_on(kit.store.get_user(u.user.id)).unwrap().unwrap();
    assert!(locked.is_locked(mamori_domain::time_fmt::now()));
    let events = kit.rt.block_on(kit.store.audit_events(mamori_domain::audit::Chain::System, 0, 1000)).unwrap();
    let reasons: Vec<String> = events
        .iter()
        .filter(|e| e.action == "auth.login_failed")
        .map(|e| serde_json::from_str::<serde_json::Value>(&e.details).unwrap()["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["unknown-login", "password", "password", "password", "password", "password", "locked"]);
}

#[test]
fn one_address_is_throttled_whatever_the_account() {
    let kit = Kit::with_throttle(Backend::Sqlite, 3);
    let u = kit.user("clerk1", false, &[]);
    let mut c = kit.client();
    for i in 0..3 {
        assert_eq!(c.login_password(&format!("guess{i}"), "Wrong#pass1").status, 401);
    }
    let r = c.login_password("clerk1", PASSWORD);
    assert_eq!(r.status, 429, "throttled even with the right password");
    assert!(
        !kit.rt.block_on(kit.store.get_user(u.user.id)).unwrap().unwrap().is_locked(mamori_domain::time_fmt::now())
    );
}

#[test]
fn login_gives_a_new_session_and_safe_cookies() {
    let kit = Kit::start(Backend::Sqlite);
    let u = kit.user("clerk1", false, &[]);
    let mut c = kit.client();
    // An attacker-chosen session id is ignored, and never becomes the session.
    c.cookies.insert("mamori_session".into(), "attacker-fixed-value".into());
    let r = c.login_password("clerk1", PASSWORD);
    let pending = c.cookies["mamori_session"].clone();
    assert_ne!(pending, "attacker-fixed-value");
    let cookie = r.set_cookies().into_iter().find(|c| c.starts_with("mamori_session=")).unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP on loopback: Secure would drop the cookie");
    c.csrf = c.get("/login/mfa").csrf();
    let r = c.post("/login/mfa", &[("code", &u.totp.code_at(unix()))]);
    assert_eq!(r.status, 303);
    let full = c.cookies["mamori_session"].clone();
    assert_ne!(full, pending, "the password-only session is replaced after the code");
    // The pending session no longer works.
    let mut old = kit.client();
    old.cookies.insert("mamori_session".into(), pending);
    assert_eq!(old.get("/dashboard").location(), "/login");
    assert_eq!(c.get("/profile").status, 200);
}

#[test]
fn a_totp_code_is_accepted_once() {
    let kit = Kit::start(Backend::Sqlite);
    let u = kit.user("clerk1", false, &[]);
    let code = u.totp.code_at(unix());
    let mut first = kit.client();
    first.login_password("clerk1", PASSWORD);
    first.csrf = first.get("/login/mfa").csrf();
    assert_eq!(first.post("/login/mfa", &[("code", &code)]).status, 303);
    let mut second = kit.client();
    second.login_password("clerk1", PASSWORD);
    second.csrf = second.get("/login/mfa").csrf();
    let r = second.post("/login/mfa", &[("code", &code)]);
    assert_eq!(r.status, 401, "a replayed code is refused");
    assert!(r.body.contains("確認コードが正しくありません"));
}

#[test]
fn idle_sessions_end() {
    let kit = Kit::start(Backend::Sqlite);
    let u = kit.user("clerk1", false, &[]);
    let mut c = kit.login(&u);
    assert_eq!(c.get("/profile").status, 200);
    let sessions = kit.rt.block_on(kit.store.list_sessions(Some(u.user.id))).unwrap();
    let long_ago = mamori_domain::time_fmt::now() - time::Duration::minutes(31);
    for s in sessions {
        kit.rt.block_on(kit.store.touch_session(&s.id_hash, long_ago)).unwrap();
    }
    assert_eq!(c.get("/profile").location(), "/login");
}

#[test]
fn user_entered_text_is_escaped_everywhere() {
    let kit = Kit::start(Backend::Sqlite);
    let xss = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let a = kit.institution(xss);
    let admin = kit.user("admin1", true, &[(a, Role::Admin)]);
    let mut c = kit.login(&admin);
    let r = c.post(
        &format!("/i/{}/users", a.institution()),
        &[("mode", "new"), ("login", "xss1"), ("display_name", xss), ("password", PASSWORD), ("role", "auditor")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for path in [
        format!("/i/{}", a.institution()),
        format!("/i/{}/users", a.institution()),
        "/admin/institutions".into(),
        "/admin/users".into(),
        format!("/i/{}/audit", a.institution()),
        "/profile".into(),
    ] {
        let r = c.get(&path);
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.body.contains("<script>alert") && !r.body.contains("<img src=x"), "{path} renders raw markup");
    }
    let r = c.get(&format!("/i/{}/users", a.institution()));
    assert!(r.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "escaped, still readable");
}

fn tenant_isolation(backend: Backend) {
    let kit = Kit::start(backend);
    let a = kit.institution("A診療所");
    let b = kit.institution("B病院");
    let vendor = kit.user("vendor1", false, &[(a, Role::Vendor)]);
    let admin_a = kit.user("admin_a", false, &[(a, Role::Admin)]);
    let job_b = Job::new(Some(b.institution()), "scan", serde_json::Value::Null, "test");
    kit.rt.block_on(kit.store.insert_job(&job_b)).unwrap();
    // UI
    let mut v = kit.login(&vendor);
    assert_eq!(v.get(&format!("/i/{}", a.institution())).status, 200);
    for path in [
        format!("/i/{}", b.institution()),
        format!("/i/{}/jobs", b.institution()),
        format!("/i/{}/audit", b.institution()),
        format!("/i/{}/users", b.institution()),
    ] {
        assert_eq!(v.get(&path).status, 403, "{path}");
    }
    let mut adm = kit.login(&admin_a);
    assert_eq!(adm.get(&format!("/i/{}/users", a.institution())).status, 200);
    assert_eq!(adm.get(&format!("/i/{}/users", b.institution())).status, 403);
    let r = adm.post(&format!("/i/{}/jobs/{}/cancel", a.institution(), job_b.id), &[]);
    assert_eq!(r.status, 404, "B's job is not A's to cancel");
    assert!(!kit.rt.block_on(kit.store.get_job(job_b.id)).unwrap().unwrap().cancel_requested);
    let r = adm.get("/dashboard");
    assert!(!r.body.contains("B病院"));
    // API
    let t = kit.token(&vendor, None, None);
    let c = kit.client();
    let list = c.api("GET", "/api/v1/institutions", Some(&t));
    assert_eq!(list.status, 200);
    assert!(list.body.contains("A診療所") && !list.body.contains("B病院"), "{}", list.body);
    assert_eq!(c.api("GET", &format!("/api/v1/institutions/{}/audit", b.institution()), Some(&t)).status, 403);
    assert_eq!(c.api("GET", &format!("/api/v1/jobs?institution={}", b.institution()), Some(&t)).status, 403);
    assert_eq!(c.api("GET", &format!("/api/v1/jobs/{}", job_b.id), Some(&t)).status, 404);
    assert_eq!(c.api("GET", "/api/v1/jobs", Some(&t)).status, 422, "a user token must name its institution");
    // A token narrowed to A stays in A even for an administrator of both.
    let both = kit.user("admin_ab", false, &[(a, Role::Admin), (b, Role::Admin)]);
    let narrow = kit.token(&both, Some(&a), Some(Role::Auditor));
    assert_eq!(c.api("GET", &format!("/api/v1/institutions/{}/audit", a.institution()), Some(&narrow)).status, 200);
    assert_eq!(c.api("GET", &format!("/api/v1/institutions/{}/audit", b.institution()), Some(&narrow)).status, 403);
    assert_eq!(c.api("POST", &format!("/api/v1/jobs/{}/cancel", job_b.id), Some(&narrow)).status, 404);
}

#[test]
fn a_vendor_cannot_reach_another_institution_on_sqlite() {
    tenant_isolation(Backend::Sqlite);
}

#[test]
fn a_vendor_cannot_reach_another_institution_on_postgres() {
    tenant_isolation(Backend::Postgres);
}

#[test]
fn the_language_can_be_switched_and_stays_on_this_site() {
    let kit = Kit::start(Backend::Sqlite);
    let mut c = kit.client();
    assert!(c.get("/login").body.contains("ログイン名"));
    let referer = format!("{}/login", kit.url);
    let r = c.get_with("/lang/en", &[("Referer", &referer)]);
    assert_eq!((r.status, r.location()), (303, "/login"));
    assert!(c.get("/login").body.contains("Login name"));
    // A referer elsewhere does not become an open redirect.
    let r = c.get_with("/lang/ja", &[("Referer", "http://evil.example/phish")]);
    assert_eq!(r.location(), "/");
    assert!(c.get("/login").body.contains("ログイン名"));
    assert_eq!(c.get("/lang/xx").status, 404);
}

#[test]
fn an_administrator_can_reset_a_lost_authenticator() {
    let kit = Kit::start(Backend::Sqlite);
    let admin = kit.user("admin1", true, &[]);
    let clerk = kit.user("clerk1", false, &[]);
    let mut old_phone = kit.login(&clerk);
    let mut a = kit.login(&admin);
    let r = a.post(&format!("/admin/users/{}/reset-mfa", clerk.user.id), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(old_phone.get("/profile").location(), "/login", "the user's sessions ended");
    // Next login: password, then a new authenticator is enrolled on the code page.
    let mut c = kit.client();
    assert_eq!(c.login_password("clerk1", PASSWORD).location(), "/login/mfa");
    let page = c.get("/login/mfa");
    assert!(page.body.contains("<svg") && page.body.contains("totp-secret"), "enrolment page");
    let events = kit.rt.block_on(kit.store.audit_events(mamori_domain::audit::Chain::System, 0, 1000)).unwrap();
    assert!(events.iter().any(|e| e.action == "user.mfa_reset" && e.actor == format!("user:{}", admin.user.id)));
}

#[test]
fn an_administrator_can_set_a_forgotten_password() {
    let kit = Kit::start(Backend::Sqlite);
    let admin = kit.user("admin1", true, &[]);
    let clerk = kit.user("clerk1", false, &[]);
    let mut a = kit.login(&admin);
    let path = format!("/admin/users/{}/password", clerk.user.id);
    let weak = a.post(&path, &[("password", "short")]);
    assert_eq!(weak.status, 200);
    assert!(weak.body.contains("8 文字未満"), "the password rule applies");
    assert_eq!(a.post(&path, &[("password", "n3w-Pass#word")]).status, 303);
    let mut c = kit.client();
    assert_eq!(c.login_password("clerk1", crate::kit::PASSWORD).status, 401, "the old password is gone");
    assert_eq!(c.login_password("clerk1", "n3w-Pass#word").location(), "/login/mfa");
    let events = kit.rt.block_on(kit.store.audit_events(mamori_domain::audit::Chain::System, 0, 1000)).unwrap();
    let reset = events.iter().find(|e| e.action == "user.password_reset").expect("audited");
    assert!(!reset.details.contains("n3w-Pass#word"));
}

#[test]
fn ledgers_are_shown_to_those_who_may_read_data() {
    use mamori_domain::ledger::{Asset, AssetKind};
    use mamori_store::StoreExt;
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("A");
    let mut asset = Asset::new(AssetKind::MedicalDevice, "<b>超音波</b>");
    asset.ip_addresses = vec!["192.168.10.21".into()];
    kit.rt.block_on(kit.store.put(&a, &asset, "test")).unwrap();
    let operator = kit.user("op1", false, &[(a, Role::Operator)]);
    let vendor = kit.user("vendor1", false, &[(a, Role::Vendor)]);
    let mut c = kit.login(&operator);
    let path = format!("/i/{}/ledgers/assets", a.institution());
    let r = c.get(&path);
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("機器台帳") && r.body.contains("医療機器") && r.body.contains("192.168.10.21"),
        "{}",
        r.body
    );
    assert!(r.body.contains("&#60;b&#62;超音波") && !r.body.contains("<b>超音波"), "escaped");
    assert!(r.body.contains("全 1 件"));
    assert_eq!(c.get(&format!("/i/{}/ledgers/printers", a.institution())).status, 404);
    assert_eq!(kit.login(&vendor).get(&path).status, 403);
}
