-- mamori schema 5: a finding raised by an analyser (a scan, later log and backup checks) carries
-- the key of what it is about (rule, host, port), so the next observation of the same problem
-- adds its evidence to the open finding instead of raising a duplicate.

ALTER TABLE findings ADD COLUMN dedup_key TEXT;
CREATE INDEX findings_by_key ON findings (institution_id, dedup_key);
