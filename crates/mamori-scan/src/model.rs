//! The facts a scan produces, as plain data (serde-serialisable, no database types). Written by
//! the scanner or by the nmap XML importer; read by [`crate::findings`] and the exporters.

use crate::probe::{
    dicom::DicomInfo, hl7::Hl7Info, http::HttpInfo, mqtt::MqttInfo, rdp::RdpInfo, simple::DbInfo, smb::SmbInfo,
    snmp::SnmpInfo, ssh::SshInfo, tls::TlsInfo,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

/// Port state, with nmap's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// Accepted a connection (TCP) or answered (UDP).
    Open,
    /// Refused the connection (TCP RST) or ICMP port unreachable (UDP).
    Closed,
    /// No answer within the timeout (TCP).
    Filtered,
    /// No answer (UDP): open and silent, or filtered.
    OpenFiltered,
}

impl PortState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Filtered => "filtered",
            Self::OpenFiltered => "open|filtered",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => Self::Open,
            "closed" => Self::Closed,
            "filtered" | "unfiltered" | "closed|filtered" => Self::Filtered,
            "open|filtered" => Self::OpenFiltered,
            _ => return None,
        })
    }
}

/// How a service was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionMethod {
    /// A protocol conversation confirmed it.
    Probed,
    /// Only the port number suggests it (nmap's "table").
    PortTable,
    /// Read from an nmap XML import.
    Imported,
}

/// Protocol-specific facts found by a probe; findings are derived from these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceDetail {
    Ssh(SshInfo),
    Http(HttpInfo),
    Dicom(DicomInfo),
    Hl7(Hl7Info),
    Mqtt(MqttInfo),
    Snmp(SnmpInfo),
    Smb(SmbInfo),
    Rdp(RdpInfo),
    Database(DbInfo),
    /// FTP / Telnet / other line banners.
    Banner {
        banner: String,
    },
}

/// What runs on a port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// nmap-style service name: `ssh`, `http`, `https`, `dicom`, `hl7-mllp`, `mqtt`, `snmp`, …
    pub name: String,
    pub product: Option<String>,
    pub version: Option<String>,
    /// CPE 2.3 formatted string, e.g. `cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*`.
    pub cpe: Option<String>,
    /// Flat key/values for display and export (e.g. `fhir_version`, `dicom_impl_uid`).
    pub extra: BTreeMap<String, String>,
    pub method: DetectionMethod,
    /// Present when the port speaks TLS (directly, not via STARTTLS).
    pub tls: Option<TlsInfo>,
    pub detail: Option<ServiceDetail>,
}

impl Service {
    pub fn named(name: &str, method: DetectionMethod) -> Self {
        Self {
            name: name.to_owned(),
            product: None,
            version: None,
            cpe: None,
            extra: BTreeMap::new(),
            method,
            tls: None,
            detail: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Port {
    pub port: u16,
    pub proto: Proto,
    pub state: PortState,
    pub service: Option<Service>,
    /// Connect (TCP) or answer (UDP) time of the port-scan probe, in microseconds.
    pub rtt_us: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub addr: IpAddr,
    /// From the local neighbour table (`aa:bb:cc:dd:ee:ff`, lower case) when the host is on-link.
    pub mac: Option<String>,
    pub up: bool,
    /// Why the host is considered up: `conn-accepted:80`, `conn-refused:443`, `user-set`, `arp`.
    pub up_reason: Option<String>,
    /// Open (and UDP open|filtered) ports, sorted by (proto, port).
    pub ports: Vec<Port>,
    /// Every connection attempt and datagram sent to this host (discovery, scan, detection,
    /// credentials, retries).
    pub probes_sent: u32,
    /// The host was scanned by discovery only (fragile device).
    pub discovery_only: bool,
    /// Ports scanned and found closed / filtered (not listed in `ports`).
    pub closed_ports: u32,
    pub filtered_ports: u32,
}

impl Host {
    pub fn new(addr: IpAddr) -> Self {
        Self {
            addr,
            mac: None,
            up: false,
            up_reason: None,
            ports: Vec::new(),
            probes_sent: 0,
            discovery_only: false,
            closed_ports: 0,
            filtered_ports: 0,
        }
    }
    pub fn open_ports(&self) -> impl Iterator<Item = &Port> {
        self.ports.iter().filter(|p| p.state == PortState::Open)
    }
}

/// The outcome of one default-credential attempt; every attempt is returned so the caller can
/// write it to the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialAttempt {
    pub host: IpAddr,
    pub port: u16,
    pub proto: Proto,
    /// `http-basic`, `orthanc-rest`, `mqtt`, `snmp-community`.
    pub mechanism: String,
    pub username: String,
    /// The tried secret is a published vendor default, so it is recorded as is, to let the
    /// operator see exactly what was tried.
    pub secret: String,
    pub outcome: AttemptOutcome,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Accepted,
    Rejected,
    Error,
}

/// A host the plan left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedHost {
    pub addr: IpAddr,
    /// `excluded`.
    pub reason: String,
}

/// Everything one scan run observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Profile id (`medical-safe`, `standard`, `full`, `imported`).
    pub profile: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// True when the caller cancelled: the hosts are what was found until then.
    pub cancelled: bool,
    pub hosts: Vec<Host>,
    pub credential_attempts: Vec<CredentialAttempt>,
    pub skipped: Vec<SkippedHost>,
}

impl ScanReport {
    pub fn probes_total(&self) -> u64 {
        self.hosts.iter().map(|h| u64::from(h.probes_sent)).sum()
    }
    pub fn host(&self, addr: IpAddr) -> Option<&Host> {
        self.hosts.iter().find(|h| h.addr == addr)
    }
}
