//! Who may do what in mamori itself: users, their roles per institution, sessions, and the
//! password rule. mamori must pass the checklist it checks, so the rules here follow it:
//! MFA for everyone, least privilege per institution, passwords of mixed letters, digits and
//! symbols (8+; no forced periodic change because MFA is always on).

use crate::{InstitutionId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A role in one institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// システム管理者: everything in the institution, including its users.
    Admin,
    /// 担当者: edits data and runs jobs.
    Operator,
    /// 閲覧者: reads everything including the audit log; changes nothing.
    Auditor,
    /// 事業者: a vendor's user; sees only the institutions and forms assigned to it.
    Vendor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Auditor, Role::Vendor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Vendor => "vendor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permission matrix. Deny unless listed.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Operator => matches!(p, ViewDashboard | ViewData | EditData | ViewJobs | RunJobs | CancelJobs),
            Role::Auditor => matches!(p, ViewDashboard | ViewData | ViewJobs | ViewAudit | VerifyAudit),
            Role::Vendor => matches!(p, ViewDashboard | VendorForms),
        }
    }
}

/// What a request needs, per institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewDashboard,
    /// Ledgers, findings, evidence.
    ViewData,
    EditData,
    ViewJobs,
    RunJobs,
    CancelJobs,
    ViewAudit,
    VerifyAudit,
    /// Memberships and roles of the institution's users.
    ManageUsers,
    /// The institution's own settings.
    ManageInstitution,
    /// 事業者確認用 forms assigned to the vendor.
    VendorForms,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::ViewDashboard,
        Permission::ViewData,
        Permission::EditData,
        Permission::ViewJobs,
        Permission::RunJobs,
        Permission::CancelJobs,
        Permission::ViewAudit,
        Permission::VerifyAudit,
        Permission::ManageUsers,
        Permission::ManageInstitution,
        Permission::VendorForms,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub user_id: UserId,
    pub institution_id: InstitutionId,
    pub role: Role,
}

/// A person who logs in to mamori.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Login name, stored lower-case; unique.
    pub login: String,
    pub display_name: String,
    /// argon2id PHC string (parameters included). Never shown, never logged.
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// The TOTP seed, encrypted with the installation's key. Never shown, never logged.
    #[serde(skip_serializing)]
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted: a code is never accepted twice.
    pub totp_last_step: Option<i64>,
    /// The installation's administrator: creates institutions, manages every user, and is
    /// システム管理者 in every institution.
    pub installation_admin: bool,
    pub disabled: bool,
    pub failed_logins: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub password_changed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("installation_admin", &self.installation_admin)
            .field("disabled", &self.disabled)
            .field("password_hash", &"<redacted>")
            .field("totp_secret", &self.totp_secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl User {
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }

    pub fn mfa_enrolled(&self) -> bool {
        self.totp_secret.is_some()
    }
}

/// Login names: 3–64 characters of `a-z 0-9 . _ - @`, case-insensitive.
pub fn normalize_login(login: &str) -> Result<String, AuthError> {
    let l = login.trim().to_lowercase();
    let ok_len = (3..=64).contains(&l.chars().count());
    let ok_chars = l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok_len && ok_chars { Ok(l) } else { Err(AuthError::BadLogin) }
}

/// The product's own password rule (チェックリスト 2-⑦): at least 8 characters mixing letters,
/// digits and symbols; not the login name; not a well-known password. MFA is mandatory in
/// mamori, so periodic change is not required.
pub fn check_password(password: &str, login: &str) -> Result<(), PasswordProblem> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if n > 256 {
        return Err(PasswordProblem::TooLong);
    }
    let letters = password.chars().any(|c| c.is_alphabetic());
    let digits = password.chars().any(|c| c.is_numeric());
    let symbols = password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace());
    if !(letters && digits && symbols) {
        return Err(PasswordProblem::NotMixed);
    }
    let lower = password.to_lowercase();
    if !login.is_empty() && lower.contains(&login.to_lowercase()) {
        return Err(PasswordProblem::ContainsLogin);
    }
    if COMMON.iter().any(|c| lower.starts_with(c)) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

pub const MIN_PASSWORD_CHARS: usize = 8;

/// Stems of the passwords attackers try first; a password starting with one is refused
/// even with a digit and a symbol appended ("password1!").
const COMMON: &[&str] =
    &["password", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty", "12345678", "abc123", "admin", "iloveyou", "letmein"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("shorter than 8 characters")]
    TooShort,
    #[error("longer than 256 characters")]
    TooLong,
    #[error("does not mix letters, digits and symbols")]
    NotMixed,
    #[error("contains the login name")]
    ContainsLogin,
    #[error("a well-known password")]
    Common,
}

impl PasswordProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "too-short",
            Self::TooLong => "too-long",
            Self::NotMixed => "not-mixed",
            Self::ContainsLogin => "contains-login",
            Self::Common => "common",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("login names are 3 to 64 characters of a-z, 0-9, '.', '_', '-' and '@'")]
    BadLogin,
}

/// Lockout after repeated failures: 5 failures lock the account for 15 minutes; each
/// further failure while locked doubles it, up to 24 hours.
pub fn lockout_after_failure(failed_logins: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    const FREE: u32 = 5;
    if failed_logins < FREE {
        return None;
    }
    let doublings = (failed_logins - FREE).min(7);
    let minutes = (15i64 << doublings).min(24 * 60);
    Some(now + time::Duration::minutes(minutes))
}

/// A server-side session. The cookie holds a random secret; only its hash is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id_hash: String,
    pub user_id: UserId,
    /// Synchronizer token for forms and htmx requests of this session.
    #[serde(skip_serializing)]
    pub csrf_token: String,
    /// True once the password was checked but before the TOTP code was.
    pub mfa_pending: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("mfa_pending", &self.mfa_pending)
            .finish_non_exhaustive()
    }
}

/// Session lifetimes: idle timeout (default 30 minutes) and absolute timeout (default 12 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: time::Duration,
    pub absolute: time::Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle: time::Duration::minutes(30), absolute: time::Duration::hours(12) }
    }
}

impl SessionPolicy {
    pub fn is_live(&self, s: &Session, now: OffsetDateTime) -> bool {
        now < s.expires_at && now - s.last_seen_at < self.idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_least_privilege() {
        use Permission::*;
        assert!(Permission::ALL.iter().all(|p| Role::Admin.allows(*p)));
        assert!(
            Role::Operator.allows(EditData) && !Role::Operator.allows(ViewAudit) && !Role::Operator.allows(ManageUsers)
        );
        assert!(Role::Auditor.allows(ViewAudit) && !Role::Auditor.allows(EditData) && !Role::Auditor.allows(RunJobs));
        let vendor: Vec<_> = Permission::ALL.into_iter().filter(|p| Role::Vendor.allows(*p)).collect();
        assert_eq!(vendor, [ViewDashboard, VendorForms]);
    }

    #[test]
    fn password_rule_follows_the_checklist() {
        assert_eq!(check_password("Ab1!", "u"), Err(PasswordProblem::TooShort));
        assert_eq!(check_password("abcdefgh12", "u"), Err(PasswordProblem::NotMixed));
        assert_eq!(check_password("abcdefgh!!", "u"), Err(PasswordProblem::NotMixed));
        assert_eq!(check_password("yamada-2026!", "yamada"), Err(PasswordProblem::ContainsLogin));
        assert_eq!(check_password("Password1!", "u"), Err(PasswordProblem::Common));
        assert_eq!(check_password("まもり診療所2026!", "u"), Ok(()));
        assert_eq!(check_password("k7#vLq2m", "yamada"), Ok(()));
    }

    #[test]
    fn logins_are_normalised() {
        assert_eq!(normalize_login(" Yamada.Hanako ").unwrap(), "yamada.hanako");
        assert!(normalize_login("ab").is_err());
        assert!(normalize_login("山田").is_err());
        assert!(normalize_login("a b c").is_err());
    }

    #[test]
    fn lockout_grows_and_is_capped() {
        let now = crate::time_fmt::now();
        assert_eq!(lockout_after_failure(4, now), None);
        assert_eq!(lockout_after_failure(5, now), Some(now + time::Duration::minutes(15)));
        assert_eq!(lockout_after_failure(6, now), Some(now + time::Duration::minutes(30)));
        assert_eq!(lockout_after_failure(40, now), Some(now + time::Duration::hours(24)));
    }

    #[test]
    fn secrets_stay_out_of_debug_and_json() {
        let now = crate::time_fmt::now();
        let u = User {
            id: UserId::new(),
            login: "admin1".into(),
            display_name: "管理者".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            totp_secret: Some("sealed-seed".into()),
            totp_last_step: None,
            installation_admin: true,
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            password_changed_at: now,
            last_login_at: None,
            created_at: now,
        };
        for shown in [format!("{u:?}"), serde_json::to_string(&u).unwrap()] {
            assert!(!shown.contains("argon2id") && !shown.contains("sealed-seed"), "{shown}");
        }
    }
}
