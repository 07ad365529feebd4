//! The cryptography of logging in: argon2id password hashes, TOTP (RFC 6238) with its QR
//! code as SVG, and sealing of secrets at rest (TOTP seeds, pending setup state) with the
//! installation key. Nothing here logs or formats a secret.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use std::fmt;
use totp_rs::{Algorithm, Builder};

/// The installation's 256-bit key for secrets at rest. Lives in the data directory
/// (`secret.key`, mode 0600), never in the database, so a copy of the database alone does
/// not reveal TOTP seeds.
#[derive(Clone)]
pub struct InstallationKey(LessSafeKeyBytes);

#[derive(Clone)]
struct LessSafeKeyBytes([u8; 32]);

impl fmt::Debug for InstallationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallationKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("the sealed value is damaged or was sealed with another key")]
    Unseal,
    #[error("password hashing failed")]
    Hash,
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b
}

/// A random URL-safe token of 256 bits (session ids, CSRF tokens).
pub fn random_token() -> String {
    B64.encode(random_bytes::<32>())
}

impl InstallationKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(LessSafeKeyBytes(bytes))
    }

    pub fn generate() -> Self {
        Self::from_bytes(random_bytes())
    }

    fn key(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &self.0.0).expect("32-byte key"))
    }

    /// `v1.` + base64(nonce ‖ ciphertext ‖ tag); `purpose` is bound as associated data so a
    /// value sealed for one use cannot be replayed as another.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let nonce_bytes = random_bytes::<12>();
        let mut buf = plaintext.to_vec();
        self.key()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose.as_bytes()),
                &mut buf,
            )
            .expect("sealing cannot fail for in-memory data");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        format!("v1.{}", B64.encode(out))
    }

    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SecurityError> {
        let raw = sealed.strip_prefix("v1.").and_then(|b| B64.decode(b).ok()).ok_or(SecurityError::Unseal)?;
        if raw.len() < 12 + 16 {
            return Err(SecurityError::Unseal);
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecurityError::Unseal)?;
        let mut buf = ct.to_vec();
        let plain = self
            .key()
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buf)
            .map_err(|_| SecurityError::Unseal)?;
        Ok(plain.to_vec())
    }
}

/// argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1: OWASP's recommendation);
/// the parameters are stored in the PHC string, so they can be raised later.
pub fn hash_password(password: &str) -> Result<String, SecurityError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|_| SecurityError::Hash)
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real check when the login does not exist, so response times
/// do not tell which logins exist.
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("mamori-dummy-password-1!").unwrap_or_default());
    let _ = verify_password(password, phc);
}

/// TOTP as authenticator apps expect it: SHA-1, 6 digits, 30-second steps.
pub struct Totp {
    seed: Vec<u8>,
    account: String,
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp").field("account", &self.account).finish_non_exhaustive()
    }
}

pub const TOTP_STEP: u64 = 30;
const TOTP_SEAL: &str = "totp-seed";

impl Totp {
    pub fn generate(account: &str) -> Self {
        Self { seed: random_bytes::<20>().to_vec(), account: account.to_owned() }
    }

    pub fn from_sealed(key: &InstallationKey, sealed: &str, account: &str) -> Result<Self, SecurityError> {
        Ok(Self { seed: key.open(TOTP_SEAL, sealed)?, account: account.to_owned() })
    }

    pub fn seal(&self, key: &InstallationKey) -> String {
        key.seal(TOTP_SEAL, &self.seed)
    }

    fn totp(&self) -> totp_rs::Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(TOTP_STEP)
            .with_secret(self.seed.clone())
            .with_issuer(Some("mamori"))
            .with_account_name(self.account.clone())
            .build_noncompliant()
    }

    /// The seed in base32, for typing into an app that cannot scan.
    pub fn secret_base32(&self) -> String {
        self.totp().secret().to_base32()
    }

    pub fn url(&self) -> String {
        self.totp().to_url().unwrap_or_default()
    }

    /// The otpauth URL as an SVG QR code (inline in the page: no image request, no script).
    pub fn qr_svg(&self) -> String {
        match qrcode::QrCode::with_error_correction_level(self.url().as_bytes(), qrcode::EcLevel::M) {
            Ok(code) => code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build(),
            Err(_) => String::new(),
        }
    }

    /// The code for a given time (tests, and to show nothing else).
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.totp().generate(unix_seconds).to_string()
    }

    /// The time step the code belongs to, accepting one step of clock drift either way.
    /// The caller must still check the step is newer than the last one accepted.
    pub fn matching_step(&self, code: &str, unix_seconds: u64) -> Option<i64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now_step = unix_seconds / TOTP_STEP;
        [now_step.saturating_sub(1), now_step, now_step + 1].into_iter().find_map(|step| {
            let expected = self.totp().generate(step * TOTP_STEP).to_string();
            same_secret(&expected, code).then_some(step as i64)
        })
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Equality of secrets without an early exit: the BLAKE3 digests are compared, and
/// `blake3::Hash` compares in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    blake3::hash(a.as_bytes()) == blake3::hash(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_purpose() {
        let k = InstallationKey::generate();
        let s = k.seal("totp-seed", b"seed");
        assert_eq!(k.open("totp-seed", &s).unwrap(), b"seed");
        assert!(k.open("setup", &s).is_err(), "purpose is bound");
        assert!(InstallationKey::generate().open("totp-seed", &s).is_err());
        let mut tampered = s.clone();
        tampered.replace_range(10..11, if &s[10..11] == "A" { "B" } else { "A" });
        assert!(k.open("totp-seed", &tampered).is_err());
        assert_ne!(k.seal("p", b"x"), k.seal("p", b"x"), "fresh nonce each time");
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("k7#vLq2m").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("k7#vLq2m", &h));
        assert!(!verify_password("k7#vLq2M", &h));
        assert!(!verify_password("k7#vLq2m", "not a phc string"));
    }

    #[test]
    fn totp_matches_rfc6238_and_allows_one_step_of_drift() {
        // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", T = 59 → 94287082 (8 digits);
        // 6 digits are its last six.
        let t = Totp { seed: b"12345678901234567890".to_vec(), account: "a".into() };
        assert_eq!(t.code_at(59), "287082");
        let now = 1_700_000_000;
        let code = t.code_at(now);
        assert_eq!(t.matching_step(&code, now), Some((now / 30) as i64));
        assert_eq!(t.matching_step(&t.code_at(now - 30), now), Some((now / 30 - 1) as i64));
        assert_eq!(t.matching_step(&t.code_at(now - 90), now), None);
        assert_eq!(t.matching_step("12345", now), None);
        assert_eq!(t.matching_step("abcdef", now), None);
    }

    #[test]
    fn qr_is_svg_and_url_names_mamori() {
        let t = Totp::generate("admin1");
        assert!(t.url().starts_with("otpauth://totp/mamori:admin1?secret="), "{}", t.url());
        assert!(t.qr_svg().contains("<svg"));
        let k = InstallationKey::generate();
        let back = Totp::from_sealed(&k, &t.seal(&k), "admin1").unwrap();
        assert_eq!(back.secret_base32(), t.secret_base32());
    }
}
