//! Findings from scan results, as data: pure functions over a [`ScanReport`] (and the caller's
//! ledger facts: known devices, segment rules). Storing them, Japanese wording and linking to
//! assets is the integrator's job; each [`FindingCode`] has a stable string and an English
//! description here.

use crate::model::{AttemptOutcome, Host, PortState, Proto, ScanReport, ServiceDetail};
use crate::target::Segment;
use mamori_domain::finding::Severity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use time::OffsetDateTime;

/// Stable finding codes. The string form ([`FindingCode::as_str`]) never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// A Telnet service is open: logins and everything typed travel in clear text.
    PlaintextTelnet,
    /// An FTP service is open: passwords and files travel in clear text.
    PlaintextFtp,
    /// The SMB server accepts SMBv1, the protocol abused by WannaCry/EternalBlue.
    Smbv1Enabled,
    /// The SMB server does not require signing (relay attacks).
    SmbSigningNotRequired,
    /// Remote Desktop accepts sessions without Network Level Authentication.
    RdpNlaNotRequired,
    /// The MQTT broker accepts connections without a user name and password.
    MqttAnonymous,
    /// The SNMP agent answers to a default community (`public`/`private`).
    SnmpDefaultCommunity,
    /// The TLS service accepts TLS 1.1, TLS 1.0 or SSL 3.0.
    TlsOldProtocol,
    /// The TLS certificate has expired.
    TlsCertExpired,
    /// The TLS certificate expires within 30 days.
    TlsCertExpiringSoon,
    /// The TLS certificate is self-signed (clients cannot verify the server).
    TlsSelfSigned,
    /// The TLS certificate key is too small (RSA below 2048 bits).
    TlsWeakKey,
    /// The SSH server offers weak algorithms (SHA-1 key exchange, CBC/3DES/RC4, MD5 MACs, DSA).
    SshWeakAlgorithms,
    /// The DICOM SCP accepted an association from an unknown calling AE to a made-up called AE:
    /// anyone on the network can talk DICOM to it.
    DicomAnyAeAccepted,
    /// Orthanc's REST API answered `/system` without authentication: images and patient data can
    /// be read by anyone who reaches the port.
    OrthancRestNoAuth,
    /// The FHIR server's CapabilityStatement declares no security (no `rest.security`).
    FhirNoSecurity,
    /// The HL7 MLLP listener acknowledged (AA) a message from an unknown sender.
    Hl7OpenListener,
    /// A host answered that is not in the device ledger (no matching IP or MAC).
    UnknownDevice,
    /// A service runs in a segment whose rules forbid it (e.g. SMB in the 医療機器 segment).
    SegmentRuleViolation,
    /// A published default password worked.
    DefaultCredentials,
}

impl FindingCode {
    pub const ALL: [FindingCode; 20] = [
        Self::PlaintextTelnet,
        Self::PlaintextFtp,
        Self::Smbv1Enabled,
        Self::SmbSigningNotRequired,
        Self::RdpNlaNotRequired,
        Self::MqttAnonymous,
        Self::SnmpDefaultCommunity,
        Self::TlsOldProtocol,
        Self::TlsCertExpired,
        Self::TlsCertExpiringSoon,
        Self::TlsSelfSigned,
        Self::TlsWeakKey,
        Self::SshWeakAlgorithms,
        Self::DicomAnyAeAccepted,
        Self::OrthancRestNoAuth,
        Self::FhirNoSecurity,
        Self::Hl7OpenListener,
        Self::UnknownDevice,
        Self::SegmentRuleViolation,
        Self::DefaultCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlaintextTelnet => "plaintext-telnet",
            Self::PlaintextFtp => "plaintext-ftp",
            Self::Smbv1Enabled => "smbv1-enabled",
            Self::SmbSigningNotRequired => "smb-signing-not-required",
            Self::RdpNlaNotRequired => "rdp-nla-not-required",
            Self::MqttAnonymous => "mqtt-anonymous",
            Self::SnmpDefaultCommunity => "snmp-default-community",
            Self::TlsOldProtocol => "tls-old-protocol",
            Self::TlsCertExpired => "tls-cert-expired",
            Self::TlsCertExpiringSoon => "tls-cert-expiring-soon",
            Self::TlsSelfSigned => "tls-self-signed",
            Self::TlsWeakKey => "tls-weak-key",
            Self::SshWeakAlgorithms => "ssh-weak-algorithms",
            Self::DicomAnyAeAccepted => "dicom-any-ae-accepted",
            Self::OrthancRestNoAuth => "orthanc-rest-no-auth",
            Self::FhirNoSecurity => "fhir-no-security",
            Self::Hl7OpenListener => "hl7-open-listener",
            Self::UnknownDevice => "unknown-device",
            Self::SegmentRuleViolation => "segment-rule-violation",
            Self::DefaultCredentials => "default-credentials",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Self::DefaultCredentials | Self::OrthancRestNoAuth => Severity::Critical,
            Self::PlaintextTelnet
            | Self::Smbv1Enabled
            | Self::RdpNlaNotRequired
            | Self::MqttAnonymous
            | Self::DicomAnyAeAccepted
            | Self::SegmentRuleViolation => Severity::High,
            Self::PlaintextFtp
            | Self::SnmpDefaultCommunity
            | Self::TlsOldProtocol
            | Self::TlsCertExpired
            | Self::TlsWeakKey
            | Self::FhirNoSecurity
            | Self::UnknownDevice => Severity::Medium,
            Self::SmbSigningNotRequired
            | Self::TlsCertExpiringSoon
            | Self::TlsSelfSigned
            | Self::SshWeakAlgorithms
            | Self::Hl7OpenListener => Severity::Low,
        }
    }
}

/// One thing wrong, with the evidence it was raised on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanFinding {
    pub code: FindingCode,
    pub severity: Severity,
    pub host: IpAddr,
    pub port: Option<u16>,
    pub proto: Option<Proto>,
    /// What was observed (e.g. `accepted` = `TLSv1.0,TLSv1.1`, `community` = `public`).
    pub evidence: BTreeMap<String, String>,
}

impl ScanFinding {
    fn new(code: FindingCode, host: IpAddr, port: Option<(u16, Proto)>) -> Self {
        Self {
            code,
            severity: code.default_severity(),
            host,
            port: port.map(|p| p.0),
            proto: port.map(|p| p.1),
            evidence: BTreeMap::new(),
        }
    }
    fn with(mut self, k: &str, v: impl Into<String>) -> Self {
        self.evidence.insert(k.to_owned(), v.into());
        self
    }
}

/// Devices the ledger knows (機器台帳): by IP and by MAC (`aa:bb:…`, any case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownDevices {
    pub ips: BTreeSet<IpAddr>,
    pub macs: BTreeSet<String>,
}

impl KnownDevices {
    pub fn knows(&self, h: &Host) -> bool {
        self.ips.contains(&h.addr)
            || h.mac.as_ref().is_some_and(|m| self.macs.iter().any(|k| k.eq_ignore_ascii_case(m)))
    }
}

/// Services a segment must not expose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRule {
    pub segment: Segment,
    /// Service classes: `smb`, `rdp`, `telnet`, `ftp`, `vnc`, `http`, `ssh`, `snmp`, `mqtt`, …
    pub denied_services: BTreeSet<String>,
    pub denied_ports: BTreeSet<u16>,
}

impl SegmentRule {
    /// The usual rule for a 医療機器 segment: no SMB, RDP, Telnet, FTP or VNC.
    pub fn medical_devices(segment: Segment) -> Self {
        Self {
            segment,
            denied_services: ["smb", "rdp", "telnet", "ftp", "vnc"].into_iter().map(str::to_owned).collect(),
            denied_ports: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRules {
    pub rules: Vec<SegmentRule>,
}

/// The service class a port belongs to, from the detected service name, else the port number.
pub fn service_class(name: Option<&str>, port: u16) -> Option<&'static str> {
    let by_name = name.and_then(|n| {
        Some(match n {
            "microsoft-ds" | "netbios-ssn" | "smb" => "smb",
            "ms-wbt-server" | "rdp" => "rdp",
            "telnet" => "telnet",
            "ftp" => "ftp",
            "vnc" => "vnc",
            "ssh" => "ssh",
            "http" | "https" | "http-alt" | "http-proxy" | "orthanc-rest" | "fhir" | "fhir-https" => "http",
            "snmp" => "snmp",
            "mqtt" | "secure-mqtt" => "mqtt",
            "dicom" | "dicom-tls" => "dicom",
            "hl7-mllp" => "hl7",
            _ => return None,
        })
    });
    by_name.or(match port {
        139 | 445 => Some("smb"),
        3389 => Some("rdp"),
        23 => Some("telnet"),
        21 => Some("ftp"),
        5900..=5903 => Some("vnc"),
        _ => None,
    })
}

/// What the caller knows beyond the scan.
#[derive(Debug, Clone, Default)]
pub struct FindingInput<'a> {
    /// For certificate expiry.
    pub now: Option<OffsetDateTime>,
    /// `None`: no unknown-device check.
    pub known: Option<&'a KnownDevices>,
    pub segment_rules: Option<&'a SegmentRules>,
}

/// Derives findings from a report. Pure; the same input gives the same findings in the same order.
pub fn findings(report: &ScanReport, input: &FindingInput<'_>) -> Vec<ScanFinding> {
    let now = input.now.unwrap_or(report.finished_at);
    let mut out = Vec::new();
    for h in report.hosts.iter().filter(|h| h.up) {
        if let Some(known) = input.known
            && !known.knows(h)
        {
            let mut f = ScanFinding::new(FindingCode::UnknownDevice, h.addr, None);
            if let Some(m) = &h.mac {
                f = f.with("mac", m.clone());
            }
            let open: Vec<String> = h.open_ports().map(|p| format!("{}/{}", p.port, p.proto.as_str())).collect();
            out.push(f.with("open_ports", open.join(",")));
        }
        for p in h.ports.iter().filter(|p| p.state == PortState::Open) {
            let at = Some((p.port, p.proto));
            let name = p.service.as_ref().map(|s| s.name.as_str());
            if let Some(rules) = input.segment_rules {
                if let Some(class) = service_class(name, p.port) {
                    for r in rules.rules.iter().filter(|r| r.segment.net.contains(h.addr)) {
                        if r.denied_services.contains(class) || r.denied_ports.contains(&p.port) {
                            out.push(
                                ScanFinding::new(FindingCode::SegmentRuleViolation, h.addr, at)
                                    .with("segment", r.segment.name.clone())
                                    .with("service", class),
                            );
                        }
                    }
                } else if let Some(r) =
                    rules.rules.iter().find(|r| r.segment.net.contains(h.addr) && r.denied_ports.contains(&p.port))
                {
                    out.push(
                        ScanFinding::new(FindingCode::SegmentRuleViolation, h.addr, at)
                            .with("segment", r.segment.name.clone())
                            .with("port", p.port.to_string()),
                    );
                }
            }
            let Some(s) = &p.service else { continue };
            match s.name.as_str() {
                "telnet" => out.push(ScanFinding::new(FindingCode::PlaintextTelnet, h.addr, at)),
                "ftp" => out.push(
                    ScanFinding::new(FindingCode::PlaintextFtp, h.addr, at)
                        .with("product", s.product.clone().unwrap_or_default()),
                ),
                _ => {}
            }
            if let Some(tls) = &s.tls {
                let old = tls.legacy_accepted();
                if !old.is_empty() {
                    out.push(ScanFinding::new(FindingCode::TlsOldProtocol, h.addr, at).with("accepted", old.join(",")));
                }
                if let Some(c) = &tls.cert {
                    let na = c.not_after.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                    if c.not_after < now {
                        out.push(
                            ScanFinding::new(FindingCode::TlsCertExpired, h.addr, at)
                                .with("not_after", na)
                                .with("subject", c.subject.clone()),
                        );
                    } else if c.not_after < now + time::Duration::days(30) {
                        out.push(ScanFinding::new(FindingCode::TlsCertExpiringSoon, h.addr, at).with("not_after", na));
                    }
                    if c.self_signed {
                        out.push(
                            ScanFinding::new(FindingCode::TlsSelfSigned, h.addr, at).with("subject", c.subject.clone()),
                        );
                    }
                    if (c.key_type == "RSA" || c.key_type == "DSA") && c.key_bits > 0 && c.key_bits < 2048 {
                        out.push(
                            ScanFinding::new(FindingCode::TlsWeakKey, h.addr, at)
                                .with("key", format!("{} {}", c.key_type, c.key_bits)),
                        );
                    }
                }
            }
            match &s.detail {
                Some(ServiceDetail::Ssh(i)) if !i.weak.is_empty() => {
                    out.push(
                        ScanFinding::new(FindingCode::SshWeakAlgorithms, h.addr, at)
                            .with("algorithms", i.weak.join(",")),
                    );
                }
                Some(ServiceDetail::Smb(i)) => {
                    if i.smb1_enabled == Some(true) {
                        out.push(ScanFinding::new(FindingCode::Smbv1Enabled, h.addr, at));
                    }
                    if i.signing_required == Some(false) {
                        out.push(
                            ScanFinding::new(FindingCode::SmbSigningNotRequired, h.addr, at)
                                .with("dialect", i.dialect.clone().unwrap_or_default()),
                        );
                    }
                }
                Some(ServiceDetail::Rdp(i)) if i.nla_required == Some(false) => {
                    out.push(
                        ScanFinding::new(FindingCode::RdpNlaNotRequired, h.addr, at)
                            .with("selected_protocol", i.selected_protocol.clone().unwrap_or_default()),
                    );
                }
                Some(ServiceDetail::Mqtt(i)) if i.anonymous_allowed => {
                    let mut f = ScanFinding::new(FindingCode::MqttAnonymous, h.addr, at);
                    if let Some(v) = &i.broker_version {
                        f = f.with("broker_version", v.clone());
                    }
                    out.push(f);
                }
                Some(ServiceDetail::Snmp(i)) => {
                    let mut f = ScanFinding::new(FindingCode::SnmpDefaultCommunity, h.addr, at)
                        .with("community", i.community.clone());
                    if i.community == "private" {
                        f.severity = Severity::High;
                    }
                    out.push(f);
                }
                Some(ServiceDetail::Dicom(i)) if i.result == "accepted" && i.called_ae_enforced == Some(false) => {
                    out.push(
                        ScanFinding::new(FindingCode::DicomAnyAeAccepted, h.addr, at)
                            .with("calling_ae", i.calling_ae.clone())
                            .with("called_ae", crate::probe::dicom::WRONG_CALLED_AE),
                    );
                }
                Some(ServiceDetail::Http(i)) => {
                    if let Some(o) = i.orthanc.as_ref().filter(|o| o.open_without_auth) {
                        out.push(
                            ScanFinding::new(FindingCode::OrthancRestNoAuth, h.addr, at)
                                .with("version", o.version.clone().unwrap_or_default()),
                        );
                    }
                    if let Some(f) = i.fhir.as_ref().filter(|f| !f.security_declared) {
                        out.push(
                            ScanFinding::new(FindingCode::FhirNoSecurity, h.addr, at).with("base", f.base.clone()),
                        );
                    }
                }
                Some(ServiceDetail::Hl7(i)) if i.test_message_sent && i.ack_code.as_deref() == Some("AA") => {
                    out.push(ScanFinding::new(FindingCode::Hl7OpenListener, h.addr, at));
                }
                _ => {}
            }
        }
    }
    for a in report.credential_attempts.iter().filter(|a| a.outcome == AttemptOutcome::Accepted) {
        let mut f = ScanFinding::new(FindingCode::DefaultCredentials, a.host, Some((a.port, a.proto)))
            .with("mechanism", a.mechanism.clone())
            .with("username", a.username.clone());
        if a.mechanism == "snmp-community" {
            // Already reported as snmp-default-community; keep the credential view too.
            f.severity = Severity::High;
        }
        out.push(f);
    }
    out
}

/// A port on a host, for diffs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRef {
    pub host: IpAddr,
    pub port: u16,
    pub proto: Proto,
    pub service: Option<String>,
}

/// What changed between two scans of the same scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanDiff {
    pub new_hosts: Vec<IpAddr>,
    pub vanished_hosts: Vec<IpAddr>,
    /// Open now, not open before (on hosts seen both times, and all ports of new hosts).
    pub new_ports: Vec<PortRef>,
    /// Open before, not open now (on hosts still up).
    pub closed_ports: Vec<PortRef>,
}

impl ScanDiff {
    pub fn is_empty(&self) -> bool {
        self.new_hosts.is_empty()
            && self.vanished_hosts.is_empty()
            && self.new_ports.is_empty()
            && self.closed_ports.is_empty()
    }
}

fn open_set(h: &Host) -> BTreeMap<(u16, Proto), Option<String>> {
    h.open_ports().map(|p| ((p.port, p.proto), p.service.as_ref().map(|s| s.name.clone()))).collect()
}

/// Compares two reports. Hosts that were not up in a report count as absent from it.
pub fn diff(previous: &ScanReport, current: &ScanReport) -> ScanDiff {
    let prev: BTreeMap<IpAddr, &Host> = previous.hosts.iter().filter(|h| h.up).map(|h| (h.addr, h)).collect();
    let cur: BTreeMap<IpAddr, &Host> = current.hosts.iter().filter(|h| h.up).map(|h| (h.addr, h)).collect();
    let mut d = ScanDiff::default();
    for (addr, h) in &cur {
        let now = open_set(h);
        let before = prev.get(addr).map(|p| open_set(p));
        if before.is_none() {
            d.new_hosts.push(*addr);
        }
        let before = before.unwrap_or_default();
        for ((port, proto), svc) in &now {
            if !before.contains_key(&(*port, *proto)) {
                d.new_ports.push(PortRef { host: *addr, port: *port, proto: *proto, service: svc.clone() });
            }
        }
        for ((port, proto), svc) in &before {
            if !now.contains_key(&(*port, *proto)) {
                d.closed_ports.push(PortRef { host: *addr, port: *port, proto: *proto, service: svc.clone() });
            }
        }
    }
    d.vanished_hosts = prev.keys().filter(|a| !cur.contains_key(a)).copied().collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DetectionMethod, Port, Service};
    use crate::probe::{
        dicom::DicomInfo,
        smb::SmbInfo,
        tls::{CertInfo, TlsInfo},
    };
    use time::macros::datetime;

    fn port(n: u16, svc: Option<Service>) -> Port {
        Port { port: n, proto: Proto::Tcp, state: PortState::Open, service: svc, rtt_us: None }
    }

    fn report(hosts: Vec<Host>) -> ScanReport {
        ScanReport {
            profile: "standard".into(),
            started_at: datetime!(2026-11-22 10:00 UTC),
            finished_at: datetime!(2026-11-22 10:05 UTC),
            cancelled: false,
            hosts,
            credential_attempts: vec![],
            skipped: vec![],
        }
    }

    fn host(ip: &str, ports: Vec<Port>) -> Host {
        let mut h = Host::new(ip.parse().unwrap());
        h.up = true;
        h.ports = ports;
        h
    }

    #[test]
    fn codes_are_stable_and_unique() {
        let all: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(all.len(), FindingCode::ALL.len());
        for c in FindingCode::ALL {
            assert_eq!(FindingCode::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn findings_from_results() {
        let mut smb = Service::named("microsoft-ds", DetectionMethod::Probed);
        smb.detail = Some(ServiceDetail::Smb(SmbInfo {
            smb1_enabled: Some(true),
            dialect: Some("2.1".into()),
            signing_required: Some(true),
        }));
        let mut https = Service::named("https", DetectionMethod::Probed);
        https.tls = Some(TlsInfo {
            accepted: vec!["TLSv1.2".into(), "TLSv1.0".into()],
            cert: Some(CertInfo {
                subject: "CN=pacs".into(),
                issuer: "CN=pacs".into(),
                sans: vec![],
                not_before: datetime!(2020-01-01 0:00 UTC),
                not_after: datetime!(2025-01-01 0:00 UTC),
                self_signed: true,
                key_type: "RSA".into(),
                key_bits: 1024,
                signature_algorithm: "sha1WithRSAEncryption".into(),
                serial: "01".into(),
            }),
            ..Default::default()
        });
        let mut dicom = Service::named("dicom", DetectionMethod::Probed);
        dicom.detail = Some(ServiceDetail::Dicom(DicomInfo {
            result: "accepted".into(),
            called_ae_enforced: Some(false),
            ..Default::default()
        }));
        let telnet = Service::named("telnet", DetectionMethod::Probed);
        let r = report(vec![
            host(
                "192.168.20.5",
                vec![port(23, Some(telnet)), port(104, Some(dicom)), port(443, Some(https)), port(445, Some(smb))],
            ),
            host("192.168.20.9", vec![port(3389, None)]),
        ]);
        let known =
            KnownDevices { ips: ["192.168.20.5".parse().unwrap()].into_iter().collect(), macs: BTreeSet::new() };
        let rules = SegmentRules {
            rules: vec![SegmentRule::medical_devices(Segment::new("医療機器", "192.168.20.0/24").unwrap())],
        };
        let f = findings(&r, &FindingInput { now: None, known: Some(&known), segment_rules: Some(&rules) });
        let codes: Vec<&str> = f.iter().map(|x| x.code.as_str()).collect();
        for c in [
            "plaintext-telnet",
            "dicom-any-ae-accepted",
            "tls-old-protocol",
            "tls-cert-expired",
            "tls-self-signed",
            "tls-weak-key",
            "smbv1-enabled",
            "unknown-device",
            "segment-rule-violation",
        ] {
            assert!(codes.contains(&c), "{c} missing from {codes:?}");
        }
        // telnet, smb on .5 and rdp (by port) on .9 violate the medical segment rule
        assert_eq!(codes.iter().filter(|c| **c == "segment-rule-violation").count(), 3);
        let unknown: Vec<_> = f.iter().filter(|x| x.code == FindingCode::UnknownDevice).collect();
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].host.to_string(), "192.168.20.9");
        assert_eq!(unknown[0].evidence["open_ports"], "3389/tcp");
        // Without ledger facts, no unknown-device or segment findings.
        let f = findings(&r, &FindingInput::default());
        assert!(!f.iter().any(|x| matches!(x.code, FindingCode::UnknownDevice | FindingCode::SegmentRuleViolation)));
    }

    #[test]
    fn diffs() {
        let a = report(vec![
            host("10.0.0.1", vec![port(22, None), port(80, None)]),
            host("10.0.0.2", vec![port(22, None)]),
        ]);
        let b = report(vec![
            host("10.0.0.1", vec![port(22, None), port(443, None)]),
            host("10.0.0.3", vec![port(104, None)]),
        ]);
        let d = diff(&a, &b);
        assert_eq!(d.new_hosts, vec!["10.0.0.3".parse::<IpAddr>().unwrap()]);
        assert_eq!(d.vanished_hosts, vec!["10.0.0.2".parse::<IpAddr>().unwrap()]);
        let np: Vec<String> = d.new_ports.iter().map(|p| format!("{}:{}", p.host, p.port)).collect();
        assert_eq!(np, vec!["10.0.0.1:443", "10.0.0.3:104"]);
        assert_eq!(d.closed_ports.len(), 1);
        assert_eq!(d.closed_ports[0].port, 80);
        assert!(diff(&a, &a).is_empty());
    }
}
