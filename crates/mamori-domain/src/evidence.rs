//! Evidence: what was observed, by which job, when. Findings and checklist answers point here.

use crate::{EvidenceId, JobId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub id: EvidenceId,
    /// What sort of observation: `ledger-import`, `scan`, `log-event`, `backup-run`, `document`, …
    pub kind: String,
    /// One line a person can read.
    pub summary: String,
    /// The observation itself (structured).
    pub data: serde_json::Value,
    /// Where it came from, e.g. the scan or file name.
    pub source: Option<String>,
    /// The job that observed it, if a job did.
    pub job_id: Option<JobId>,
    /// BLAKE3 of an attached file's bytes, hex.
    pub content_hash: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub observed_at: OffsetDateTime,
}

impl Evidence {
    pub fn new(kind: &str, summary: &str, data: serde_json::Value) -> Self {
        Self {
            id: EvidenceId::new(),
            kind: kind.to_owned(),
            summary: summary.to_owned(),
            data,
            source: None,
            job_id: None,
            content_hash: None,
            observed_at: crate::time_fmt::now(),
        }
    }
}
