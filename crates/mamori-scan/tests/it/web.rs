//! nginx (plain HTTP with an admin-panel title, TLS 1.2/1.3 with a self-signed certificate, a
//! legacy-TLS server, basic auth with a default password) and the FHIR R4 test server.

use crate::support::*;
use mamori_scan::findings::{FindingInput, findings};
use mamori_scan::{AttemptOutcome, PortSpec, ServiceDetail};
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_http_tls_and_default_password() {
    let nginx = need("nginx", "nginx");
    let openssl = need("openssl", "openssl");
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    run(Command::new(&openssl)
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.11"])
        .arg("-keyout")
        .arg(d.join("tls.key"))
        .arg("-out")
        .arg(d.join("tls.crt")));
    let hash = run(Command::new(&openssl).args(["passwd", "-apr1", "admin"]));
    std::fs::write(d.join("htpasswd"), format!("admin:{}\n", hash.trim())).unwrap();
    let ip = ip("127.0.0.11");
    let (http, https, legacy, basic) = (free_port(), free_port(), free_port(), free_port());
    let p = d.display();
    std::fs::create_dir_all(d.join("tmp")).unwrap();
    // `return` would answer before auth_basic runs, so the protected server serves a file.
    std::fs::create_dir_all(d.join("www")).unwrap();
    std::fs::write(d.join("www/index.html"), "<title>Router</title>").unwrap();
    std::fs::write(
        d.join("nginx.conf"),
        format!(
            "worker_processes 1; pid {p}/nginx.pid; error_log {p}/error.log; daemon off;\n\
             events {{ worker_connections 64; }}\n\
             http {{ access_log {p}/access.log; client_body_temp_path {p}/tmp; proxy_temp_path {p}/tmp;\n\
               fastcgi_temp_path {p}/tmp; uwsgi_temp_path {p}/tmp; scgi_temp_path {p}/tmp; default_type text/html;\n\
               server {{ listen {ip}:{http}; location / {{ return 200 \"<html><head><title>Web Image Monitor</title></head></html>\"; }} }}\n\
               server {{ listen {ip}:{https} ssl; ssl_certificate {p}/tls.crt; ssl_certificate_key {p}/tls.key;\n\
                        ssl_protocols TLSv1.2 TLSv1.3;\n\
                        location / {{ return 200 \"<title>PACS viewer</title>\"; }} }}\n\
               server {{ listen {ip}:{legacy} ssl; ssl_certificate {p}/tls.crt; ssl_certificate_key {p}/tls.key;\n\
                        ssl_protocols TLSv1 TLSv1.1 TLSv1.2; ssl_ciphers DEFAULT:@SECLEVEL=0;\n\
                        location / {{ return 200 \"old\"; }} }}\n\
               server {{ listen {ip}:{basic}; location / {{ auth_basic \"Router admin\"; auth_basic_user_file {p}/htpasswd; root {p}/www; }} }} }}\n"
        ),
    )
    .unwrap();
    let daemon = spawn("nginx", d, Command::new(&nginx).arg("-c").arg(d.join("nginx.conf")));
    for port in [http, https, legacy, basic] {
        wait_tcp(&daemon, ip, port);
    }
    let version = version_line(Command::new(&nginx).arg("-v"));
    let version = version.trim().rsplit('/').next().unwrap().to_owned();

    let mut policy =
        quick_policy(&[PortSpec::tcp(http), PortSpec::tcp(https), PortSpec::tcp(legacy), PortSpec::tcp(basic)]);
    policy.credentials.enabled = true;
    policy.credentials.max_attempts_per_host = 3;
    let r = scan(ip, policy).await;

    let s = service(&r, http);
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("http", Some("nginx"), Some(version.as_str()))
    );
    assert_eq!(s.cpe.as_deref(), Some(format!("cpe:2.3:a:f5:nginx:{version}:*:*:*:*:*:*:*").as_str()));
    assert_eq!(s.extra["title"], "Web Image Monitor");
    assert_eq!(s.extra["admin_panel"], "RICOH printer (Web Image Monitor)");

    let s = service(&r, https);
    assert_eq!((s.name.as_str(), s.product.as_deref()), ("https", Some("nginx")));
    let tls = s.tls.as_ref().unwrap();
    assert_eq!(tls.accepted, vec!["TLSv1.3", "TLSv1.2"], "{tls:?}");
    assert!(tls.refused.contains(&"TLSv1.0".to_owned()) && tls.refused.contains(&"SSLv3".to_owned()), "{tls:?}");
    let c = tls.cert.as_ref().unwrap();
    assert_eq!(c.subject, "CN=localhost");
    assert!(
        c.sans.contains(&"IP:127.0.0.11".to_owned()) && c.sans.contains(&"DNS:localhost".to_owned()),
        "{:?}",
        c.sans
    );
    assert!(c.self_signed);
    assert_eq!((c.key_type.as_str(), c.key_bits), ("RSA", 2048));
    assert_eq!(c.signature_algorithm, "sha256WithRSAEncryption");
    let days = (c.not_after - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((40..=49).contains(&days), "2-day certificate, {days} h left");
    assert_eq!(s.extra["title"], "PACS viewer");

    let s = service(&r, legacy);
    let tls = s.tls.as_ref().unwrap();
    assert!(
        tls.accepted.contains(&"TLSv1.0".to_owned()) && tls.accepted.contains(&"TLSv1.1".to_owned()),
        "legacy server: {tls:?}"
    );
    assert!(tls.refused.contains(&"SSLv3".to_owned()));

    // Default password: admin/admin on the basic-auth server, within the cap of 3.
    let attempts: Vec<_> = r.credential_attempts.iter().filter(|a| a.port == basic).collect();
    assert!(!attempts.is_empty() && attempts.len() <= 3);
    assert_eq!(attempts[0].mechanism, "http-basic");
    assert_eq!((attempts[0].username.as_str(), attempts[0].outcome), ("admin", AttemptOutcome::Accepted));

    // Findings, also a month later when the certificate has expired.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let f = findings(&r, &FindingInput { now: Some(later), ..Default::default() });
    let codes = codes(&f);
    for c in ["tls-self-signed", "tls-old-protocol", "tls-cert-expired", "default-credentials"] {
        assert!(codes.contains(&c), "{c} missing: {codes:?}");
    }
    let old: Vec<_> = f.iter().filter(|x| x.code.as_str() == "tls-old-protocol").collect();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].port, Some(legacy));
    assert!(r.hosts[0].probes_sent > 4 + 3, "probes: {}", r.hosts[0].probes_sent);
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_capability_statement() {
    let node = need("node", "nodejs");
    let server = std::path::Path::new("/opt/mamori-peers/fhir-test-server/server.js");
    assert!(
        server.exists() && server.with_file_name("node_modules").exists(),
        "the FHIR test server is missing: run scripts/install-peers.sh medical (npm @asymmetrik/node-fhir-server-core)"
    );
    let t = tempfile::tempdir().unwrap();
    let ip = ip("127.0.0.19");
    let port = free_port();
    let daemon = spawn("fhir", t.path(), Command::new(node).arg(server).arg(port.to_string()).arg(ip.to_string()));
    wait_tcp(&daemon, ip, port);
    let r = scan(ip, quick_policy(&[PortSpec::tcp(port)])).await;
    let s = service(&r, port);
    assert_eq!(s.name, "fhir");
    assert_eq!((s.product.as_deref(), s.version.as_deref()), (Some("FHIR Server"), Some("1.4.0")));
    assert_eq!(s.extra["fhir_version"], "4.0.1");
    assert_eq!(s.extra["fhir_base"], "/4_0_1/");
    let Some(ServiceDetail::Http(h)) = &s.detail else { panic!() };
    assert!(!h.fhir.as_ref().unwrap().security_declared);
    let f = findings(&r, &FindingInput::default());
    assert_eq!(codes(&f), vec!["fhir-no-security"]);
}
