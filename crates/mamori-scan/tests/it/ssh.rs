//! OpenSSH sshd with a temporary host key.

use crate::support::*;
use mamori_scan::{PortSpec, ServiceDetail};
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_banner_and_kexinit() {
    let sshd = need("sshd", "openssh-server");
    let keygen = need("ssh-keygen", "openssh-client");
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    run(Command::new(keygen).args(["-q", "-t", "ed25519", "-N", ""]).arg("-f").arg(d.join("hostkey")));
    std::fs::create_dir_all("/run/sshd").ok();
    let ip = ip("127.0.0.12");
    let port = free_port();
    let daemon = spawn(
        "sshd",
        d,
        Command::new(&sshd)
            .args([
                "-D",
                "-e",
                "-f",
                "/dev/null",
                "-o",
                &format!("ListenAddress={ip}"),
                "-p",
                &port.to_string(),
                "-o",
                "UsePAM=no",
            ])
            .arg("-h")
            .arg(d.join("hostkey"))
            .arg("-o")
            .arg(format!("PidFile={}", d.join("sshd.pid").display())),
    );
    wait_tcp(&daemon, ip, port);
    // `sshd -V` is not an option on 9.2; `ssh -V` comes from the same source package.
    let v = version_line(Command::new("ssh").arg("-V"));
    let expected = v.trim().strip_prefix("OpenSSH_").and_then(|s| s.split([' ', ',']).next()).unwrap().to_owned();
    let r = scan(ip, quick_policy(&[PortSpec::tcp(port)])).await;
    let s = service(&r, port);
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("ssh", Some("OpenSSH"), Some(expected.as_str()))
    );
    assert!(s.cpe.as_deref().unwrap().starts_with("cpe:2.3:a:openbsd:openssh:"), "{:?}", s.cpe);
    let Some(ServiceDetail::Ssh(info)) = &s.detail else { panic!("{s:?}") };
    assert_eq!(info.host_key, vec!["ssh-ed25519"]);
    assert!(info.kex.iter().any(|k| k.starts_with("curve25519")), "{:?}", info.kex);
    assert!(info.ciphers.iter().any(|c| c.contains("chacha20") || c.contains("aes")), "{:?}", info.ciphers);
    assert!(info.weak.is_empty(), "OpenSSH 9.2 defaults offer nothing weak: {:?}", info.weak);
    // One connection: the port-scan connection is reused for the conversation.
    assert_eq!(r.hosts[0].probes_sent, 1);
    assert!(
        daemon.log_text().contains("mamori_scan") || !daemon.log_text().contains("Bad protocol"),
        "{}",
        daemon.log_text()
    );
}
