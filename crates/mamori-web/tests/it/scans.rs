//! A network scan from the browser against listeners this test starts on 127.0.0.212–213:
//! only registered segments are scanned, services are identified, the device missing from the
//! 機器台帳 becomes a finding in Japanese linked to the scan, a second scan adds to the same
//! finding, and the result exports as nmap XML.

use crate::kit::{Backend, Kit};
use mamori_domain::RecordId;
use mamori_domain::auth::Role;
use mamori_domain::ledger::{Asset, AssetKind, NetworkSegment};
use mamori_domain::record::Record;
use mamori_store::StoreExt;
use std::io::{Read, Write};

/// A tiny HTTP server on `addr` (one thread), answering every request the same way.
fn http_listener(addr: &str) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind(addr).expect("bind a loopback listener");
    let local = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        // A thread per connection: the scanner's bare connects must not hold up its probes.
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = stream;
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut buf = [0u8; 1024];
                if !matches!(s.read(&mut buf), Ok(n) if n > 0) {
                    return;
                }
                let body = "<html><head><title>Test panel</title></head><body>ok</body></html>";
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nServer: Apache/2.4.62 (Unix)\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    local
}

#[test]
fn a_segment_is_scanned_from_the_browser_and_findings_follow() {
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("検査クリニック");
    http_listener("127.0.0.212:8080");
    http_listener("127.0.0.213:8080");
    let seg = NetworkSegment {
        id: RecordId::new(),
        name: "検証用LAN".into(),
        site_id: None,
        cidrs: vec!["127.0.0.212/31".into()],
        purpose: Some("検証".into()),
        vlan: None,
        notes: None,
    };
    let mut known = Asset::new(AssetKind::Server, "受付サーバ");
    known.ip_addresses = vec!["127.0.0.212".into()];
    kit.rt.block_on(kit.store.put_rows(&a, &[seg.to_row(), known.to_row()], "test", &|_| {})).unwrap();
    let u = kit.user("jimu", false, &[(a, Role::Operator)]);
    let mut c = kit.login(&u);
    let inst = a.institution();

    let r = c.get(&format!("/i/{inst}/scans"));
    assert!(r.body.contains("検証用LAN") && r.body.contains("医療機器セーフ"), "{}", r.body);
    // Outside the registered segments nothing is scanned.
    let r = c.post(&format!("/i/{inst}/scans"), &[("profile", "標準"), ("targets", "127.0.0.9")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("登録されたセグメントの外は検査できません"), "{}", r.body);
    assert!(kit.rt.block_on(mamori_web::scan_io::scans(&*kit.store, &a, 10)).unwrap().is_empty());
    // A segment with Internet addresses in the ledger is still not scanned.
    let public = NetworkSegment {
        id: RecordId::new(),
        name: "外部".into(),
        site_id: None,
        cidrs: vec!["8.8.8.0/30".into()],
        purpose: None,
        vlan: None,
        notes: None,
    };
    kit.rt.block_on(kit.store.put(&a, &public, "test")).unwrap();
    let r = c.post(&format!("/i/{inst}/scans"), &[("profile", "標準"), ("segment", "外部")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("インターネット上のアドレスを含むため検査しません"), "{}", r.body);

    let r = c.post(&format!("/i/{inst}/scans"), &[("profile", "標準"), ("segment", "検証用LAN")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().starts_with(&format!("/i/{inst}/scans/")), "{}", r.location());
    let scan_page = r.location().to_owned();
    let r = c.get(&scan_page);
    assert!(r.body.contains("127.0.0.212") && r.body.contains("受付サーバ"), "{}", r.body);
    assert!(r.body.contains("127.0.0.213") && r.body.contains("台帳に未登録"), "{}", r.body);
    assert!(
        r.body.contains("8080/tcp") && r.body.contains("Apache httpd 2.4.62"),
        "the product is identified: {}",
        r.body
    );

    let r = c.get(&format!("/i/{inst}/findings"));
    assert!(r.body.contains("機器台帳に登録されていない機器（127.0.0.213）"), "{}", r.body);
    assert!(!r.body.contains("機器台帳に登録されていない機器（127.0.0.212）"), "the registered device is known");
    let findings = kit.rt.block_on(kit.store.list_findings(&a, &Default::default())).unwrap();
    let unknown = findings.iter().find(|f| f.rule == "scan.unknown-device").expect("unknown-device finding");
    assert_eq!(unknown.evidence.len(), 1);

    // The checklist reads the scan: 台帳管理 is いいえ while a device is missing from the ledger.
    let evaluation = kit
        .rt
        .block_on(mamori_web::checklist_io::evaluate(
            &*kit.store,
            &a,
            mamori_checklist::builtin_edition(2025).unwrap(),
            "clinic",
            mamori_web::checklist_io::today(),
        ))
        .unwrap();
    let ledger = evaluation.get("2-①", None).unwrap();
    assert_eq!(ledger.value, mamori_checklist::ProposedValue::No, "{ledger:?}");
    assert!(ledger.reasons.iter().any(|r| r.contains("127.0.0.213")), "{ledger:?}");
    assert!(ledger.evidence.iter().any(|e| e.kind == mamori_checklist::EvidenceKind::Scan), "{ledger:?}");
    let r = c.get(&format!("/i/{inst}/checklist/2025/clinic"));
    assert!(r.body.contains(&format!("href=\"/i/{inst}/scans/")), "the proposal links to the scan");

    // The same scan again: the same finding, now with two observations.
    let r = c.post(&format!("/i/{inst}/scans"), &[("profile", "標準"), ("segment", "検証用LAN")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let again = kit.rt.block_on(kit.store.list_findings(&a, &Default::default())).unwrap();
    assert_eq!(again.len(), findings.len(), "no duplicates");
    let unknown2 = again.iter().find(|f| f.id == unknown.id).unwrap();
    assert_eq!(unknown2.evidence.len(), 2);

    // Statuses: accepting a risk needs a reason.
    let path = format!("/i/{inst}/findings/{}/status", unknown.id);
    let r = c.post(&path, &[("status", "accepted")]);
    assert!(r.location().ends_with("error=reason"), "{}", r.location());
    let r = c.post(&path, &[("status", "accepted"), ("reason", "検証用の端末のため")]);
    assert_eq!(r.status, 303);

    let xml = c.get(&format!("{scan_page}/export?format=nmap-xml"));
    assert_eq!(xml.status, 200);
    assert!(xml.body.contains("<nmaprun") && xml.body.contains("127.0.0.213"), "{}", xml.body);
    let reimported = mamori_scan::nmap_xml::import(&xml.body).unwrap();
    assert_eq!(reimported.hosts.iter().filter(|h| h.up).count(), 2);
    let events = kit.rt.block_on(kit.store.latest_audit_events(a.chain(), 50)).unwrap();
    assert!(events.iter().any(|e| e.action == "scan.run" && e.details.contains("probes_sent")));
    assert!(events.iter().any(|e| e.action == "scan.export"));

    // A monthly scan: set from the page, started when due, once a month.
    let r = c.post(
        &format!("/i/{inst}/scans/schedule"),
        &[("segment", "存在しないLAN"), ("profile", "標準"), ("day", "1"), ("hour", "0")],
    );
    assert!(r.body.contains("というセグメントはありません"), "{}", r.body);
    let r = c.post(
        &format!("/i/{inst}/scans/schedule"),
        &[("segment", "検証用LAN"), ("profile", "標準"), ("day", "1"), ("hour", "0")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(c.get(&format!("/i/{inst}/scans")).body.contains("毎月 1 日 0 時に「検証用LAN」を標準で検査します"));
    let runner = mamori_jobs::JobRunner::new(kit.store.clone());
    let before = kit.rt.block_on(mamori_web::scan_io::scans(&*kit.store, &a, 10)).unwrap().len();
    assert_eq!(kit.rt.block_on(mamori_web::scan_io::run_due(&runner, kit.store.clone())).unwrap(), 1);
    assert_eq!(kit.rt.block_on(mamori_web::scan_io::run_due(&runner, kit.store.clone())).unwrap(), 0, "once a month");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while kit.rt.block_on(mamori_web::scan_io::scans(&*kit.store, &a, 10)).unwrap().len() == before {
        assert!(std::time::Instant::now() < deadline, "the scheduled scan did not finish");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // Limits: an excluded device is never contacted; outside the allowed window nothing runs.
    let r = c.post(&format!("/i/{inst}/scans/rules"), &[("window", "夜だけ"), ("exclusions", "")]);
    assert!(r.body.contains("時間帯として読み取れません"), "{}", r.body);
    let r = c.post(&format!("/i/{inst}/scans/rules"), &[("window", ""), ("exclusions", "127.0.0.213")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c.post(&format!("/i/{inst}/scans"), &[("profile", "標準"), ("segment", "検証用LAN")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c.get(r.location());
    assert!(r.body.contains("127.0.0.212") && !r.body.contains("<h2>127.0.0.213"), "the excluded host: {}", r.body);
    let hour = mamori_domain::time_fmt::now().to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap()).hour();
    let window = format!("{:02}:00-{:02}:00", (hour + 2) % 24, (hour + 3) % 24);
    c.post(&format!("/i/{inst}/scans/rules"), &[("window", &window), ("exclusions", "")]);
    let r = c.post(&format!("/i/{inst}/scans"), &[("profile", "標準"), ("segment", "検証用LAN")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("検査を許可した時間帯の外です"), "{}", r.body);

    // An auditor reads but cannot start a scan.
    let auditor = kit.user("kansa2", false, &[(a, Role::Auditor)]);
    let mut au = kit.login(&auditor);
    assert_eq!(au.get(&format!("/i/{inst}/findings")).status, 200);
    assert_eq!(au.post(&format!("/i/{inst}/scans"), &[("profile", "標準"), ("segment", "検証用LAN")]).status, 403);
}
