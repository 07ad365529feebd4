//! `mamori serve`: first run, the serve lock, loopback by default, and the jobs API.

use crate::harness::*;

#[test]
fn serve_initialises_on_first_run_and_answers_health() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    assert!(server.stdout.iter().any(|l| l.contains("初回セットアップ用トークン")), "{:?}", server.stdout);
    assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);
    let (status, headers, body) = server.get("/healthz", None);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["database"], "sqlite");
    let h = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");
    // Before setup, the top page leads to the first-run setup (in Japanese by default).
    let (status, _, page) = server.get("/", None);
    assert_eq!(status, 200);
    assert!(page.contains("初回セットアップ") && page.contains("セットアップ用トークン"), "{page}");
}

#[test]
fn a_second_serve_on_the_same_data_dir_is_refused() {
    let env = Env::new();
    let first = Server::start(&env, &[]);
    let r = env.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(r.code, 1);
    let line = r.one_error_line();
    assert!(line.contains("別の mamori") && line.contains(&first.child.id().to_string()), "{line}");
    assert!(r.stdout.is_empty(), "the second serve printed no token: {}", r.stdout);
    assert_eq!(first.get("/healthz", None).0, 200, "the first one keeps running");
}

#[test]
fn bad_listen_addresses_and_tls_files_are_one_clear_line() {
    let env = Env::new();
    let r = env.run(&["serve", "--listen", "localhost"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("待ち受けアドレス"), "{}", r.stderr);
    let junk = env.tmp.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let j = junk.to_str().unwrap();
    let r = env.run(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", j, "--tls-key", j]);
    assert_eq!(r.code, 1);
    let line = r.one_error_line();
    assert!(line.contains("TLS を設定できません") && line.contains("証明書"), "{line}");
}

#[test]
fn tls_with_a_self_signed_certificate_serves_https_and_secure_cookies() {
    let env = Env::new();
    let server = Server::start(&env, &["--tls"]);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let fingerprint = server.stdout.iter().find(|l| l.trim().starts_with("SHA-256 ")).expect("fingerprint printed");
    assert_eq!(fingerprint.trim().len(), "SHA-256 ".len() + 32 * 3 - 1, "{fingerprint}");
    let cert = env.data().join("tls-cert.pem");
    assert!(cert.exists());
    // A real TLS client that trusts exactly this certificate.
    let out = std::process::Command::new("curl")
        .args(["-sS", "-i", "--max-time", "20", "--cacert", cert.to_str().unwrap(), &format!("{}/setup", server.url)])
        .output()
        .expect("curl is installed by scripts/test.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("200"), "{text}");
    // Under TLS the cookie gets Secure and the __Host- prefix.
    let cookie = text.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("pre-session cookie");
    assert!(
        cookie.contains("__Host-mamori_pre=") && cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
}

#[test]
fn jobs_api_needs_a_token_and_lists_jobs() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["audit", "verify"]);
    let created = env.ok(&["token", "create", "--name", "監視システム"]);
    let token = token_from(&created.stdout);
    let server = Server::start(&env, &[]);

    let (status, headers, body) = server.get("/api/v1/jobs", None);
    assert_eq!(status, 401);
    assert!(headers.iter().any(|(k, v)| k == "www-authenticate" && v == "Bearer"));
    assert!(body.contains("\"unauthenticated\""), "{body}");
    assert_eq!(server.get("/api/v1/jobs", Some("mamori_wrong")).0, 401);

    let (status, _, body) = server.get("/api/v1/jobs", Some(&token));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let job = &v["jobs"][0];
    assert_eq!(job["kind"], "audit-verify");
    let id = job["id"].as_str().unwrap();
    let (status, _, body) = server.get(&format!("/api/v1/jobs/{id}"), Some(&token));
    assert_eq!(status, 200);
    assert!(body.contains("\"succeeded\""), "{body}");
    let (status, _, body) = server.post(&format!("/api/v1/jobs/{id}/cancel"), Some(&token));
    assert_eq!(status, 409, "a finished job cannot be cancelled: {body}");
    assert!(body.contains("\"job-finished\""), "{body}");
    assert_eq!(server.get("/api/v1/jobs/nonsense", Some(&token)).0, 404);
    assert_eq!(server.get("/api/v1/jobs?status=bogus", Some(&token)).0, 422);
    assert_eq!(server.get("/api/v1/nothing-here", Some(&token)).0, 404);

    // A revoked token stops working at once.
    let list = env.ok(&["token", "list"]);
    assert!(list.stdout.contains("監視システム") && list.stdout.contains("有効"), "{}", list.stdout);
    let tid = list.stdout.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    env.ok(&["token", "revoke", &tid]);
    assert_eq!(server.get("/api/v1/jobs", Some(&token)).0, 401);
}

#[tokio::test]
async fn a_lost_installation_key_is_refused_not_replaced() {
    let env = Env::new();
    drop(Server::start(&env, &[]));
    let key = env.data().join("secret.key");
    assert!(key.exists());
    // Before anyone has set up an account, a missing key is simply created again.
    std::fs::remove_file(&key).unwrap();
    drop(Server::start(&env, &[]));
    assert!(key.exists());
    // After setup, secrets depend on it: serve refuses instead of locking everyone out.
    sqlite_exec(
        &env.db_path(),
        "INSERT INTO system_settings (key, value, updated_at) VALUES ('setup_completed_at', 'x', '2026-11-22T00:00:00.000000Z')",
    )
    .await;
    std::fs::remove_file(&key).unwrap();
    let r = env.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("暗号鍵ファイル"), "{}", r.stderr);
    assert!(!key.exists(), "no new key was made");
}
