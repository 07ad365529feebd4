//! mosquitto (anonymous on), snmpd (community public), and an HL7 v2 MLLP listener.

use crate::support::*;
use mamori_scan::findings::{FindingInput, findings};
use mamori_scan::{PortSpec, ServiceDetail};
use std::process::Command;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_anonymous() {
    let mosquitto = need("mosquitto", "mosquitto");
    let t = tempfile::tempdir().unwrap();
    let ip = ip("127.0.0.16");
    let port = free_port();
    let conf = t.path().join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} {ip}\nallow_anonymous true\npersistence false\n")).unwrap();
    let daemon = spawn("mosquitto", t.path(), Command::new(&mosquitto).arg("-c").arg(&conf));
    wait_tcp(&daemon, ip, port);
    let v = version_line(Command::new(&mosquitto).arg("-h"));
    let version = v.lines().next().unwrap().trim().strip_prefix("mosquitto version ").unwrap().to_owned();
    let r = scan(ip, quick_policy(&[PortSpec::tcp(port)])).await;
    let s = service(&r, port);
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("mqtt", Some("Eclipse Mosquitto"), Some(version.as_str()))
    );
    let Some(ServiceDetail::Mqtt(i)) = &s.detail else { panic!() };
    assert!(i.anonymous_allowed);
    assert_eq!(codes(&findings(&r, &FindingInput::default())), vec!["mqtt-anonymous"]);
    // The broker saw a clean DISCONNECT, not a dropped connection.
    let log = daemon.log_text();
    assert!(log.contains("New client connected from 127.0.0.1") && log.contains("as mamori-scan"), "{log}");
    assert!(log.contains("Client mamori-scan disconnected."), "{log}");
    assert!(!log.contains("Client mamori-scan closed its connection"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snmpd_public_community() {
    let snmpd = need("snmpd", "snmpd");
    let t = tempfile::tempdir().unwrap();
    let ip = ip("127.0.0.17");
    let port = free_udp_port();
    let conf = t.path().join("snmpd.conf");
    std::fs::write(
        &conf,
        format!("agentAddress udp:{ip}:{port}\nrocommunity public 127.0.0.0/8\nsysName mamori-test\n"),
    )
    .unwrap();
    let _daemon = spawn(
        "snmpd",
        t.path(),
        Command::new(&snmpd)
            .args(["-f", "-C", "-c"])
            .arg(&conf)
            .arg("-Lf")
            .arg(t.path().join("snmpd.log"))
            .arg("-p")
            .arg(t.path().join("snmpd.pid")),
    );
    // No TCP port to wait for: the scan's retries cover the start-up.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut policy = quick_policy(&[PortSpec::udp(port)]);
    policy.limits.retries = 3;
    let r = scan(ip, policy).await;
    let s = service(&r, port);
    assert_eq!(s.name, "snmp");
    assert_eq!(s.product.as_deref(), Some("Net-SNMP SNMP agent"));
    assert_eq!(s.extra["sys_name"], "mamori-test");
    assert!(s.extra["sys_descr"].starts_with("Linux"), "{:?}", s.extra);
    let f = findings(&r, &FindingInput::default());
    assert_eq!(codes(&f), vec!["snmp-default-community"]);
    assert_eq!(f[0].evidence["community"], "public");
}

/// A minimal MLLP listener (used when the Python `hl7` peer is not installed): closes on an empty
/// block like real listeners do, and ACKs any message with MSA|AA.
async fn rust_mllp_listener(addr: std::net::SocketAddr, received: Arc<Mutex<Vec<String>>>) {
    let l = tokio::net::TcpListener::bind(addr).await.unwrap();
    loop {
        let Ok((mut s, _)) = l.accept().await else { return };
        let received = received.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(2).any(|w| w == [0x1c, 0x0d]) {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let msg = String::from_utf8_lossy(&buf).trim_matches(['\x0b', '\x1c', '\r']).to_string();
            if msg.is_empty() {
                return;
            }
            let control = msg.split('|').nth(9).unwrap_or("").to_owned();
            received.lock().unwrap().push(msg);
            let ack = format!(
                "\x0bMSH|^~\\&|RUST-LIS|LAB|MAMORI|SCAN|20260101000000||ACK^N01^ACK|A1|T|2.5\rMSA|AA|{control}\r\x1c\r"
            );
            let _ = s.write_all(ack.as_bytes()).await;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hl7_mllp_framing_and_opt_in_ack() {
    let ip = ip("127.0.0.18");
    let port = 2575; // the HL7 port: framing alone is only trusted there
    let t = tempfile::tempdir().unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scripts/hl7-mllp-ack-server.py");
    let python_peer = script.exists()
        && Command::new("python3").args(["-c", "import hl7"]).output().is_ok_and(|o| o.status.success());
    let log = t.path().join("hl7-messages.log");
    let received = Arc::new(Mutex::new(Vec::new()));
    let _daemon = if python_peer {
        let d = spawn(
            "hl7-mllp",
            t.path(),
            Command::new("python3")
                .arg(&script)
                .args(["--host", &ip.to_string(), "--port", &port.to_string(), "--log"])
                .arg(&log),
        );
        wait_tcp(&d, ip, port);
        Some(d)
    } else {
        tokio::spawn(rust_mllp_listener(std::net::SocketAddr::new(ip, port), received.clone()));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        None
    };
    let messages = || {
        if python_peer {
            std::fs::read_to_string(&log).unwrap_or_default()
        } else {
            received.lock().unwrap().join("\n")
        }
    };

    let r = scan(ip, quick_policy(&[PortSpec::tcp(port)])).await;
    let s = service(&r, port);
    assert_eq!(s.name, "hl7-mllp");
    assert_eq!(s.extra["evidence"], "closed-on-empty-block");
    assert_eq!(messages(), "", "no HL7 message may be sent by default");
    assert!(findings(&r, &FindingInput::default()).is_empty());

    let mut policy = quick_policy(&[PortSpec::tcp(port)]);
    policy.hl7_send_test_message = true;
    let r = scan(ip, policy).await;
    let s = service(&r, port);
    let Some(ServiceDetail::Hl7(i)) = &s.detail else { panic!() };
    assert_eq!(i.ack_code.as_deref(), Some("AA"));
    assert_eq!(i.version.as_deref(), Some("2.5"));
    assert!(i.message_type.as_deref().unwrap().starts_with("ACK"));
    let m = messages();
    assert!(m.contains("NMQ^N01") && m.contains("|T|2.5"), "the one test message: {m}");
    assert_eq!(codes(&findings(&r, &FindingInput::default())), vec!["hl7-open-listener"]);
}
