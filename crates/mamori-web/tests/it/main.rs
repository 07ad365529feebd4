//! The web layer's security, against the real router on 127.0.0.1 with a real store:
//! every route × every role, CSRF, lockout, throttling, session fixation, cookies, XSS,
//! TOTP replay, and tenant isolation through UI and API on SQLite and PostgreSQL.

mod checklist;
mod kit;
mod ledgers;
mod matrix;
mod scans;
mod security;
