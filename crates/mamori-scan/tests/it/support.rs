//! Daemon guards, free ports and scan helpers for the integration tests.

use mamori_scan::{PortSpec, Profile, ScanPolicy, ScanReport, ScanScope, Scanner, Segment, Service};
use std::fs::File;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running daemon; killed (and reaped) on drop.
pub struct Daemon {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    /// SIGTERM first so a master process (nginx) stops its workers, SIGKILL after 5 s.
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of `bin`, or a failing test naming the Debian package that provides it.
pub fn need(bin: &str, apt: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(bin);
        if p.exists() {
            return p;
        }
    }
    if let Ok(path) = std::env::var("PATH") {
        for dir in path.split(':') {
            let p = Path::new(dir).join(bin);
            if p.exists() {
                return p;
            }
        }
    }
    panic!(
        "`{bin}` is not installed: this test needs the Debian package `{apt}` (apt-get install -y --no-install-recommends {apt})"
    );
}

pub fn spawn(name: &str, dir: &Path, cmd: &mut Command) -> Daemon {
    let log = dir.join(format!("{name}.log"));
    let f = File::create(&log).unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    Daemon { name: name.to_owned(), child, log }
}

/// A TCP port free on every address (some daemons bind 0.0.0.0).
pub fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port()
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port()
}

pub fn ip(s: &str) -> IpAddr {
    let a: IpAddr = s.parse().unwrap();
    assert!(a.is_loopback(), "tests only ever use loopback addresses");
    a
}

/// Waits until `ip:port` accepts a TCP connection.
pub fn wait_tcp(d: &Daemon, ip: IpAddr, port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect_timeout(&SocketAddr::new(ip, port), Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} did not listen on {ip}:{port} within 20 s; log:\n{}", d.name, d.log_text());
}

/// A quick policy for daemon tests: the standard profile's limits, only `ports`, no discovery.
pub fn quick_policy(ports: &[PortSpec]) -> ScanPolicy {
    let mut p = ScanPolicy::for_profile(Profile::Standard);
    p.ports = ports.to_vec();
    p.skip_discovery = true;
    p
}

pub fn lab_scope() -> ScanScope {
    ScanScope { segments: vec![Segment::new("loopback-lab", "127.0.0.0/8").unwrap()], ..Default::default() }
}

pub async fn scan(addr: IpAddr, policy: ScanPolicy) -> ScanReport {
    assert!(addr.is_loopback());
    Scanner::new(policy)
        .scan(
            &[mamori_scan::IpNet::single(addr)],
            &lab_scope(),
            time::OffsetDateTime::now_utc(),
            &mamori_scan::CancelToken::new(),
            None,
        )
        .await
        .expect("scan runs")
}

pub fn service(r: &ScanReport, port: u16) -> &Service {
    let h = &r.hosts[0];
    let p = h.ports.iter().find(|p| p.port == port).unwrap_or_else(|| panic!("port {port} not in {:#?}", h.ports));
    p.service.as_ref().unwrap_or_else(|| panic!("no service on {port}: {p:#?}"))
}

pub fn codes(f: &[mamori_scan::ScanFinding]) -> Vec<&'static str> {
    f.iter().map(|x| x.code.as_str()).collect()
}

/// Runs a command to completion (fixtures: keys, certificates).
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The version a daemon reports about itself, to compare with what the scan found.
pub fn version_line(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
