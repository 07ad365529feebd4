-- mamori schema 4 (postgres): the MHLW checklist. Editions an administrator imported from
-- MHLW's workbook (the shipped ones live in the binary), answers per institution, fiscal
-- year, form and (for 事業者確認用) vendor, and which vendor was asked to answer which form.
-- An answer's history is its audit entries (`checklist.answer`).

CREATE TABLE checklist_editions (
    id TEXT PRIMARY KEY,
    fiscal_year INTEGER NOT NULL,
    definition JSONB NOT NULL,
    source TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE checklist_answers (
    institution_id UUID NOT NULL REFERENCES institutions (id),
    fiscal_year INTEGER NOT NULL,
    form TEXT NOT NULL,
    vendor_key TEXT NOT NULL,
    item_id TEXT NOT NULL,
    device_class TEXT NOT NULL,
    answer JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (institution_id, fiscal_year, form, vendor_key, item_id, device_class)
);

CREATE TABLE checklist_assignments (
    institution_id UUID NOT NULL,
    fiscal_year INTEGER NOT NULL,
    form TEXT NOT NULL,
    vendor_id UUID NOT NULL,
    -- the 事業者 user who answers for the vendor
    user_id UUID REFERENCES users (id),
    assigned_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (institution_id, fiscal_year, form, vendor_id),
    FOREIGN KEY (institution_id, vendor_id) REFERENCES vendors (institution_id, id)
);
