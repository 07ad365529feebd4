//! nmap XML: the shared test data (nmap 7.93 against our medical daemons, python-libnmap's
//! samples including an XXE probe) and a round trip of our own export.

use mamori_scan::{PortState, Proto, nmap_xml};
use std::path::PathBuf;

fn testdata(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/nmap").join(rel);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{} ({e}): the shared test data must be beside the repository", p.display()))
}

#[test]
fn imports_nmap_793_output() {
    let r = nmap_xml::import(&testdata("generated/nmap-7.93-loopback-sV-medical.xml")).unwrap();
    assert_eq!(r.hosts.len(), 1);
    let h = &r.hosts[0];
    assert_eq!(h.addr.to_string(), "127.0.0.1");
    assert!(h.up);
    let ssh = h.ports.iter().find(|p| p.port == 12222).unwrap();
    let s = ssh.service.as_ref().unwrap();
    assert_eq!((s.name.as_str(), s.product.as_deref()), ("ssh", Some("OpenSSH")));
    assert_eq!(s.cpe.as_deref(), Some("cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*"));
    let dicom = h.ports.iter().find(|p| p.port == 11112).unwrap().service.as_ref().unwrap();
    assert!(dicom.extra["script:dicom-ping"].contains("Any AET is accepted"));
    assert!(h.ports.iter().any(|p| p.proto == Proto::Udp && p.port == 16161));
    assert!(h.ports.iter().all(|p| p.state == PortState::Open || p.proto == Proto::Udp));
}

#[test]
fn imports_python_libnmap_samples_and_refuses_xxe() {
    for f in ["1_os_banner_scripts.xml", "2_hosts_version.xml", "dionaea_scan.xml", "full_sudo6.xml", "fullscan.xml"] {
        let r = nmap_xml::import(&testdata(&format!("python-libnmap/{f}"))).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!r.hosts.is_empty(), "{f}");
    }
    let e = nmap_xml::import(&testdata("python-libnmap/defused_et_local_includer.xml")).unwrap_err();
    assert_eq!(e.code(), "nmap-xml-entities");
    let e = nmap_xml::import(&testdata("python-libnmap/defused_et_included.xml")).unwrap_err();
    assert_eq!(e.code(), "nmap-xml-malformed", "not nmap output");
}

#[test]
fn export_round_trips() {
    let original = nmap_xml::import(&testdata("generated/nmap-7.93-loopback-sV-medical.xml")).unwrap();
    let xml = nmap_xml::export(&original);
    assert!(xml.starts_with("<?xml") && xml.contains("<nmaprun scanner=\"mamori\""));
    let back = nmap_xml::import(&xml).unwrap();
    assert_eq!(back.hosts.len(), original.hosts.len());
    for (a, b) in original.hosts[0].ports.iter().zip(&back.hosts[0].ports) {
        assert_eq!((a.port, a.proto, a.state), (b.port, b.proto, b.state));
        let (sa, sb) = (a.service.as_ref(), b.service.as_ref());
        assert_eq!(sa.map(|s| &s.name), sb.map(|s| &s.name));
        assert_eq!(sa.and_then(|s| s.product.clone()), sb.and_then(|s| s.product.clone()));
        assert_eq!(sa.and_then(|s| s.version.clone()), sb.and_then(|s| s.version.clone()));
        assert_eq!(sa.and_then(|s| s.cpe.clone()), sb.and_then(|s| s.cpe.clone()));
    }
}
