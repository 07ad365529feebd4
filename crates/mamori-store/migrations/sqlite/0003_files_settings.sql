-- mamori schema 3 (sqlite): per-institution settings (saved import column mappings, …) and
-- files attached to evidence (MDS/SDS documents, BCP, checklist evidence), kept in the
-- database so that a backup of the database holds them too.

CREATE TABLE institution_settings (
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (institution_id, key)
);

CREATE TABLE attachments (
    institution_id TEXT NOT NULL,
    evidence_id TEXT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (institution_id, evidence_id),
    FOREIGN KEY (institution_id, evidence_id) REFERENCES evidence (institution_id, id)
);
