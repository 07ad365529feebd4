//! Scan policy: what may be scanned, how hard, and when. Everything here is pure and enforced by
//! the scanner ([`crate::Scanner`]); nothing is advisory. [`ScanPolicy::plan`] turns a policy,
//! the caller's targets and the institution's segments into a [`ScanPlan`] or refuses.

use crate::ScanError;
use crate::model::{Proto, SkippedHost};
use crate::target::{IpNet, Segment};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;
use time::OffsetDateTime;

/// Printer raw-print (JetDirect) ports: some printers print whatever arrives there, so they are
/// never probed unless the policy says so.
pub const PRINTER_RAW_PORTS: std::ops::RangeInclusive<u16> = 9100..=9107;

/// Ports a medical device network commonly uses: DICOM (104, 11112, 4242), HL7 MLLP (2575),
/// Orthanc REST (8042), FHIR/HTTP (80, 8080, 443), MQTT (1883, 8883).
pub const MEDICAL_TCP_PORTS: &[u16] = &[104, 11112, 4242, 2575, 2576, 6661, 8042, 80, 8080, 443, 8443, 1883, 8883];

/// The short list of the 医療機器セーフ profile: remote access, file sharing, web and the
/// medical protocols.
const SAFE_TCP_PORTS: &[u16] = &[21, 22, 23, 80, 104, 443, 445, 1883, 2575, 3389, 4242, 5900, 8042, 8080, 8443, 11112];

/// 標準: about a hundred ports grouped by role (remote access, file sharing, web, mail,
/// directory, databases, printing, network devices and VPN, messaging/IoT, management), plus
/// [`MEDICAL_TCP_PORTS`]. Chosen by us by role, not taken from any frequency table.
const STANDARD_TCP_PORTS: &[u16] = &[
    // remote access
    22, 23, 2222, 3389, 5900, 5901, 5938, 5985, 5986, 4899, 5631, 1494, 2598, 512, 513, 514, // file sharing
    20, 21, 69, 111, 135, 139, 445, 548, 873, 2049, 990, // web and application servers
    80, 81, 443, 591, 3000, 4443, 5000, 7001, 7443, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9000, 9090, 9443, 10000,
    // mail
    25, 110, 143, 465, 587, 993, 995, // directory and name services
    53, 88, 389, 636, 3268, 3269, // databases and caches
    1433, 1521, 3306, 5432, 6379, 9200, 11211, 27017, 5984,
    // printing (raw 9100-9107 is never in a default list)
    515, 631, // network devices, VPN, telephony
    179, 1723, 8291, 10443, 2000, 5060, 1720, 7547, // messaging and IoT
    1883, 8883, 5672, 61616, 502, 47808, // management and backup
    10050, 10051, 5666, 9999, 593, 5357, 6556, 8530, 8531, 9389, // medical
    104, 11112, 4242, 2575, 2576, 6661, 8042,
];

/// UDP ports scanned with a protocol probe (only SNMP for now; silent UDP ports cannot be told
/// from filtered ones without one).
const UDP_PROBED: &[u16] = &[161];

/// TCP ping ports for host discovery, most likely first: a device answers on at least one of
/// them with a SYN-ACK or an RST.
pub const DISCOVERY_PORTS: &[u16] = &[80, 443, 22, 445, 3389, 104, 139, 8080, 23, 515];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    /// 医療機器セーフ: discovery and a short port list, at most 2 probes/s per host, one
    /// connection at a time, no retries.
    #[serde(rename = "medical-safe")]
    MedicalSafe,
    /// 標準: about a hundred ports plus the medical ones, moderate rate.
    #[serde(rename = "standard")]
    Standard,
    /// 全ポート: every TCP port plus probed UDP ports.
    #[serde(rename = "full")]
    Full,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Self::MedicalSafe, Self::Standard, Self::Full];

    pub fn id(self) -> &'static str {
        match self {
            Self::MedicalSafe => "medical-safe",
            Self::Standard => "standard",
            Self::Full => "full",
        }
    }

    /// The Japanese name shown in the UI and accepted on the CLI.
    pub fn name_ja(self) -> &'static str {
        match self {
            Self::MedicalSafe => "医療機器セーフ",
            Self::Standard => "標準",
            Self::Full => "全ポート",
        }
    }

    /// Accepts the id or the Japanese name.
    pub fn parse(s: &str) -> Result<Self, ScanError> {
        Self::ALL
            .into_iter()
            .find(|p| p.id() == s || p.name_ja() == s)
            .ok_or_else(|| ScanError::UnknownProfile(s.to_owned()))
    }
}

/// A port and protocol to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortSpec {
    pub port: u16,
    pub proto: Proto,
}

impl PortSpec {
    pub const fn tcp(port: u16) -> Self {
        Self { port, proto: Proto::Tcp }
    }
    pub const fn udp(port: u16) -> Self {
        Self { port, proto: Proto::Udp }
    }
}

/// Parses nmap-style port lists: `22,80,8000-8100,U:161,T:443`.
pub fn parse_ports(s: &str) -> Result<Vec<PortSpec>, ScanError> {
    let bad = || ScanError::InvalidPorts(s.to_owned());
    let mut out = BTreeSet::new();
    let mut proto = Proto::Tcp;
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let part = if let Some(rest) = part.strip_prefix("U:") {
            proto = Proto::Udp;
            rest
        } else if let Some(rest) = part.strip_prefix("T:") {
            proto = Proto::Tcp;
            rest
        } else {
            part
        };
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u16>().map_err(|_| bad())?, b.parse::<u16>().map_err(|_| bad())?),
            None => {
                let p = part.parse::<u16>().map_err(|_| bad())?;
                (p, p)
            }
        };
        if a == 0 || a > b {
            return Err(bad());
        }
        out.extend((a..=b).map(|port| PortSpec { port, proto }));
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out.into_iter().collect())
}

/// Rates, concurrency, timeouts and retries. The scanner enforces all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Probes (connection attempts and datagrams) per second to one host. Hard ceiling: the
    /// scanner spaces probes so that no window of one second holds more.
    pub per_host_rate: f64,
    /// How many probes may go to one host back to back before the rate applies (1 = evenly
    /// spaced).
    pub per_host_burst: u32,
    /// Probes per second over the whole scan.
    pub global_rate: f64,
    pub global_burst: u32,
    /// Connections open at once to one host.
    pub per_host_concurrency: u32,
    /// Connections open at once over the whole scan.
    pub global_concurrency: u32,
    pub connect_timeout_ms: u64,
    /// Each read of a service conversation.
    pub read_timeout_ms: u64,
    /// Extra attempts after a connect timeout (never after a refusal).
    pub retries: u8,
}

impl Limits {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms)
    }
    fn validate(&self) -> Result<(), ScanError> {
        let ok_rate = |r: f64| r.is_finite() && r > 0.0 && r <= 100_000.0;
        if !ok_rate(self.per_host_rate) || !ok_rate(self.global_rate) {
            return Err(ScanError::InvalidPolicy("rates must be between 0 and 100000 per second"));
        }
        if self.per_host_burst == 0 || self.global_burst == 0 {
            return Err(ScanError::InvalidPolicy("bursts must be at least 1"));
        }
        if self.per_host_concurrency == 0 || self.global_concurrency == 0 {
            return Err(ScanError::InvalidPolicy("concurrency must be at least 1"));
        }
        if self.connect_timeout_ms == 0 || self.read_timeout_ms == 0 {
            return Err(ScanError::InvalidPolicy("timeouts must be positive"));
        }
        if self.retries > 5 {
            return Err(ScanError::InvalidPolicy("at most 5 retries"));
        }
        Ok(())
    }
}

/// A weekly window in which scanning is allowed, in the offset of the `now` given to
/// [`ScanPolicy::check_window`] (the institution's local time). `start > end` wraps midnight:
/// `19:00-07:00` on Monday allows Monday 19:00 to Tuesday 07:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// Days the window starts on, ISO numbering: 1 = Monday … 7 = Sunday.
    pub days: BTreeSet<u8>,
    /// Minutes after midnight, 0..1440.
    pub start_minute: u16,
    pub end_minute: u16,
}

impl TimeWindow {
    /// Every day from `start` to `end`, both "HH:MM".
    pub fn daily(start: &str, end: &str) -> Result<Self, ScanError> {
        Ok(Self { days: (1..=7).collect(), start_minute: hhmm(start)?, end_minute: hhmm(end)? })
    }

    pub fn allows(&self, now: OffsetDateTime) -> bool {
        let minute = u16::from(now.hour()) * 60 + u16::from(now.minute());
        let today = now.weekday().number_from_monday();
        let yesterday = if today == 1 { 7 } else { today - 1 };
        if self.start_minute <= self.end_minute {
            self.days.contains(&today) && (self.start_minute..self.end_minute).contains(&minute)
        } else {
            (self.days.contains(&today) && minute >= self.start_minute)
                || (self.days.contains(&yesterday) && minute < self.end_minute)
        }
    }
}

fn hhmm(s: &str) -> Result<u16, ScanError> {
    let bad = ScanError::InvalidPolicy("time must be HH:MM");
    let (h, m) = s.split_once(':').ok_or(ScanError::InvalidPolicy("time must be HH:MM"))?;
    let (h, m) = (
        h.parse::<u16>().map_err(|_| bad)?,
        m.parse::<u16>().map_err(|_| ScanError::InvalidPolicy("time must be HH:MM"))?,
    );
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(ScanError::InvalidPolicy("time must be HH:MM"));
    }
    Ok(h * 60 + m)
}

/// Default-credential checks: intrusive, so off unless the caller turns them on for a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialPolicy {
    pub enabled: bool,
    /// Hard cap of login attempts per host over the whole scan, to avoid account lockouts.
    pub max_attempts_per_host: u32,
}

impl Default for CredentialPolicy {
    fn default() -> Self {
        Self { enabled: false, max_attempts_per_host: 6 }
    }
}

/// How a scan behaves. Build one from a [`Profile`] and adjust; [`ScanPolicy::plan`] validates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPolicy {
    pub profile: Profile,
    pub ports: Vec<PortSpec>,
    /// TCP ping ports for discovery.
    pub discovery_ports: Vec<u16>,
    /// Treat every target as up without discovery (nmap's -Pn).
    pub skip_discovery: bool,
    pub limits: Limits,
    /// Talk to open ports to identify the service (otherwise only port states).
    pub service_detection: bool,
    /// Offer TLS 1.1/1.0/SSLv3 with hand-made ClientHellos to see whether the server accepts them
    /// (three extra connections per TLS port).
    pub tls_legacy_checks: bool,
    /// Port-scan hosts the caller flagged fragile (otherwise they get discovery only).
    pub allow_fragile_port_scan: bool,
    /// Allow the printer raw ports 9100-9107 (otherwise they are removed from every list).
    pub allow_printer_raw_ports: bool,
    pub credentials: CredentialPolicy,
    /// Send one harmless HL7 message (NMQ^N01, processing id T) to MLLP ports and read the ACK.
    /// Off by default: the default only checks the framing without sending a message.
    pub hl7_send_test_message: bool,
    /// Empty means any time.
    pub windows: Vec<TimeWindow>,
    /// Most hosts one run may cover.
    pub max_hosts: u64,
}

impl ScanPolicy {
    pub fn for_profile(profile: Profile) -> Self {
        let (ports, limits) = match profile {
            Profile::MedicalSafe => (
                tcp_then_udp(SAFE_TCP_PORTS, UDP_PROBED),
                Limits {
                    per_host_rate: 2.0,
                    per_host_burst: 1,
                    global_rate: 20.0,
                    global_burst: 1,
                    per_host_concurrency: 1,
                    global_concurrency: 8,
                    connect_timeout_ms: 2000,
                    read_timeout_ms: 3000,
                    retries: 0,
                },
            ),
            Profile::Standard => (
                tcp_then_udp(STANDARD_TCP_PORTS, UDP_PROBED),
                Limits {
                    per_host_rate: 100.0,
                    per_host_burst: 10,
                    global_rate: 1000.0,
                    global_burst: 50,
                    per_host_concurrency: 8,
                    global_concurrency: 128,
                    connect_timeout_ms: 1500,
                    read_timeout_ms: 2000,
                    retries: 1,
                },
            ),
            Profile::Full => (
                tcp_then_udp(&(1..=u16::MAX).collect::<Vec<_>>(), UDP_PROBED),
                Limits {
                    per_host_rate: 2000.0,
                    per_host_burst: 100,
                    global_rate: 5000.0,
                    global_burst: 200,
                    per_host_concurrency: 64,
                    global_concurrency: 256,
                    connect_timeout_ms: 1000,
                    read_timeout_ms: 2000,
                    retries: 1,
                },
            ),
        };
        Self {
            profile,
            ports,
            discovery_ports: DISCOVERY_PORTS.to_vec(),
            skip_discovery: false,
            limits,
            service_detection: true,
            tls_legacy_checks: profile != Profile::MedicalSafe,
            allow_fragile_port_scan: false,
            allow_printer_raw_ports: false,
            credentials: CredentialPolicy::default(),
            hl7_send_test_message: false,
            windows: Vec::new(),
            max_hosts: 65_536,
        }
    }

    /// `Ok` when `now` lies in an allowed window (or no windows are set).
    pub fn check_window(&self, now: OffsetDateTime) -> Result<(), ScanError> {
        if self.windows.is_empty() || self.windows.iter().any(|w| w.allows(now)) {
            Ok(())
        } else {
            Err(ScanError::OutsideTimeWindow)
        }
    }

    /// Decide what to scan: every target must lie inside one of `scope.segments`; exclusions are
    /// removed; fragile hosts get discovery only; printer raw ports are dropped; the time window
    /// is checked against `now`.
    pub fn plan(&self, targets: &[IpNet], scope: &ScanScope, now: OffsetDateTime) -> Result<ScanPlan, ScanError> {
        self.limits.validate()?;
        if self.ports.is_empty() && !self.service_detection && self.discovery_ports.is_empty() {
            return Err(ScanError::InvalidPolicy("nothing to scan"));
        }
        self.check_window(now)?;
        if targets.is_empty() {
            return Err(ScanError::NoTargets);
        }
        let mut total: u128 = 0;
        let mut chosen: Vec<(IpNet, &Segment)> = Vec::new();
        for t in targets {
            let seg = scope
                .segments
                .iter()
                .find(|s| s.net.contains_net(t))
                .ok_or_else(|| ScanError::TargetOutsideSegments { target: t.to_string() })?;
            total = total.saturating_add(t.size());
            if total > u128::from(self.max_hosts) {
                return Err(ScanError::TargetTooLarge {
                    target: t.to_string(),
                    hosts: t.size(),
                    limit: self.max_hosts,
                });
            }
            chosen.push((*t, seg));
        }
        let ports: Vec<PortSpec> = self
            .ports
            .iter()
            .copied()
            .filter(|p| self.allow_printer_raw_ports || !PRINTER_RAW_PORTS.contains(&p.port))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let discovery_ports: Vec<u16> = self
            .discovery_ports
            .iter()
            .copied()
            .filter(|p| self.allow_printer_raw_ports || !PRINTER_RAW_PORTS.contains(p))
            .collect();
        let mut seen = BTreeSet::new();
        let mut hosts = Vec::new();
        let mut skipped = Vec::new();
        for (net, seg) in chosen {
            for addr in net.hosts() {
                if !seen.insert(addr) {
                    continue;
                }
                if scope.exclusions.iter().any(|e| e.contains(addr)) {
                    skipped.push(SkippedHost { addr, reason: "excluded".into() });
                    continue;
                }
                let fragile = scope.fragile.contains(&addr);
                let discovery_only = fragile && !self.allow_fragile_port_scan;
                hosts.push(HostPlan {
                    addr,
                    segment: seg.name.clone(),
                    discovery_only,
                    ports: if discovery_only { Vec::new() } else { ports.clone() },
                });
            }
        }
        if hosts.is_empty() {
            return Err(ScanError::NoTargets);
        }
        Ok(ScanPlan { hosts, skipped, discovery_ports })
    }
}

fn tcp_then_udp(tcp: &[u16], udp: &[u16]) -> Vec<PortSpec> {
    let mut v: BTreeSet<PortSpec> = tcp.iter().map(|&p| PortSpec::tcp(p)).collect();
    v.extend(udp.iter().map(|&p| PortSpec::udp(p)));
    v.into_iter().collect()
}

/// What the institution allows: its registered segments, exclusions, and the hosts its ledger
/// flags as fragile (medical devices that must not be port-scanned).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanScope {
    pub segments: Vec<Segment>,
    pub exclusions: Vec<IpNet>,
    pub fragile: BTreeSet<IpAddr>,
}

/// The result of [`ScanPolicy::plan`]: exactly the hosts and ports the scanner will contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPlan {
    pub hosts: Vec<HostPlan>,
    pub skipped: Vec<SkippedHost>,
    pub discovery_ports: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostPlan {
    pub addr: IpAddr,
    /// Name of the segment the host lies in.
    pub segment: String,
    pub discovery_only: bool,
    pub ports: Vec<PortSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn scope() -> ScanScope {
        ScanScope {
            segments: vec![Segment::new("医療機器", "127.0.10.0/24").unwrap()],
            exclusions: vec!["127.0.10.9".parse().unwrap()],
            fragile: ["127.0.10.5".parse().unwrap()].into_iter().collect(),
        }
    }

    #[test]
    fn profiles_parse_by_id_and_japanese_name() {
        assert_eq!(Profile::parse("医療機器セーフ").unwrap(), Profile::MedicalSafe);
        assert_eq!(Profile::parse("standard").unwrap(), Profile::Standard);
        assert_eq!(Profile::parse("全ポート").unwrap(), Profile::Full);
        assert_eq!(Profile::parse("aggressive").unwrap_err().code(), "unknown-profile");
        let safe = ScanPolicy::for_profile(Profile::MedicalSafe);
        assert!(safe.limits.per_host_rate <= 2.0 && safe.limits.per_host_concurrency == 1);
        let std = ScanPolicy::for_profile(Profile::Standard);
        assert!(std.ports.len() >= 90, "{}", std.ports.len());
        for p in [104, 11112, 4242, 2575, 8042, 8080, 443, 1883] {
            assert!(std.ports.contains(&PortSpec::tcp(p)), "{p}");
        }
        assert!(std.ports.contains(&PortSpec::udp(161)));
        assert_eq!(ScanPolicy::for_profile(Profile::Full).ports.len(), 65_536);
    }

    #[test]
    fn targets_outside_segments_are_refused() {
        let p = ScanPolicy::for_profile(Profile::Standard);
        let now = datetime!(2026-11-22 20:00 +9);
        let e = p.plan(&["127.0.11.1".parse().unwrap()], &scope(), now).unwrap_err();
        assert_eq!(e.code(), "target-outside-segments");
        // A range that only partly overlaps is refused too.
        let e = p.plan(&["127.0.0.0/16".parse().unwrap()], &scope(), now).unwrap_err();
        assert_eq!(e.code(), "target-outside-segments");
        let e = p.plan(&[], &scope(), now).unwrap_err();
        assert_eq!(e.code(), "no-targets");
    }

    #[test]
    fn exclusions_fragile_and_printer_ports() {
        let mut p = ScanPolicy::for_profile(Profile::Full);
        let now = datetime!(2026-11-22 20:00 +9);
        let plan = p.plan(&["127.0.10.0/24".parse().unwrap()], &scope(), now).unwrap();
        assert_eq!(plan.hosts.len(), 253);
        assert_eq!(plan.skipped[0].addr.to_string(), "127.0.10.9");
        let fragile = plan.hosts.iter().find(|h| h.addr.to_string() == "127.0.10.5").unwrap();
        assert!(fragile.discovery_only && fragile.ports.is_empty());
        let normal = &plan.hosts[0];
        assert!(!normal.ports.iter().any(|s| (9100..=9107).contains(&s.port)));
        assert!(normal.ports.contains(&PortSpec::tcp(9108)));
        p.allow_printer_raw_ports = true;
        p.allow_fragile_port_scan = true;
        let plan = p.plan(&["127.0.10.5".parse().unwrap()], &scope(), now).unwrap();
        assert!(!plan.hosts[0].discovery_only);
        assert!(plan.hosts[0].ports.contains(&PortSpec::tcp(9100)));
        let e = p.plan(&["127.0.10.9".parse().unwrap()], &scope(), now).unwrap_err();
        assert_eq!(e.code(), "no-targets");
    }

    #[test]
    fn time_windows() {
        let mut p = ScanPolicy::for_profile(Profile::MedicalSafe);
        p.windows = vec![TimeWindow::daily("19:00", "07:00").unwrap()];
        assert!(p.check_window(datetime!(2026-11-23 21:30 +9)).is_ok());
        assert!(p.check_window(datetime!(2026-11-23 06:59 +9)).is_ok());
        assert_eq!(p.check_window(datetime!(2026-11-23 07:00 +9)).unwrap_err().code(), "outside-time-window");
        assert!(p.check_window(datetime!(2026-11-23 12:00 +9)).is_err());
        // Saturday only, 13:00-18:00 (2026-11-28 is a Saturday).
        p.windows = vec![TimeWindow { days: [6].into_iter().collect(), start_minute: 780, end_minute: 1080 }];
        assert!(p.check_window(datetime!(2026-11-28 14:00 +9)).is_ok());
        assert!(p.check_window(datetime!(2026-11-27 14:00 +9)).is_err());
        let e = p.plan(&["127.0.10.1".parse().unwrap()], &scope(), datetime!(2026-11-27 14:00 +9)).unwrap_err();
        assert_eq!(e.code(), "outside-time-window");
        assert!(TimeWindow::daily("25:00", "07:00").is_err());
    }

    #[test]
    fn port_lists() {
        let v = parse_ports("22, 80,8000-8002,U:161").unwrap();
        assert_eq!(v.len(), 6);
        assert!(v.contains(&PortSpec::udp(161)));
        for bad in ["", "0", "70000", "10-5", "a"] {
            assert_eq!(parse_ports(bad).unwrap_err().code(), "invalid-ports");
        }
    }

    #[test]
    fn bad_limits_are_refused() {
        let mut p = ScanPolicy::for_profile(Profile::Standard);
        p.limits.per_host_rate = 0.0;
        let e = p.plan(&["127.0.10.1".parse().unwrap()], &scope(), datetime!(2026-11-22 20:00 +9)).unwrap_err();
        assert_eq!(e.code(), "invalid-policy");
    }
}
