-- mamori schema 1 (postgres). Every tenant row carries institution_id; references between
-- rows are composite (institution_id, id) so a row can never point into another institution.

CREATE TABLE system_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE institutions (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    medical_code TEXT,
    demo BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE sites (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    address TEXT,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id)
);

CREATE INDEX sites_by_institution ON sites (institution_id, updated_at);

CREATE TABLE vendors (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    service TEXT,
    contact_name TEXT,
    phone TEXT,
    email TEXT,
    emergency_contact TEXT,
    address TEXT,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id)
);

CREATE INDEX vendors_by_institution ON vendors (institution_id, updated_at);

CREATE TABLE network_segments (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    site_id UUID,
    cidrs TEXT[] NOT NULL,
    purpose TEXT,
    vlan BIGINT,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id),
    FOREIGN KEY (institution_id, site_id) REFERENCES sites (institution_id, id)
);

CREATE INDEX network_segments_by_institution ON network_segments (institution_id, updated_at);

CREATE TABLE persons (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    name_kana TEXT,
    staff_number TEXT,
    department TEXT,
    job_title TEXT,
    email TEXT,
    joined_on DATE,
    retired_on DATE,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id)
);

CREATE INDEX persons_by_institution ON persons (institution_id, updated_at);

CREATE TABLE assets (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    hostname TEXT,
    site_id UUID,
    segment_id UUID,
    maker TEXT,
    model TEXT,
    serial TEXT,
    location TEXT,
    department TEXT,
    ip_addresses TEXT[],
    mac_addresses TEXT[],
    os_name TEXT,
    os_version TEXT,
    firmware_version TEXT,
    criticality TEXT,
    fragile BOOLEAN,
    owner TEXT,
    maintenance_vendor_id UUID,
    maintenance_until DATE,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id),
    FOREIGN KEY (institution_id, site_id) REFERENCES sites (institution_id, id),
    FOREIGN KEY (institution_id, segment_id) REFERENCES network_segments (institution_id, id),
    FOREIGN KEY (institution_id, maintenance_vendor_id) REFERENCES vendors (institution_id, id)
);

CREATE INDEX assets_by_institution ON assets (institution_id, updated_at);

CREATE TABLE software (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    asset_id UUID NOT NULL,
    name TEXT NOT NULL,
    publisher TEXT,
    version TEXT,
    cpe TEXT,
    end_of_life DATE,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id),
    FOREIGN KEY (institution_id, asset_id) REFERENCES assets (institution_id, id)
);

CREATE INDEX software_by_institution ON software (institution_id, updated_at);

CREATE TABLE accounts (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    system TEXT NOT NULL,
    username TEXT NOT NULL,
    asset_id UUID,
    holder TEXT NOT NULL,
    person_id UUID,
    vendor_id UUID,
    role TEXT,
    privileged BOOLEAN,
    mfa BOOLEAN,
    last_login_at TIMESTAMPTZ,
    status TEXT NOT NULL,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id),
    FOREIGN KEY (institution_id, asset_id) REFERENCES assets (institution_id, id),
    FOREIGN KEY (institution_id, person_id) REFERENCES persons (institution_id, id),
    FOREIGN KEY (institution_id, vendor_id) REFERENCES vendors (institution_id, id)
);

CREATE INDEX accounts_by_institution ON accounts (institution_id, updated_at);

CREATE TABLE contracts (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    vendor_id UUID NOT NULL,
    title TEXT NOT NULL,
    scope TEXT,
    starts_on DATE,
    ends_on DATE,
    responsibility TEXT,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id),
    FOREIGN KEY (institution_id, vendor_id) REFERENCES vendors (institution_id, id)
);

CREATE INDEX contracts_by_institution ON contracts (institution_id, updated_at);

CREATE TABLE remote_maintenance (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    vendor_id UUID NOT NULL,
    asset_id UUID,
    method TEXT NOT NULL,
    authentication TEXT,
    source_restriction TEXT,
    approval_rule TEXT,
    confirmed_on DATE,
    last_used_at TIMESTAMPTZ,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id),
    FOREIGN KEY (institution_id, vendor_id) REFERENCES vendors (institution_id, id),
    FOREIGN KEY (institution_id, asset_id) REFERENCES assets (institution_id, id)
);

CREATE INDEX remote_maintenance_by_institution ON remote_maintenance (institution_id, updated_at);

CREATE TABLE evidence (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    data JSONB NOT NULL,
    source TEXT,
    job_id UUID,
    content_hash TEXT,
    observed_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id)
);
CREATE INDEX evidence_by_kind ON evidence (institution_id, kind, observed_at);

CREATE TABLE mds_sds (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    system TEXT NOT NULL,
    vendor_id UUID,
    document TEXT NOT NULL,
    version TEXT,
    received_on DATE,
    evidence_id UUID,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id),
    FOREIGN KEY (institution_id, vendor_id) REFERENCES vendors (institution_id, id),
    FOREIGN KEY (institution_id, evidence_id) REFERENCES evidence (institution_id, id)
);

CREATE INDEX mds_sds_by_institution ON mds_sds (institution_id, updated_at);

CREATE INDEX assets_by_hostname ON assets (institution_id, hostname);
CREATE INDEX assets_by_serial ON assets (institution_id, serial);
CREATE INDEX accounts_by_person ON accounts (institution_id, person_id);


CREATE TABLE findings (
    id UUID PRIMARY KEY,
    institution_id UUID NOT NULL REFERENCES institutions (id),
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    remediation TEXT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (institution_id, id)
);
CREATE INDEX findings_by_status ON findings (institution_id, status, severity);

CREATE TABLE finding_history (
    institution_id UUID NOT NULL,
    finding_id UUID NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (finding_id, position),
    FOREIGN KEY (institution_id, finding_id) REFERENCES findings (institution_id, id)
);

CREATE TABLE finding_evidence (
    institution_id UUID NOT NULL,
    finding_id UUID NOT NULL,
    evidence_id UUID NOT NULL,
    PRIMARY KEY (finding_id, evidence_id),
    FOREIGN KEY (institution_id, finding_id) REFERENCES findings (institution_id, id),
    FOREIGN KEY (institution_id, evidence_id) REFERENCES evidence (institution_id, id)
);

CREATE TABLE finding_objects (
    institution_id UUID NOT NULL,
    finding_id UUID NOT NULL,
    object_kind TEXT NOT NULL,
    object_id UUID NOT NULL,
    PRIMARY KEY (finding_id, object_kind, object_id),
    FOREIGN KEY (institution_id, finding_id) REFERENCES findings (institution_id, id)
);
CREATE INDEX finding_objects_by_object ON finding_objects (institution_id, object_kind, object_id);

-- institution_id is NULL for installation-wide jobs (e.g. verifying every audit chain).
CREATE TABLE jobs (
    id UUID PRIMARY KEY,
    institution_id UUID REFERENCES institutions (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    progress_done BIGINT NOT NULL DEFAULT 0,
    progress_total BIGINT,
    message TEXT,
    params JSONB NOT NULL,
    result JSONB,
    error TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    runner TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    heartbeat_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE INDEX jobs_by_institution ON jobs (institution_id, created_at);

-- One hash chain per institution plus the 'system' chain (institution_id NULL).
-- `at` is the canonical text form that was hashed, in both backends.
CREATE TABLE audit_events (
    id UUID PRIMARY KEY,
    chain TEXT NOT NULL,
    institution_id UUID REFERENCES institutions (id),
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_kind TEXT,
    object_id TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_by_object ON audit_events (chain, object_kind, object_id);

CREATE TABLE audit_heads (
    chain TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
