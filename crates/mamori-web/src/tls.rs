//! HTTPS for `mamori serve`: loads an operator's PEM certificate and key, or generates a
//! self-signed certificate once and keeps it in the data directory, and serves an axum
//! router over TLS.
//!
//! Users of a self-signed certificate check it by its SHA-256 fingerprint, so every
//! [`TlsSetup`] carries one in the form browsers show ("AB:CD:…").
//!
//! This module must never log, print or put into an error the private key. It uses rustls
//! with the ring provider only (the one sqlx already builds), TLS 1.2 and 1.3, and speaks
//! HTTP/1.1 only (ALPN `http/1.1`).

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// File names of the generated certificate and key inside the data directory.
const CERT_FILE: &str = "tls-cert.pem";
const KEY_FILE: &str = "tls-key.pem";
/// 825 days is the longest validity Apple platforms accept for a TLS server certificate.
const VALIDITY_DAYS: i64 = 825;
/// Names every generated certificate covers, so the server is reachable on loopback.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// A client that has not finished the handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight may take to finish after shutdown begins.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// A server TLS configuration ready for [`serve_tls`], with what the operator needs to know
/// about its certificate.
#[derive(Clone)]
pub struct TlsSetup {
    /// rustls configuration: ring provider, TLS 1.2+, no client authentication, ALPN `http/1.1`.
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the DER leaf certificate as upper-case hex pairs joined by `:`, the form
    /// browsers show in their certificate viewer.
    pub fingerprint_sha256: String,
    /// True when the certificate is the one mamori generated in the data directory.
    pub self_signed: bool,
    /// The PEM file the certificate was read from.
    pub cert_path: PathBuf,
}

// By hand: the derived form would print the whole ServerConfig; this says what matters and
// can never reach key material.
impl fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSetup")
            .field("fingerprint_sha256", &self.fingerprint_sha256)
            .field("self_signed", &self.self_signed)
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// Why a certificate could not be loaded or generated. The messages are for logs; the CLI
/// maps [`TlsError::code`] to a message in the user's language. No variant carries key
/// material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {kind}", path.display())]
    Unreadable { path: PathBuf, kind: io::ErrorKind },
    #[error("cannot write {}: {kind}", path.display())]
    Unwritable { path: PathBuf, kind: io::ErrorKind },
    #[error("{} has no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{} has no PEM private key (PKCS#8, RSA or SEC1)", path.display())]
    NoPrivateKey { path: PathBuf },
    /// The key is protected by a passphrase; mamori cannot ask for one at start-up.
    #[error("the private key in {} is encrypted", path.display())]
    EncryptedKey { path: PathBuf },
    #[error("{} is not valid PEM", path.display())]
    MalformedPem { path: PathBuf },
    #[error("the private key in {} does not belong to the certificate in {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    /// rustls refused the pair for another reason (unsupported key type, unparsable
    /// certificate).
    #[error("the certificate or key was rejected: {reason}")]
    Rejected { reason: String },
    #[error("{name:?} is not a valid host name or IP address for a certificate")]
    InvalidHostname { name: String },
    #[error("could not generate a certificate: {reason}")]
    Generate { reason: String },
}

impl TlsError {
    /// A stable kebab-case identifier for this kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreadable { .. } => "tls-file-unreadable",
            Self::Unwritable { .. } => "tls-file-unwritable",
            Self::NoCertificate { .. } => "tls-no-certificate",
            Self::NoPrivateKey { .. } => "tls-no-private-key",
            Self::EncryptedKey { .. } => "tls-key-encrypted",
            Self::MalformedPem { .. } => "tls-pem-malformed",
            Self::KeyMismatch { .. } => "tls-key-mismatch",
            Self::Rejected { .. } => "tls-rejected",
            Self::InvalidHostname { .. } => "tls-invalid-hostname",
            Self::Generate { .. } => "tls-generate-failed",
        }
    }
}

/// Loads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, RSA/PKCS#1 or
/// SEC1); both may be in the same file. Checks that the key belongs to the leaf certificate.
pub fn load(cert: &Path, key: &Path) -> Result<TlsSetup, TlsError> {
    build(cert, key, false)
}

/// Uses the self-signed certificate in `dir` (`tls-cert.pem`, `tls-key.pem`), generating it
/// first if either file is missing: ECDSA P-256, CN "mamori", valid for 825 days, for
/// `hostnames` (DNS names or IP addresses) plus `localhost`, `127.0.0.1` and `::1`.
///
/// An existing certificate is used as it is, even if `hostnames` changed since it was made;
/// deleting the two files makes mamori generate a new one (with a new fingerprint).
pub fn self_signed(dir: &Path, hostnames: &[String]) -> Result<TlsSetup, TlsError> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    if cert_path.is_file() && key_path.is_file() {
        warn_if_key_exposed(&key_path);
        return build(&cert_path, &key_path, true);
    }
    let names = san_names(hostnames)?;
    let (cert_pem, key_pem) = generate(names)?;
    // Key first, certificate last, each renamed into place: when both files exist the pair
    // is complete, even after a crash half-way.
    write_atomically(&key_path, key_pem.as_bytes(), 0o600)?;
    write_atomically(&cert_path, cert_pem.as_bytes(), 0o644)?;
    let setup = build(&cert_path, &key_path, true)?;
    tracing::info!(
        cert = %cert_path.display(),
        fingerprint = %setup.fingerprint_sha256,
        "generated a self-signed TLS certificate"
    );
    Ok(setup)
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves. Then it stops accepting,
/// lets requests in flight finish for up to 10 s, closes what remains and returns.
///
/// Handshakes that fail or take longer than 10 s are logged at debug level and dropped;
/// they never stop the server. Handlers can extract `ConnectInfo<SocketAddr>` as with
/// `axum::serve(…into_make_service_with_connect_info…)`.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    tls: Arc<ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            // Reap finished connections so the set does not grow with every client.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, remote)) => {
                    connections.spawn(serve_connection(
                        acceptor.clone(),
                        tcp,
                        remote,
                        app.clone(),
                        stop_rx.clone(),
                    ));
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Usually out of file descriptors: wait instead of spinning.
                    tracing::error!(error = %e, "accepting a TCP connection failed");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    stop_tx.send_replace(true);
    let drained =
        tokio::time::timeout(DRAIN_DEADLINE, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(open = connections.len(), "closing connections still busy after the shutdown deadline");
        connections.shutdown().await;
    }
    Ok(())
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    remote: SocketAddr,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    // Small TLS records must not wait for Nagle; failure only costs latency.
    let _ = tcp.set_nodelay(true);
    let stream = tokio::select! {
        handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%remote, "TLS handshake timed out");
                return;
            }
        },
        () = stopped(&mut stop) => return,
    };
    let app = app.map_request(move |mut request: Request<_>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        request
    });
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    // With a timer hyper enforces its 30 s limit for reading request headers (slowloris).
    builder.http1().timer(TokioTimer::new());
    let mut connection =
        pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(app)));
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%remote, error = %e, "HTTPS connection ended with an error");
                }
                return;
            }
            () = stopped(&mut stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves once shutdown has begun (or the server is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Errors of one connection that the listener itself survives (as in `axum::serve`).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

fn build(cert_path: &Path, key_path: &Path, self_signed: bool) -> Result<TlsSetup, TlsError> {
    let cert_pem = read(cert_path)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e, cert_path))?;
    let Some(leaf) = chain.first() else {
        return Err(TlsError::NoCertificate { path: cert_path.to_owned() });
    };
    let fingerprint_sha256 = fingerprint(leaf);

    let key_pem = read(key_path)?;
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(pem::Error::NoItemsFound) if contains(&key_pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") => {
            return Err(TlsError::EncryptedKey { path: key_path.to_owned() });
        }
        Err(pem::Error::NoItemsFound) => {
            return Err(TlsError::NoPrivateKey { path: key_path.to_owned() });
        }
        Err(e) => return Err(pem_error(e, key_path)),
    };

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                TlsError::KeyMismatch { cert: cert_path.to_owned(), key: key_path.to_owned() }
            }
            other => rejected(other),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsSetup { config: Arc::new(config), fingerprint_sha256, self_signed, cert_path: cert_path.to_owned() })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Unreadable { path: path.to_owned(), kind: e.kind() })
}

fn pem_error(e: pem::Error, path: &Path) -> TlsError {
    match e {
        pem::Error::NoItemsFound => TlsError::NoCertificate { path: path.to_owned() },
        _ => TlsError::MalformedPem { path: path.to_owned() },
    }
}

fn rejected(e: rustls::Error) -> TlsError {
    TlsError::Rejected { reason: e.to_string() }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// SHA-256 of DER bytes as "AB:CD:…".
fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// The subject alternative names: the caller's names, then the loopback ones, normalised
/// (IPv6 brackets removed, DNS names lower-case) and without duplicates.
fn san_names(hostnames: &[String]) -> Result<Vec<String>, TlsError> {
    let mut names: Vec<String> = Vec::new();
    for raw in hostnames.iter().map(String::as_str).chain(LOOPBACK_NAMES) {
        let trimmed = raw.trim();
        let unbracketed = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(trimmed);
        if unbracketed.is_empty() {
            continue;
        }
        let name = if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            ip.to_string()
        } else {
            let lower = unbracketed.to_ascii_lowercase();
            match ServerName::try_from(lower.as_str()) {
                Ok(ServerName::DnsName(_)) => lower,
                _ => return Err(TlsError::InvalidHostname { name: raw.to_owned() }),
            }
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Returns (certificate PEM, private key PEM).
fn generate(names: Vec<String>) -> Result<(String, String), TlsError> {
    let failed = |e: rcgen::Error| TlsError::Generate { reason: e.to_string() };
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, "mamori");
    // An hour of slack for clients whose clock is behind; the whole span stays 825 days.
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    params.not_after = params.not_before + time::Duration::days(VALIDITY_DAYS);
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Writes through a temporary file created with `mode` (unix) and renames it over `path`,
/// so a key is never readable by others, not even while it is written.
fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let tmp = path.with_extension("pem.tmp");
    // A leftover from a crash may have other permissions; create_new below needs it gone.
    let _ = std::fs::remove_file(&tmp);
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        let mut file = options.open(&tmp)?;
        // The umask may have narrowed the mode; the certificate should be world-readable.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        #[cfg(not(unix))]
        let _ = mode;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        TlsError::Unwritable { path: path.to_owned(), kind: e.kind() }
    })
}

/// A key file others can read was probably copied or restored by hand; say so, keep going.
fn warn_if_key_exposed(key_path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(key_path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                key = %key_path.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the TLS private key is readable by other users; chmod 600 it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = key_path;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use rustls::RootCertStore;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;
    use tokio_rustls::TlsConnector;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn self_signed_is_generated_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = self_signed(dir.path(), &names(&["mamori.example"])).unwrap();
        assert!(first.self_signed);
        assert_eq!(first.cert_path, dir.path().join("tls-cert.pem"));
        let key_before = std::fs::read(dir.path().join("tls-key.pem")).unwrap();

        let second = self_signed(dir.path(), &[]).unwrap();
        assert_eq!(second.fingerprint_sha256, first.fingerprint_sha256);
        assert_eq!(std::fs::read(dir.path().join("tls-key.pem")).unwrap(), key_before);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        // The same files through `load` are the same certificate, but not "self-signed by mamori".
        let loaded = load(&dir.path().join("tls-cert.pem"), &dir.path().join("tls-key.pem")).unwrap();
        assert_eq!(loaded.fingerprint_sha256, first.fingerprint_sha256);
        assert!(!loaded.self_signed);
    }

    #[test]
    fn a_missing_half_makes_a_new_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let first = self_signed(dir.path(), &[]).unwrap();
        std::fs::remove_file(dir.path().join("tls-cert.pem")).unwrap();
        let second = self_signed(dir.path(), &[]).unwrap();
        assert_ne!(second.fingerprint_sha256, first.fingerprint_sha256);
    }

    #[test]
    fn fingerprint_is_sha256_of_the_der_certificate() {
        // Known answer (FIPS 180-2, "abc"): the hash and the format the browser shows.
        assert_eq!(
            fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
        let dir = tempfile::tempdir().unwrap();
        let setup = self_signed(dir.path(), &[]).unwrap();
        let der = CertificateDer::from_pem_file(dir.path().join("tls-cert.pem")).unwrap();
        assert!(der.len() > 100);
        assert_eq!(setup.fingerprint_sha256, fingerprint(&der));
    }

    #[cfg(unix)]
    #[test]
    fn key_is_private_and_certificate_is_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        self_signed(dir.path(), &[]).unwrap();
        let mode = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("tls-key.pem"), 0o600);
        assert_eq!(mode("tls-cert.pem"), 0o644);
    }

    #[test]
    fn invalid_hostname_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let err = self_signed(dir.path(), &names(&["bad host!"])).unwrap_err();
        assert!(matches!(&err, TlsError::InvalidHostname { name } if name == "bad host!"), "{err:?}");
        assert_eq!(err.code(), "tls-invalid-hostname");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn san_names_are_normalised_and_include_loopback() {
        let got = san_names(&names(&["Mamori.Example", "[fe80::1]", " 192.168.1.10 ", "localhost", ""])).unwrap();
        assert_eq!(got, ["mamori.example", "fe80::1", "192.168.1.10", "localhost", "127.0.0.1", "::1"]);
    }

    #[test]
    fn load_explains_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        self_signed(&a, &[]).unwrap();
        self_signed(&b, &[]).unwrap();
        let cert = a.join("tls-cert.pem");
        let key = a.join("tls-key.pem");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "this is not a certificate\n").unwrap();
        let encrypted = dir.path().join("encrypted.pem");
        std::fs::write(
            &encrypted,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let truncated = dir.path().join("truncated.pem");
        std::fs::write(&truncated, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
        let missing = dir.path().join("missing.pem");

        let err = load(&garbage, &key).unwrap_err();
        assert!(matches!(&err, TlsError::NoCertificate { path } if *path == garbage), "{err:?}");
        assert_eq!(err.code(), "tls-no-certificate");

        let err = load(&cert, &garbage).unwrap_err();
        assert!(matches!(&err, TlsError::NoPrivateKey { path } if *path == garbage), "{err:?}");
        assert_eq!(err.code(), "tls-no-private-key");

        // A certificate given where the key belongs.
        let err = load(&cert, &cert).unwrap_err();
        assert!(matches!(err, TlsError::NoPrivateKey { .. }), "{err:?}");

        let err = load(&cert, &encrypted).unwrap_err();
        assert!(matches!(err, TlsError::EncryptedKey { .. }), "{err:?}");

        let err = load(&truncated, &key).unwrap_err();
        assert!(matches!(err, TlsError::MalformedPem { .. }), "{err:?}");

        let err = load(&missing, &key).unwrap_err();
        assert!(
            matches!(&err, TlsError::Unreadable { path, kind: io::ErrorKind::NotFound } if *path == missing),
            "{err:?}"
        );
        assert_eq!(err.code(), "tls-file-unreadable");

        let err = load(&cert, &b.join("tls-key.pem")).unwrap_err();
        assert!(
            matches!(&err, TlsError::KeyMismatch { cert: c, key: k } if *c == cert && *k == b.join("tls-key.pem")),
            "{err:?}"
        );
        assert_eq!(err.code(), "tls-key-mismatch");

        // Certificate and key in one file work too.
        let both = dir.path().join("both.pem");
        let mut pem = std::fs::read(&cert).unwrap();
        pem.extend(std::fs::read(&key).unwrap());
        std::fs::write(&both, pem).unwrap();
        assert!(load(&both, &both).is_ok());
    }

    struct Running {
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        server: JoinHandle<io::Result<()>>,
    }

    async fn start(setup: &TlsSetup) -> Running {
        let app = Router::new().route("/", get(|| async { "ok" })).route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "slow ok"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve_tls(listener, app, setup.config.clone(), async {
            let _ = stopped.await;
        }));
        Running { addr, stop, server }
    }

    /// A client that trusts exactly the certificate in `cert_path` and offers ALPN http/1.1.
    fn client(cert_path: &Path) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from_pem_file(cert_path).unwrap()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsConnector::from(Arc::new(config))
    }

    async fn https_get(connector: &TlsConnector, addr: SocketAddr, name: &str, path: &str) -> io::Result<String> {
        let tcp = TcpStream::connect(addr).await?;
        let server_name = ServerName::try_from(name.to_owned()).unwrap();
        let mut tls = connector.connect(server_name, tcp).await?;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let request = format!("GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        tls.read_to_end(&mut response).await?;
        Ok(String::from_utf8_lossy(&response).into_owned())
    }

    #[tokio::test]
    async fn serves_https_with_the_self_signed_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let setup = self_signed(dir.path(), &names(&["mamori.example"])).unwrap();
        let running = start(&setup).await;
        let connector = client(&setup.cert_path);

        // Plain HTTP on the TLS port gets no page, and does not disturb the server.
        let mut plain = TcpStream::connect(running.addr).await.unwrap();
        plain.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(!answer.contains("200"), "{answer}");
        assert!(!answer.contains("ok"), "{answer}");

        for name in ["localhost", "127.0.0.1", "mamori.example"] {
            let response = https_get(&connector, running.addr, name, "/").await.unwrap();
            assert!(response.starts_with("HTTP/1.1 200"), "{name}: {response}");
            assert!(response.ends_with("ok"), "{name}: {response}");
        }

        // A name the certificate does not cover is refused by the client's verification.
        let err = https_get(&connector, running.addr, "other.example", "/").await.unwrap_err();
        assert!(err.to_string().contains("certificate"), "{err}");

        running.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), running.server).await.unwrap().unwrap().unwrap();
        assert!(TcpStream::connect(running.addr).await.is_err(), "still accepting after shutdown");
    }

    #[tokio::test]
    async fn shutdown_finishes_requests_in_flight_and_ignores_idle_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let setup = self_signed(dir.path(), &[]).unwrap();
        let running = start(&setup).await;
        let connector = client(&setup.cert_path);

        // A client that connects and never starts the handshake must not hold up shutdown.
        let _idle = TcpStream::connect(running.addr).await.unwrap();
        // Nor must a keep-alive connection that is done with its request.
        let mut kept = {
            let tcp = TcpStream::connect(running.addr).await.unwrap();
            let mut tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
            tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
            let mut buf = [0u8; 4096];
            let n = tls.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
            tls
        };
        let connector = connector.clone();
        let addr = running.addr;
        let in_flight = tokio::spawn(async move { https_get(&connector, addr, "localhost", "/slow").await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        running.stop.send(()).unwrap();

        let response = in_flight.await.unwrap().unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("slow ok"), "{response}");
        // The idle keep-alive connection is closed by the server, not left to the deadline.
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(2), kept.read_to_end(&mut rest)).await.unwrap().unwrap();
        assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
        // Well under the 10 s drain deadline: nothing waited for the idle socket.
        tokio::time::timeout(Duration::from_secs(2), running.server).await.unwrap().unwrap().unwrap();
    }
}
