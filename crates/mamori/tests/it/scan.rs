//! `mamori scan run|export|import|list` and `mamori findings list` against a listener this test
//! starts on 127.0.0.214: segments from the network ledger bound what is scanned, findings are
//! raised in Japanese, nmap XML goes out and comes in (an XXE probe is refused).

use crate::harness::*;
use std::io::{Read, Write};

fn listener(addr: &str) {
    let l = std::net::TcpListener::bind(addr).expect("bind a loopback listener");
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = stream;
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut buf = [0u8; 1024];
                if matches!(s.read(&mut buf), Ok(n) if n > 0) {
                    let _ = s.write_all(
                        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                }
            });
        }
    });
}

#[test]
fn a_registered_segment_is_scanned_and_the_result_goes_out_and_comes_back() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["institution", "add", "--name", "検査医院"]);
    listener("127.0.0.214:8080");
    // No segment registered yet: nothing can be scanned.
    let r = env.run(&["scan", "run", "--profile", "標準", "--target", "127.0.0.214"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("セグメントが登録されていません"), "{}", r.stderr);

    let seg = env.tmp.path().join("seg.csv");
    std::fs::write(&seg, "名称,ネットワークアドレス,用途\n検証用LAN,127.0.0.214/32,検証\n").unwrap();
    env.ok(&["ledger", "import", seg.to_str().unwrap(), "--kind", "segments", "--yes"]);
    let r = env.run(&["scan", "run", "--profile", "標準", "--target", "127.0.0.215"]);
    assert!(r.one_error_line().contains("登録されたセグメントの外は検査できません"), "{}", r.stderr);
    let r = env.run(&["scan", "run", "--profile", "nope", "--segment", "検証用LAN"]);
    assert!(r.one_error_line().contains("医療機器セーフ"), "{}", r.stderr);

    let r = env.ok(&["scan", "run", "--profile", "標準", "--segment", "検証用LAN"]);
    assert!(r.stdout.contains("検査が終わりました。稼働している機器 1 台"), "{}", r.stdout);
    let f = env.ok(&["findings", "list"]);
    assert!(f.stdout.contains("機器台帳に登録されていない機器（127.0.0.214）"), "{}", f.stdout);
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["findings", "list", "--format", "json"]).stdout).unwrap();
    assert!(json.iter().any(|x| x["rule"] == "scan.unknown-device"), "{json:?}");

    let xml = env.tmp.path().join("scan.xml");
    env.ok(&["scan", "export", "--format", "nmap-xml", "-o", xml.to_str().unwrap()]);
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains("<nmaprun") && text.contains("127.0.0.214") && text.contains("nginx"), "{text}");
    let out = env.tmp.path().join("scan.json");
    env.ok(&["scan", "export", "--format", "json", "-o", out.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(report["profile"], "standard");

    // nmap's own XML from a site that runs nmap (a real nmap 7.93 -sV file).
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/nmap");
    let real = shared.join("generated/nmap-7.93-loopback-sV-medical.xml");
    let r = env.ok(&["scan", "import", real.to_str().unwrap()]);
    assert!(r.stdout.contains("nmap の結果を取り込みました"), "{}", r.stdout);
    let list = env.ok(&["scan", "list"]);
    assert_eq!(list.stdout.lines().count(), 3, "header and two scans: {}", list.stdout);
    // An XML file with an external entity is refused whole.
    let xxe = shared.join("python-libnmap/defused_et_local_includer.xml");
    let r = env.run(&["scan", "import", xxe.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("XML"), "{}", r.stderr);
}
