//! The audit log: an append-only, hash-chained list of every change and security-relevant
//! action. Each institution has its own chain (so a clinic's auditor can verify its own
//! log), and installation-wide events go to the `system` chain.
//!
//! `hash = BLAKE3("mamori-audit-v1" ‖ len‖chain ‖ len‖seq ‖ len‖at ‖ len‖actor ‖ len‖action ‖
//! len‖object_kind ‖ len‖object_id ‖ len‖details ‖ prev_hash)` with every length a u64 LE.
//! Editing, deleting or reordering an entry breaks the chain; deleting the newest entries
//! is caught by the chain head, which is written in the same transaction as each entry.

use crate::{AuditEventId, InstitutionId};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

pub const GENESIS: [u8; 32] = [0; 32];

/// Which chain an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Chain {
    System,
    Institution(InstitutionId),
}

impl Chain {
    pub fn institution(self) -> Option<InstitutionId> {
        match self {
            Chain::System => None,
            Chain::Institution(id) => Some(id),
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        if s == "system" { Some(Chain::System) } else { s.parse().ok().map(Chain::Institution) }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chain::System => f.write_str("system"),
            Chain::Institution(id) => id.fmt(f),
        }
    }
}

/// What a caller records; the store assigns sequence, time and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditDraft {
    pub actor: String,
    /// Dotted verb, e.g. `record.update`, `job.cancel`, `auth.login_failed`.
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// Structured details. Never secrets: callers pass ids and changed field names/values
    /// of non-secret fields only.
    pub details: serde_json::Value,
}

impl AuditDraft {
    pub fn new(actor: &str, action: &str) -> Self {
        Self {
            actor: actor.to_owned(),
            action: action.to_owned(),
            object_kind: None,
            object_id: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }
    pub fn object(mut self, kind: &str, id: impl fmt::Display) -> Self {
        self.object_kind = Some(kind.to_owned());
        self.object_id = Some(id.to_string());
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub chain: Chain,
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// Canonical JSON text (sorted keys), exactly as hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// JSON with object keys sorted at every level: the same bytes whatever map order the
/// producer or the database used.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    // Sorting is done here rather than trusting serde_json's map type, which another crate
    // in the build may switch to insertion order.
    let sorted = sort(v);
    let mut out = String::new();
    write_sorted(&sorted, &mut out);
    out
}

fn write_sorted(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                write_sorted(&m[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    chain: Chain,
    seq: u64,
    at: OffsetDateTime,
    actor: &str,
    action: &str,
    object_kind: Option<&str>,
    object_id: Option<&str>,
    details: &str,
    prev_hash: &[u8; 32],
) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"mamori-audit-v1");
    let chain = chain.to_string();
    let seq = seq.to_string();
    let at = crate::time_fmt::format(at);
    for part in [
        chain.as_str(),
        seq.as_str(),
        at.as_str(),
        actor,
        action,
        object_kind.unwrap_or(""),
        object_id.unwrap_or(""),
        details,
    ] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.update(prev_hash);
    *h.finalize().as_bytes()
}

impl AuditEvent {
    /// Seals a draft as entry `seq` of `chain` after `prev_hash`.
    pub fn seal(chain: Chain, seq: u64, prev_hash: [u8; 32], draft: &AuditDraft, at: OffsetDateTime) -> Self {
        let at = crate::time_fmt::canonical(at);
        let details = canonical_json(&draft.details);
        let hash = entry_hash(
            chain,
            seq,
            at,
            &draft.actor,
            &draft.action,
            draft.object_kind.as_deref(),
            draft.object_id.as_deref(),
            &details,
            &prev_hash,
        );
        Self {
            id: AuditEventId::new(),
            chain,
            seq,
            at,
            actor: draft.actor.clone(),
            action: draft.action.clone(),
            object_kind: draft.object_kind.clone(),
            object_id: draft.object_id.clone(),
            details,
            prev_hash: to_hex(&prev_hash),
            hash: to_hex(&hash),
        }
    }

    pub fn recompute_hash(&self) -> Option<[u8; 32]> {
        let prev = from_hex(&self.prev_hash)?;
        Some(entry_hash(
            self.chain,
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            self.object_kind.as_deref(),
            self.object_id.as_deref(),
            &self.details,
            &prev,
        ))
    }
}

pub fn to_hex(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn from_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

/// The newest entry of a chain, kept beside the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub chain: Chain,
    pub seq: u64,
    pub hash: String,
}

/// Where and how a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainBreak {
    #[error("entry {seq} does not match its hash (edited)")]
    Edited { seq: u64 },
    #[error("entry {found} follows entry {expected_after}: entries are missing or reordered")]
    Gap { expected_after: u64, found: u64 },
    #[error("entry {seq} does not link to the entry before it (deleted, inserted or reordered)")]
    Unlinked { seq: u64 },
    #[error("the chain ends at entry {last} but its head records entry {head} (newest entries deleted)")]
    Truncated { last: u64, head: u64 },
    #[error("the head records entry {seq} with another hash")]
    HeadMismatch { seq: u64 },
    #[error("entries exist but the chain head is missing")]
    HeadMissing,
    #[error("the chain has no entries although it must have some (log deleted)")]
    Emptied,
}

/// Checks one chain entry by entry, in `seq` order, with constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: u64,
    last_hash: [u8; 32],
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self { last_seq: 0, last_hash: GENESIS, checked: 0 }
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    pub fn push(&mut self, e: &AuditEvent) -> Result<(), ChainBreak> {
        if e.seq != self.last_seq + 1 {
            return Err(ChainBreak::Gap { expected_after: self.last_seq, found: e.seq });
        }
        let Some(recomputed) = e.recompute_hash() else {
            return Err(ChainBreak::Edited { seq: e.seq });
        };
        if to_hex(&recomputed) != e.hash {
            return Err(ChainBreak::Edited { seq: e.seq });
        }
        if from_hex(&e.prev_hash) != Some(self.last_hash) {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        self.last_seq = e.seq;
        self.last_hash = recomputed;
        self.checked += 1;
        Ok(())
    }

    pub fn finish(self, head: Option<&ChainHead>) -> Result<u64, ChainBreak> {
        match head {
            None if self.last_seq == 0 => Ok(0),
            None => Err(ChainBreak::HeadMissing),
            Some(h) if h.seq != self.last_seq => Err(ChainBreak::Truncated { last: self.last_seq, head: h.seq }),
            Some(h) if h.hash != to_hex(&self.last_hash) => Err(ChainBreak::HeadMismatch { seq: h.seq }),
            Some(_) => Ok(self.checked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain_of(n: u64) -> (Vec<AuditEvent>, ChainHead) {
        let chain = Chain::Institution(InstitutionId::new());
        let mut prev = GENESIS;
        let mut out = Vec::new();
        for seq in 1..=n {
            let d =
                AuditDraft::new("cli:root", "record.create").object("assets", seq).details(json!({"b": 1, "a": [seq]}));
            let e = AuditEvent::seal(chain, seq, prev, &d, crate::time_fmt::now());
            prev = from_hex(&e.hash).unwrap();
            out.push(e);
        }
        let head = ChainHead { chain, seq: n, hash: to_hex(&prev) };
        (out, head)
    }

    fn verify(events: &[AuditEvent], head: Option<&ChainHead>) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::new();
        for e in events {
            v.push(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let (events, head) = chain_of(5);
        assert_eq!(verify(&events, Some(&head)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn edit_delete_reorder_and_truncation_are_caught() {
        let (events, head) = chain_of(5);

        let mut edited = events.clone();
        edited[2].actor = "someone-else".into();
        assert_eq!(verify(&edited, Some(&head)), Err(ChainBreak::Edited { seq: 3 }));

        let mut deleted = events.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, Some(&head)), Err(ChainBreak::Gap { expected_after: 1, found: 3 }));

        let mut swapped = events.clone();
        swapped.swap(1, 2);
        (swapped[1].seq, swapped[2].seq) = (2, 3);
        assert!(matches!(verify(&swapped, Some(&head)), Err(ChainBreak::Edited { .. })));

        assert_eq!(verify(&events[..4], Some(&head)), Err(ChainBreak::Truncated { last: 4, head: 5 }));
        assert_eq!(verify(&events, None), Err(ChainBreak::HeadMissing));
    }

    #[test]
    fn canonical_json_sorts_nested_keys() {
        assert_eq!(canonical_json(&json!({"b": {"y": 1, "x": 2}, "a": "あ"})), r#"{"a":"あ","b":{"x":2,"y":1}}"#);
    }

    #[test]
    fn hex_round_trips() {
        let b = *blake3::hash(b"x").as_bytes();
        assert_eq!(from_hex(&to_hex(&b)), Some(b));
        assert_eq!(from_hex("zz"), None);
    }
}
