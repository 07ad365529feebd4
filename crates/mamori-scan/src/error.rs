//! Errors of the scanner. Each variant has a stable [`ScanError::code`] that the API layer maps to
//! an HTTP status and a message key; the `Display` text is for logs, not for users.

use std::net::IpAddr;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A target (or part of a target range) lies outside every segment the caller allowed.
    #[error("target {target} lies outside the registered segments")]
    TargetOutsideSegments { target: String },
    /// A target or CIDR could not be parsed.
    #[error("invalid target {input:?}: {reason}")]
    InvalidTarget { input: String, reason: &'static str },
    /// A target range expands to more hosts than the scanner accepts in one run.
    #[error("target range {target} has {hosts} hosts, more than the limit of {limit}")]
    TargetTooLarge { target: String, hosts: u128, limit: u64 },
    /// Nothing is left to scan once exclusions are applied.
    #[error("no targets left after exclusions")]
    NoTargets,
    /// The policy forbids scanning at this time (outside every allowed window).
    #[error("scanning is not allowed at this time")]
    OutsideTimeWindow,
    /// A policy value is out of range (e.g. a zero rate).
    #[error("invalid scan policy: {0}")]
    InvalidPolicy(&'static str),
    /// The profile id is not one of the known profiles.
    #[error("unknown scan profile {0:?}")]
    UnknownProfile(String),
    /// A port specification could not be parsed.
    #[error("invalid port specification {0:?}")]
    InvalidPorts(String),
    /// nmap XML could not be read.
    #[error("nmap XML is malformed at byte {position}: {reason}")]
    NmapXml { position: u64, reason: String },
    /// nmap XML declared a DTD with entities; we never resolve them.
    #[error("nmap XML declares entities (possible XXE); refused")]
    NmapXmlEntities,
    /// Writing the nmap XML export failed.
    #[error("writing nmap XML failed: {0}")]
    Export(String),
    /// The scan was cancelled before it started.
    #[error("scan cancelled")]
    Cancelled,
    /// An address the scanner would have contacted is outside the plan (internal safety net).
    #[error("refusing to contact {0}: not part of the scan plan")]
    NotInPlan(IpAddr),
}

impl ScanError {
    /// Stable, machine-readable code (kebab-case). Never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TargetOutsideSegments { .. } => "target-outside-segments",
            Self::InvalidTarget { .. } => "invalid-target",
            Self::TargetTooLarge { .. } => "target-too-large",
            Self::NoTargets => "no-targets",
            Self::OutsideTimeWindow => "outside-time-window",
            Self::InvalidPolicy(_) => "invalid-policy",
            Self::UnknownProfile(_) => "unknown-profile",
            Self::InvalidPorts(_) => "invalid-ports",
            Self::NmapXml { .. } => "nmap-xml-malformed",
            Self::NmapXmlEntities => "nmap-xml-entities",
            Self::Export(_) => "export-failed",
            Self::Cancelled => "scan-cancelled",
            Self::NotInPlan(_) => "not-in-plan",
        }
    }
}
