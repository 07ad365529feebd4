-- mamori schema 2 (postgres): people who log in, their role per institution, their sessions,
-- and API tokens that belong to a user. Users are disabled, never deleted.

CREATE TABLE users (
    id UUID PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step BIGINT,
    installation_admin BOOLEAN NOT NULL,
    disabled BOOLEAN NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until TIMESTAMPTZ,
    password_changed_at TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    user_id UUID NOT NULL REFERENCES users (id),
    institution_id UUID NOT NULL REFERENCES institutions (id),
    role TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, institution_id)
);
CREATE INDEX memberships_by_institution ON memberships (institution_id);

-- id_hash is the hash of the cookie's secret; the secret itself is never stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    mfa_pending BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- A token without a user was minted at the server's console and acts as the installation
-- administrator; institution_id and role narrow a user's token.
ALTER TABLE api_tokens ADD COLUMN user_id UUID REFERENCES users (id);
ALTER TABLE api_tokens ADD COLUMN institution_id UUID REFERENCES institutions (id);
ALTER TABLE api_tokens ADD COLUMN role TEXT;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at);
