//! Findings: one model for everything analysers report (scan, vulnerabilities, accounts,
//! logs, backups). Each names its evidence and the objects it affects, and keeps its history.

use crate::record::RecordKind;
use crate::{EvidenceId, FindingId, RecordId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Ordered: `Critical > High > Medium > Low > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Self::Info, Self::Low, Self::Medium, Self::High, Self::Critical];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// 未対応
    Open,
    /// 対応中
    InProgress,
    /// 対応済み (fixed; a later observation may reopen it)
    Resolved,
    /// リスク受容 (accepted with a reason)
    Accepted,
    /// 誤検知
    FalsePositive,
}

impl FindingStatus {
    pub const ALL: [FindingStatus; 5] =
        [Self::Open, Self::InProgress, Self::Resolved, Self::Accepted, Self::FalsePositive];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Accepted => "accepted",
            Self::FalsePositive => "false_positive",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
    /// Closing a finding without fixing it needs a reason a person wrote.
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Accepted | Self::FalsePositive)
    }
    pub fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::InProgress)
    }
}

/// Something a finding is about: a ledger record (asset, account, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: RecordKind,
    pub id: RecordId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: FindingStatus,
    pub actor: String,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: FindingId,
    /// Stable identifier of the rule that raised it, e.g. `scan.telnet-open`.
    pub rule: String,
    pub severity: Severity,
    pub status: FindingStatus,
    /// What is wrong (Japanese, plain words).
    pub title: String,
    /// Why it matters for a clinic.
    pub detail: String,
    /// The concrete fix.
    pub remediation: String,
    pub objects: Vec<ObjectRef>,
    pub evidence: Vec<EvidenceId>,
    pub history: Vec<StatusChange>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindingError {
    #[error("a finding needs a rule id and a title")]
    Incomplete,
    #[error("a finding must name the evidence it was raised on")]
    NoEvidence,
    #[error("changing the status to {0:?} needs a reason")]
    ReasonRequired(FindingStatus),
    #[error("the finding already has status {0:?}")]
    Unchanged(FindingStatus),
}

impl Finding {
    pub fn new(rule: &str, severity: Severity, title: &str, evidence: Vec<EvidenceId>) -> Self {
        let now = crate::time_fmt::now();
        Self {
            id: FindingId::new(),
            rule: rule.to_owned(),
            severity,
            status: FindingStatus::Open,
            title: title.to_owned(),
            detail: String::new(),
            remediation: String::new(),
            objects: Vec::new(),
            evidence,
            history: Vec::new(),
            first_seen: now,
            last_seen: now,
        }
    }

    pub fn check(&self) -> Result<(), FindingError> {
        if self.rule.trim().is_empty() || self.title.trim().is_empty() {
            return Err(FindingError::Incomplete);
        }
        if self.evidence.is_empty() {
            return Err(FindingError::NoEvidence);
        }
        Ok(())
    }

    /// The rule for a status change; the store records the returned change.
    pub fn change_status(
        &self,
        to: FindingStatus,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<StatusChange, FindingError> {
        status_change(self.status, to, actor, reason)
    }
}

/// The rule for changing a finding's status from `from` to `to`.
pub fn status_change(
    from: FindingStatus,
    to: FindingStatus,
    actor: &str,
    reason: Option<&str>,
) -> Result<StatusChange, FindingError> {
    if to == from {
        return Err(FindingError::Unchanged(to));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if to.needs_reason() && reason.is_none() {
        return Err(FindingError::ReasonRequired(to));
    }
    Ok(StatusChange {
        status: to,
        actor: actor.to_owned(),
        reason: reason.map(str::to_owned),
        at: crate::time_fmt::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_critical_first() {
        let mut v = vec![Severity::Low, Severity::Critical, Severity::Info, Severity::High];
        v.sort_by(|a, b| b.cmp(a));
        assert_eq!(v, [Severity::Critical, Severity::High, Severity::Low, Severity::Info]);
    }

    #[test]
    fn accepting_risk_needs_a_reason() {
        let f = Finding::new("scan.telnet-open", Severity::High, "Telnet", vec![EvidenceId::new()]);
        assert_eq!(
            f.change_status(FindingStatus::Accepted, "u", Some("  ")),
            Err(FindingError::ReasonRequired(FindingStatus::Accepted))
        );
        assert_eq!(f.change_status(FindingStatus::Open, "u", None), Err(FindingError::Unchanged(FindingStatus::Open)));
        let c = f.change_status(FindingStatus::Accepted, "u", Some("更新予定")).unwrap();
        assert_eq!(c.reason.as_deref(), Some("更新予定"));
    }

    #[test]
    fn finding_needs_evidence() {
        let f = Finding::new("r", Severity::Low, "t", vec![]);
        assert_eq!(f.check(), Err(FindingError::NoEvidence));
    }
}
