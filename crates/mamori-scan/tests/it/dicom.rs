//! DICOM: dcmtk storescp and Orthanc (DICOM + REST, with and without authentication).

use crate::support::*;
use mamori_scan::findings::{FindingInput, findings};
use mamori_scan::{AttemptOutcome, PortSpec, ServiceDetail};
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dcmtk_storescp_accepts_any_ae() {
    let storescp = need("storescp", "dcmtk");
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("in");
    std::fs::create_dir_all(&out).unwrap();
    let ip = ip("127.0.0.13");
    let port = free_port();
    let daemon = spawn(
        "storescp",
        t.path(),
        Command::new(storescp).args(["-aet", "STORESCP", "-od"]).arg(&out).arg(port.to_string()),
    );
    wait_tcp(&daemon, ip, port);
    let r = scan(ip, quick_policy(&[PortSpec::tcp(port)])).await;
    let s = service(&r, port);
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("dicom", Some("OFFIS DCMTK"), Some("3.6.7"))
    );
    assert_eq!(s.cpe.as_deref(), Some("cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*"));
    let Some(ServiceDetail::Dicom(i)) = &s.detail else { panic!() };
    assert_eq!(i.result, "accepted");
    assert!(i.verification_accepted);
    assert_eq!(i.impl_version_name.as_deref(), Some("OFFIS_DCMTK_367"));
    assert!(i.impl_class_uid.as_deref().unwrap().starts_with("1.2.276.0.7230010.3"));
    assert_eq!(i.called_ae_enforced, Some(false));
    assert!(i.released, "A-RELEASE-RP expected");
    assert_eq!(codes(&findings(&r, &FindingInput::default())), vec!["dicom-any-ae-accepted"]);
    // Nothing was stored.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

fn orthanc_config(dir: &std::path::Path, http: u16, dicom: u16, auth: bool) -> std::path::PathBuf {
    let storage = dir.join("storage");
    std::fs::create_dir_all(&storage).unwrap();
    let users = if auth { r#", "RegisteredUsers": { "orthanc": "orthanc" }"# } else { "" };
    let cfg = format!(
        r#"{{ "Name": "MAMORI-TEST", "StorageDirectory": "{s}", "IndexDirectory": "{s}", "HttpPort": {http},
            "DicomPort": {dicom}, "DicomAet": "ORTHANC", "RemoteAccessAllowed": false,
            "AuthenticationEnabled": {auth}, "Plugins": [] {users} }}"#,
        s = storage.display()
    );
    let p = dir.join("orthanc.json");
    std::fs::write(&p, cfg).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orthanc_dicom_and_rest_without_auth() {
    let orthanc = need("Orthanc", "orthanc");
    let t = tempfile::tempdir().unwrap();
    let ip = ip("127.0.0.14");
    let (http, dicom) = (free_port(), free_port());
    let cfg = orthanc_config(t.path(), http, dicom, false);
    let daemon = spawn("orthanc", t.path(), Command::new(&orthanc).arg(cfg));
    wait_tcp(&daemon, ip, http);
    wait_tcp(&daemon, ip, dicom);
    let version = version_line(Command::new(&orthanc).arg("--version"));
    let version = version.lines().next().and_then(|l| l.split_whitespace().last()).unwrap().to_owned();
    let r = scan(ip, quick_policy(&[PortSpec::tcp(http), PortSpec::tcp(dicom)])).await;

    let rest = service(&r, http);
    assert_eq!(
        (rest.name.as_str(), rest.product.as_deref(), rest.version.as_deref()),
        ("orthanc-rest", Some("Orthanc"), Some(version.as_str()))
    );
    assert_eq!(rest.cpe.as_deref(), Some(format!("cpe:2.3:a:orthanc-server:orthanc:{version}:*:*:*:*:*:*:*").as_str()));
    assert_eq!(rest.extra["dicom_aet"], "ORTHANC");

    let dcm = service(&r, dicom);
    assert_eq!(dcm.name, "dicom");
    let Some(ServiceDetail::Dicom(i)) = &dcm.detail else { panic!() };
    assert_eq!(i.result, "accepted", "{i:?}");
    assert!(i.released);
    // Orthanc's DICOM layer is DCMTK; the REST API's DicomPort ties the port to Orthanc.
    assert_eq!(i.impl_version_name.as_deref(), Some("OFFIS_DCMTK_367"));
    assert_eq!((dcm.product.as_deref(), dcm.version.as_deref()), (Some("Orthanc"), Some(version.as_str())), "{i:?}");
    assert_eq!(dcm.extra["dicom_stack"], "OFFIS DCMTK 3.6.7");
    assert_eq!(i.called_ae_enforced, Some(false), "Orthanc's DicomCheckCalledAet defaults to false");
    let f = findings(&r, &FindingInput::default());
    let c = codes(&f);
    assert!(c.contains(&"orthanc-rest-no-auth"), "{c:?}");
    assert!(r.credential_attempts.is_empty(), "credentials are opt-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orthanc_default_account_is_found_only_when_enabled() {
    let orthanc = need("Orthanc", "orthanc");
    let t = tempfile::tempdir().unwrap();
    let ip = ip("127.0.0.15");
    let (http, dicom) = (free_port(), free_port());
    let cfg = orthanc_config(t.path(), http, dicom, true);
    let daemon = spawn("orthanc-auth", t.path(), Command::new(&orthanc).arg(cfg));
    wait_tcp(&daemon, ip, http);

    let off = scan(ip, quick_policy(&[PortSpec::tcp(http)])).await;
    let s = service(&off, http);
    assert_eq!(s.product.as_deref(), Some("Orthanc"), "realm identifies Orthanc: {s:?}");
    assert_eq!(s.version, None, "version is behind the login");
    assert!(off.credential_attempts.is_empty());
    assert!(!codes(&findings(&off, &FindingInput::default())).contains(&"orthanc-rest-no-auth"));

    let mut policy = quick_policy(&[PortSpec::tcp(http)]);
    policy.credentials.enabled = true;
    let on = scan(ip, policy).await;
    assert_eq!(on.credential_attempts.len(), 1);
    let a = &on.credential_attempts[0];
    assert_eq!(
        (a.mechanism.as_str(), a.username.as_str(), a.outcome),
        ("orthanc-rest", "orthanc", AttemptOutcome::Accepted)
    );
    let s = service(&on, http);
    assert_eq!(s.version.as_deref().map(|v| v.starts_with("1.")), Some(true), "version read with the default account");
    let f = findings(&on, &FindingInput::default());
    let d: Vec<_> = f.iter().filter(|x| x.code.as_str() == "default-credentials").collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].evidence["username"], "orthanc");
}
