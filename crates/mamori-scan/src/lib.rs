//! mamori-scan: a network scanner that is safe for medical devices, as a library with no
//! database. It turns a [`ScanPolicy`] and the institution's [`Segment`]s into a [`ScanPlan`]
//! (refusing anything outside the segments), runs it with enforced rate limits, concurrency caps,
//! timeouts and retries ([`Scanner`]), identifies services with its own protocol probes
//! ([`probe`]: SSH, HTTP/FHIR/Orthanc, TLS, DICOM, HL7 MLLP, MQTT, SNMP, SMB, RDP, databases),
//! and returns plain facts ([`ScanReport`]). Findings ([`findings::findings`]), scan diffs
//! ([`findings::diff`]) and nmap XML ([`nmap_xml`]) are pure functions over those facts.
//!
//! It must not: store anything, write Japanese text, follow redirects, send data that changes a
//! device's state (no DICOM C-STORE, no HL7 message unless opted in, no MQTT publish), or reach
//! an address that is not in the plan.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mamori_scan::ScanError> {
//! use mamori_scan::*;
//! let policy = ScanPolicy::for_profile(Profile::parse("医療機器セーフ")?);
//! let scope = ScanScope { segments: vec![Segment::new("医療機器", "192.168.20.0/24")?], ..Default::default() };
//! let targets = ["192.168.20.0/24".parse()?];
//! let report = Scanner::new(policy)
//!     .scan(&targets, &scope, time::OffsetDateTime::now_utc(), &CancelToken::new(), None)
//!     .await?;
//! let found = findings::findings(&report, &findings::FindingInput::default());
//! let xml = nmap_xml::export(&report);
//! # let _ = (found, xml); Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod cpe;
mod error;
pub mod findings;
pub mod model;
pub mod neighbours;
pub mod nmap_xml;
pub mod policy;
pub mod probe;
mod scanner;
pub mod target;
mod throttle;

pub use error::ScanError;
pub use findings::{FindingCode, FindingInput, KnownDevices, ScanDiff, ScanFinding, SegmentRule, SegmentRules};
pub use model::{
    AttemptOutcome, CredentialAttempt, DetectionMethod, Host, Port, PortState, Proto, ScanReport, Service,
    ServiceDetail, SkippedHost,
};
pub use policy::{CredentialPolicy, HostPlan, Limits, PortSpec, Profile, ScanPlan, ScanPolicy, ScanScope, TimeWindow};
pub use scanner::{Progress, ProgressFn, Scanner};
pub use target::{IpNet, Segment};
pub use throttle::CancelToken;
