//! Appending to an audit chain inside a transaction: the head is read once, each entry is
//! sealed after the previous one, and the head is written back before commit.

use mamori_domain::audit::{AuditDraft, AuditEvent, Chain, GENESIS, from_hex};

pub(crate) struct ChainWriter {
    pub chain: Chain,
    pub seq: u64,
    pub hash: [u8; 32],
    pub dirty: bool,
}

impl ChainWriter {
    pub fn from_head(chain: Chain, head: Option<(i64, String)>) -> Result<Self, crate::StoreError> {
        match head {
            None => Ok(Self { chain, seq: 0, hash: GENESIS, dirty: false }),
            Some((seq, hash)) => Ok(Self {
                chain,
                seq: u64::try_from(seq)
                    .map_err(|_| crate::StoreError::Corrupt(format!("audit head {chain}: seq {seq}")))?,
                hash: from_hex(&hash)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("audit head {chain}: bad hash")))?,
                dirty: false,
            }),
        }
    }

    /// Seals the next entry; the caller inserts it.
    pub fn seal(&mut self, draft: &AuditDraft) -> AuditEvent {
        let event = AuditEvent::seal(self.chain, self.seq + 1, self.hash, draft, mamori_domain::time_fmt::now());
        self.seq = event.seq;
        self.hash = from_hex(&event.hash).expect("sealed hash is valid hex");
        self.dirty = true;
        event
    }
}

pub(crate) const INSERT_EVENT: &str = "INSERT INTO audit_events \
    (id, chain, institution_id, seq, at, actor, action, object_kind, object_id, details, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub(crate) const UPSERT_HEAD: &str = "INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, $2, $3) \
    ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

/// One object's entries on one chain, newest first (served by `audit_by_object`).
pub(crate) const SELECT_OBJECT_EVENTS: &str = "SELECT id, chain, seq, at, actor, action, object_kind, object_id, \
    details, prev_hash, hash FROM audit_events WHERE chain = $1 AND object_kind = $2 AND object_id = $3 \
    ORDER BY seq DESC LIMIT $4";

pub(crate) const SELECT_EVENTS: &str = "SELECT id, chain, seq, at, actor, action, object_kind, object_id, \
    details, prev_hash, hash FROM audit_events WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3";
