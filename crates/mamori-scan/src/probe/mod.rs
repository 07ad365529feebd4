//! Service detection. Each submodule speaks one protocol, written from its specification: a pure
//! parser (unit-tested on captured and malformed bytes; reads are bounded and never panic) and an
//! async probe that talks to one port through [`Ctx`], which is the only way to the network and
//! applies the [`Throttle`] to every connection and datagram.
//!
//! Probes must be safe for fragile devices: one short conversation each, no writes of data, clean
//! goodbyes (DICOM A-RELEASE, MQTT DISCONNECT), and bounded reads with short timeouts.

pub mod creds;
pub mod dicom;
pub mod hl7;
pub mod http;
pub mod mqtt;
pub mod rdp;
pub mod simple;
pub mod smb;
pub mod snmp;
pub mod ssh;
pub mod tls;

use crate::model::{AttemptOutcome, CredentialAttempt, DetectionMethod, Proto, Service};
use crate::policy::{Limits, ScanPolicy};
use crate::throttle::{ProbePermit, Refused, Throttle};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout};

/// Upper bound for any single reply we read.
pub const MAX_REPLY: usize = 256 * 1024;

pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

/// Why a connection could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFail {
    Refused,
    Timeout,
    /// No route, host unreachable, network down: the host is not there.
    Unreachable,
    Other,
    Cancelled,
    NotAllowed,
}

impl From<Refused> for ConnectFail {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Cancelled => Self::Cancelled,
            Refused::NotInPlan | Refused::CapReached => Self::NotAllowed,
        }
    }
}

/// How a bounded read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The completeness test said the reply is whole.
    Complete,
    Eof,
    Timeout,
    /// `max` bytes arrived without completing.
    Limit,
    Error,
}

/// One open connection to the host under test.
pub struct Conn {
    io: Box<dyn AsyncStream>,
    _permit: ProbePermit,
    pub rtt: Duration,
    read_timeout: Duration,
}

impl Conn {
    pub(crate) fn new(io: Box<dyn AsyncStream>, permit: ProbePermit, rtt: Duration, read_timeout: Duration) -> Self {
        Self { io, _permit: permit, rtt, read_timeout }
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match timeout(self.read_timeout, async {
            self.io.write_all(bytes).await?;
            self.io.flush().await
        })
        .await
        {
            Ok(r) => r,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        }
    }

    /// Read until `complete(buf)` holds, EOF, `max` bytes, or the read timeout (for the whole
    /// reply).
    pub async fn read_until(&mut self, max: usize, complete: impl Fn(&[u8]) -> bool) -> (Vec<u8>, End) {
        read_until(&mut self.io, max, self.read_timeout, complete).await
    }

    /// Like [`Conn::read_until`] with a custom timeout (e.g. a short wait for a banner).
    pub async fn read_until_within(
        &mut self,
        max: usize,
        wait: Duration,
        complete: impl Fn(&[u8]) -> bool,
    ) -> (Vec<u8>, End) {
        read_until(&mut self.io, max, wait, complete).await
    }

    pub async fn close(mut self) {
        let _ = timeout(Duration::from_millis(300), self.io.shutdown()).await;
    }

    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }
}

pub(crate) async fn read_until<S: AsyncRead + Unpin + ?Sized>(
    io: &mut S,
    max: usize,
    wait: Duration,
    complete: impl Fn(&[u8]) -> bool,
) -> (Vec<u8>, End) {
    let deadline = Instant::now() + wait;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 8192];
    loop {
        if complete(&buf) {
            return (buf, End::Complete);
        }
        if buf.len() >= max {
            buf.truncate(max);
            return (buf, End::Limit);
        }
        let want = (max - buf.len()).min(chunk.len());
        match tokio::time::timeout_at(deadline, io.read(&mut chunk[..want])).await {
            Err(_) => return (buf, End::Timeout),
            Ok(Ok(0)) => {
                let end = if complete(&buf) { End::Complete } else { End::Eof };
                return (buf, end);
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => return (buf, End::Error),
        }
    }
}

/// The probing context for one host: the only way probes reach the network.
pub struct Ctx<'a> {
    throttle: &'a Throttle,
    pub host: IpAddr,
    pub policy: &'a ScanPolicy,
    attempts: Arc<Mutex<HostAttempts>>,
}

/// Default-credential attempts against one host, shared by all its workers so the cap is per host.
#[derive(Debug, Default)]
pub struct HostAttempts {
    reserved: u32,
    list: Vec<CredentialAttempt>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        throttle: &'a Throttle,
        host: IpAddr,
        policy: &'a ScanPolicy,
        attempts: Arc<Mutex<HostAttempts>>,
    ) -> Self {
        Self { throttle, host, policy, attempts }
    }

    pub fn limits(&self) -> &Limits {
        &self.policy.limits
    }

    /// TCP connect through the throttle, with the policy's timeout and retries (retries only
    /// after a timeout; a refusal is an answer).
    pub async fn connect(&self, port: u16) -> Result<Conn, ConnectFail> {
        let (stream, permit, rtt) = self.connect_raw(port).await?;
        let _ = stream.set_nodelay(true);
        Ok(Conn::new(Box::new(stream), permit, rtt, self.limits().read_timeout()))
    }

    pub(crate) async fn connect_raw(&self, port: u16) -> Result<(TcpStream, ProbePermit, Duration), ConnectFail> {
        let addr = SocketAddr::new(self.host, port);
        let limits = self.limits();
        let mut last = ConnectFail::Timeout;
        for _ in 0..=limits.retries {
            let permit = self.throttle.acquire(self.host).await?;
            let start = Instant::now();
            match timeout(limits.connect_timeout(), TcpStream::connect(addr)).await {
                Ok(Ok(s)) => return Ok((s, permit, start.elapsed())),
                Ok(Err(e)) => {
                    return Err(match e.kind() {
                        io::ErrorKind::ConnectionRefused => ConnectFail::Refused,
                        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => ConnectFail::Unreachable,
                        _ => ConnectFail::Other,
                    });
                }
                Err(_) => last = ConnectFail::Timeout,
            }
            if self.throttle.cancel_token().is_cancelled() {
                return Err(ConnectFail::Cancelled);
            }
        }
        Err(last)
    }

    /// Send one datagram and wait for one answer (read timeout). `Ok(None)`: no answer;
    /// `Err(Refused)`: ICMP port unreachable.
    pub async fn udp_exchange(&self, port: u16, payload: &[u8]) -> Result<Option<(Vec<u8>, Duration)>, ConnectFail> {
        let addr = SocketAddr::new(self.host, port);
        let bind: SocketAddr =
            if self.host.is_ipv4() { "0.0.0.0:0".parse().unwrap() } else { "[::]:0".parse().unwrap() };
        let sock = UdpSocket::bind(bind).await.map_err(|_| ConnectFail::Other)?;
        sock.connect(addr).await.map_err(|_| ConnectFail::Other)?;
        let limits = self.limits();
        for _ in 0..=limits.retries {
            let _permit = self.throttle.acquire(self.host).await?;
            let start = Instant::now();
            sock.send(payload).await.map_err(|_| ConnectFail::Other)?;
            let mut buf = vec![0u8; 65_535];
            match timeout(limits.read_timeout(), sock.recv(&mut buf)).await {
                Ok(Ok(n)) => {
                    buf.truncate(n);
                    return Ok(Some((buf, start.elapsed())));
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => return Err(ConnectFail::Refused),
                Ok(Err(_)) => return Err(ConnectFail::Other),
                Err(_) => {}
            }
        }
        Ok(None)
    }

    /// Reserve one default-credential attempt against the per-host cap. `false`: cap reached.
    pub(crate) fn reserve_attempt(&self) -> bool {
        let mut a = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if a.reserved < self.policy.credentials.max_attempts_per_host {
            a.reserved += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn record_attempt(
        &self,
        port: u16,
        proto: Proto,
        mechanism: &str,
        user: &str,
        secret: &str,
        outcome: AttemptOutcome,
    ) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        attempts.list.push(CredentialAttempt {
            host: self.host,
            port,
            proto,
            mechanism: mechanism.to_owned(),
            username: user.to_owned(),
            secret: secret.to_owned(),
            outcome,
            at: time::OffsetDateTime::now_utc(),
        });
    }

    pub(crate) fn take_attempts(&self) -> Vec<CredentialAttempt> {
        std::mem::take(&mut self.attempts.lock().unwrap_or_else(|e| e.into_inner()).list)
    }

    /// Short wait for a server-speaks-first banner.
    fn banner_wait(&self) -> Duration {
        self.limits().read_timeout().min(Duration::from_millis(1200))
    }
}

/// Which conversation to try first on a silent port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Try {
    Http,
    Tls,
    Dicom,
    Mqtt,
    Hl7,
    Postgres,
    Smb,
    Rdp,
    Mssql,
}

fn plan_for(port: u16) -> Vec<Try> {
    use Try::*;
    let first: &[Try] = match port {
        443 | 4443 | 7443 | 8443 | 9443 | 10443 | 636 | 993 | 995 | 465 | 5986 | 2762 | 8883 => &[Tls],
        104 | 11112 | 4242 | 2761 => &[Dicom],
        2575 | 2576 | 6661 => &[Hl7],
        1883 => &[Mqtt],
        5432 => &[Postgres],
        445 | 139 => &[Smb],
        3389 => &[Rdp],
        1433 => &[Mssql],
        _ => &[],
    };
    let mut v = first.to_vec();
    for t in [Http, Tls, Dicom, Mqtt, Hl7] {
        if !v.contains(&t) {
            v.push(t);
        }
    }
    v
}

/// Identify the TCP service on an open port. At most a handful of short conversations.
/// `first` is the port-scan connection, reused for the banner wait so an open port costs one
/// probe less.
pub async fn detect_tcp(ctx: &Ctx<'_>, port: u16, first: Option<Conn>) -> Option<Service> {
    // 1. Does the server speak first?
    let mut conn = match first {
        Some(c) => c,
        None => ctx.connect(port).await.ok()?,
    };
    let (banner, _) = conn.read_until_within(4096, ctx.banner_wait(), |b| b.contains(&b'\n') || b.len() >= 4).await;
    if !banner.is_empty() {
        // Give a line-based banner a moment to finish.
        let banner = if banner.contains(&b'\n') || banner.first() == Some(&0xff) {
            banner
        } else {
            let (more, _) = conn.read_until_within(4096, Duration::from_millis(300), |b| b.contains(&b'\n')).await;
            [banner, more].concat()
        };
        return Some(classify_banner(port, conn, &banner).await);
    }
    conn.close().await;
    // 2. Client speaks first: try protocols, port hint first.
    for t in plan_for(port) {
        let found = match t {
            Try::Http => http::probe_plain(ctx, port).await,
            Try::Tls => tls::probe(ctx, port).await,
            Try::Dicom => dicom::probe(ctx, port).await,
            Try::Mqtt => mqtt::probe(ctx, port).await,
            Try::Hl7 => hl7::probe(ctx, port).await,
            Try::Postgres => simple::probe_postgres(ctx, port).await,
            Try::Smb => smb::probe(ctx, port).await,
            Try::Rdp => rdp::probe(ctx, port).await,
            Try::Mssql => simple::probe_mssql(ctx, port).await,
        };
        match found {
            Probe::Found(s) => return Some(*s),
            Probe::NotThis => {}
            Probe::Gone => break,
        }
    }
    let mut s = Service::named(port_table_name(port, Proto::Tcp).unwrap_or("unknown"), DetectionMethod::PortTable);
    s.extra.insert("note".into(), "no probe matched".into());
    Some(s)
}

/// The outcome of one protocol probe.
pub enum Probe {
    Found(Box<Service>),
    /// The port does not speak this protocol; try the next.
    NotThis,
    /// The port went away (refused/cancelled): stop probing.
    Gone,
}

impl Probe {
    pub fn found(s: Service) -> Self {
        Self::Found(Box::new(s))
    }
    pub(crate) fn from_connect(e: ConnectFail) -> Self {
        match e {
            ConnectFail::Timeout | ConnectFail::Other => Self::NotThis,
            _ => Self::Gone,
        }
    }
}

async fn classify_banner(port: u16, conn: Conn, banner: &[u8]) -> Service {
    if banner.starts_with(b"SSH-") {
        return ssh::continue_after_banner(conn, banner).await;
    }
    if banner.first() == Some(&0xff) {
        conn.close().await;
        return simple::telnet_service(banner);
    }
    if let Some(s) = simple::mysql_service(banner) {
        conn.close().await;
        return s;
    }
    conn.close().await;
    if let Some(s) = simple::line_banner_service(banner) {
        return s;
    }
    let mut s = Service::named(port_table_name(port, Proto::Tcp).unwrap_or("unknown"), DetectionMethod::PortTable);
    s.detail = Some(crate::model::ServiceDetail::Banner { banner: printable(banner, 200) });
    s
}

/// The service name the port number suggests (used when no probe matched, and by the exporter).
pub fn port_table_name(port: u16, proto: Proto) -> Option<&'static str> {
    Some(match (proto, port) {
        (Proto::Udp, 161) => "snmp",
        (Proto::Udp, _) => return None,
        (_, 21) => "ftp",
        (_, 22) => "ssh",
        (_, 23) => "telnet",
        (_, 25) => "smtp",
        (_, 80 | 8080 | 8000 | 8008) => "http",
        (_, 104 | 11112 | 4242) => "dicom",
        (_, 139 | 445) => "microsoft-ds",
        (_, 443 | 8443) => "https",
        (_, 1433) => "ms-sql-s",
        (_, 1883) => "mqtt",
        (_, 2575) => "hl7-mllp",
        (_, 3306) => "mysql",
        (_, 3389) => "ms-wbt-server",
        (_, 5432) => "postgresql",
        (_, 5900) => "vnc",
        (_, 8042) => "orthanc-rest",
        (_, 9100..=9107) => "jetdirect",
        _ => return None,
    })
}

/// Bytes → a short printable string (for evidence), non-printables as `\xNN`.
pub fn printable(b: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &c in b.iter().take(max) {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// A big-endian reader over a byte slice that never panics.
pub(crate) struct Rd<'a> {
    b: &'a [u8],
    pub pos: usize,
}

impl<'a> Rd<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, pos: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub fn u16le(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_le_bytes([s[0], s[1]]))
    }
    pub fn u32le(&mut self) -> Option<u32> {
        self.take(4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.b.get(self.pos..).unwrap_or(&[]);
        self.pos = self.b.len();
        s
    }
}
