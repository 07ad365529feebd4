//! TLS: which protocol versions a server accepts, and its certificate.
//!
//! TLS 1.3 and 1.2 are tested with rustls (a real handshake that accepts any certificate, since we
//! inspect rather than trust). TLS 1.1, 1.0 and SSL 3.0, which rustls does not speak, and TLS 1.2
//! with only legacy cipher suites, are tested by sending a ClientHello we build ourselves
//! (RFC 5246 §7.4.1.2, RFC 2246, RFC 6101) and reading the ServerHello or alert. No fallback SCSV
//! is sent, so the answer says what the server supports. The certificate is parsed with
//! x509-parser.

use super::{AsyncStream, Conn, ConnectFail, Ctx, Probe, Rd};
use crate::model::{DetectionMethod, Service};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ProtocolVersion, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio_rustls::TlsConnector;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// Versions the server accepted: `TLSv1.3`, `TLSv1.2`, `TLSv1.1`, `TLSv1.0`, `SSLv3`.
    pub accepted: Vec<String>,
    /// Versions tested and refused.
    pub refused: Vec<String>,
    /// The cipher suite of the best handshake.
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    pub cert: Option<CertInfo>,
}

impl TlsInfo {
    /// True when TLS 1.1 or older is accepted.
    pub fn legacy_accepted(&self) -> Vec<&str> {
        self.accepted.iter().map(String::as_str).filter(|v| matches!(*v, "TLSv1.1" | "TLSv1.0" | "SSLv3")).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// `DNS:name`, `IP:addr`, `email:…`, `URI:…`.
    pub sans: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Issuer equals subject (and the key identifiers, when present, agree).
    pub self_signed: bool,
    /// `RSA`, `EC`, `Ed25519`, `DSA`, …
    pub key_type: String,
    pub key_bits: u32,
    /// e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
    pub serial: String,
}

/// Parses a DER certificate. `None` if it is not one.
pub fn parse_cert(der: &[u8]) -> Option<CertInfo> {
    use x509_parser::extensions::GeneralName;
    use x509_parser::objects::{oid_registry, oid2sn};
    use x509_parser::public_key::PublicKey;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for n in &ext.value.general_names {
            sans.push(match n {
                GeneralName::DNSName(d) => format!("DNS:{d}"),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                    16 => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(b);
                        format!("IP:{}", std::net::Ipv6Addr::from(a))
                    }
                    _ => continue,
                },
                GeneralName::RFC822Name(e) => format!("email:{e}"),
                GeneralName::URI(u) => format!("URI:{u}"),
                _ => continue,
            });
        }
    }
    let reg = oid_registry();
    let spki = cert.public_key();
    let alg_sn = oid2sn(&spki.algorithm.algorithm, reg).unwrap_or("unknown").to_owned();
    let (key_type, key_bits) = match spki.parsed() {
        Ok(PublicKey::RSA(k)) => ("RSA".to_owned(), k.key_size() as u32),
        Ok(PublicKey::EC(p)) => ("EC".to_owned(), p.key_size() as u32),
        Ok(PublicKey::DSA(_)) => ("DSA".to_owned(), 0),
        _ if alg_sn.eq_ignore_ascii_case("ed25519") => ("Ed25519".to_owned(), 256),
        _ => (alg_sn, 0),
    };
    let sig = oid2sn(&cert.signature_algorithm.algorithm, reg)
        .map(str::to_owned)
        .unwrap_or_else(|_| cert.signature_algorithm.algorithm.to_id_string());
    let same_name = cert.subject().as_raw() == cert.issuer().as_raw();
    let keyids_agree = {
        use x509_parser::extensions::ParsedExtension;
        let mut ski = None;
        let mut aki = None;
        for e in cert.extensions() {
            match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0),
                ParsedExtension::AuthorityKeyIdentifier(a) => aki = a.key_identifier.as_ref().map(|k| k.0),
                _ => {}
            }
        }
        match (ski, aki) {
            (Some(s), Some(a)) => s == a,
            _ => true,
        }
    };
    let ts = |t: i64| OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Some(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans,
        not_before: ts(cert.validity().not_before.timestamp()),
        not_after: ts(cert.validity().not_after.timestamp()),
        self_signed: same_name && keyids_agree,
        key_type,
        key_bits,
        signature_algorithm: sig,
        serial: cert.raw_serial_as_string(),
    })
}

/// Accepts any certificate: we are inspecting the server, not trusting it.
#[derive(Debug)]
struct Inspect(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Inspect {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Which versions rustls may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modern {
    Both,
    Only12,
}

pub(crate) fn client_config(which: Modern, alpn_http: bool) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match which {
        Modern::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Modern::Only12 => &[&rustls::version::TLS12],
    };
    let mut cfg = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Inspect(provider)))
        .with_no_client_auth();
    if alpn_http {
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    }
    cfg.enable_sni = false;
    Arc::new(cfg)
}

/// Facts from a completed rustls handshake.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    pub cert_der: Option<Vec<u8>>,
}

fn version_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        ProtocolVersion::TLSv1_1 => "TLSv1.1",
        ProtocolVersion::TLSv1_0 => "TLSv1.0",
        ProtocolVersion::SSLv3 => "SSLv3",
        _ => "unknown",
    }
}

impl Ctx<'_> {
    /// Connect and complete a TLS handshake with rustls. `Err(None)`: TCP is fine but TLS failed.
    pub async fn connect_tls(
        &self,
        port: u16,
        which: Modern,
        alpn_http: bool,
    ) -> Result<(Conn, Handshake), Option<ConnectFail>> {
        let (tcp, permit, rtt) = self.connect_raw(port).await.map_err(Some)?;
        let _ = tcp.set_nodelay(true);
        let connector = TlsConnector::from(client_config(which, alpn_http));
        let name = ServerName::IpAddress(self.host.into());
        let tls = match tokio::time::timeout(self.limits().read_timeout(), connector.connect(name, tcp)).await {
            Ok(Ok(s)) => s,
            _ => return Err(None),
        };
        let (_, session) = tls.get_ref();
        let hs = Handshake {
            version: session.protocol_version().map_or("unknown", version_name).to_owned(),
            cipher: session.negotiated_cipher_suite().map(|c| format!("{:?}", c.suite())).unwrap_or_default(),
            alpn: session.alpn_protocol().map(|a| String::from_utf8_lossy(a).to_string()),
            cert_der: session.peer_certificates().and_then(|c| c.first()).map(|c| c.as_ref().to_vec()),
        };
        let io: Box<dyn AsyncStream> = Box::new(tls);
        Ok((Conn::new(io, permit, rtt, self.limits().read_timeout()), hs))
    }
}

/// Cipher suites offered in hand-made ClientHellos: modern and legacy, so that the version, not
/// the cipher list, decides the answer.
const LEGACY_SUITES: &[u16] = &[
    0xc02f, 0xc030, 0xc02b, 0xc02c, 0xcca8, 0xcca9, 0x009e, 0x009f, 0xc013, 0xc014, 0xc009, 0xc00a, 0x0033, 0x0039,
    0x009c, 0x009d, 0x003c, 0x003d, 0x002f, 0x0035, 0xc012, 0x0016, 0x000a, 0x0005, 0x0004, 0x00ff,
];

/// A ClientHello for `version` (0x0300 SSLv3, 0x0301 TLS 1.0, 0x0302 TLS 1.1, 0x0303 TLS 1.2).
pub fn client_hello(version: u16, random: [u8; 32]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // no session id
    body.extend_from_slice(&((LEGACY_SUITES.len() * 2) as u16).to_be_bytes());
    for s in LEGACY_SUITES {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    if version >= 0x0301 {
        let mut ext = Vec::new();
        // supported_groups: x25519, secp256r1, secp384r1
        ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]);
        // ec_point_formats: uncompressed
        ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
        if version >= 0x0303 {
            // signature_algorithms: rsa_pkcs1_sha256/384, ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha1, ecdsa_sha1
            let algs: [u16; 6] = [0x0401, 0x0501, 0x0403, 0x0804, 0x0201, 0x0203];
            ext.extend_from_slice(&[0x00, 0x0d]);
            ext.extend_from_slice(&((algs.len() * 2 + 2) as u16).to_be_bytes());
            ext.extend_from_slice(&((algs.len() * 2) as u16).to_be_bytes());
            for a in algs {
                ext.extend_from_slice(&a.to_be_bytes());
            }
        }
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
    }
    let mut hs = vec![0x01, 0, (body.len() >> 8) as u8, body.len() as u8];
    hs.extend_from_slice(&body);
    let record_version: u16 = if version == 0x0300 { 0x0300 } else { 0x0301 };
    let mut rec = vec![0x16];
    rec.extend_from_slice(&record_version.to_be_bytes());
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// What the server answered to a hand-made ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloAnswer {
    /// ServerHello with this version and cipher suite; the first certificate if it followed.
    ServerHello { version: u16, cipher: u16, cert_der: Option<Vec<u8>> },
    /// A TLS alert (level, description).
    Alert(u8, u8),
    /// Closed, timed out, or not TLS at all.
    Nothing,
}

/// Parses TLS records up to and including the Certificate message (or ServerHelloDone).
pub fn parse_hello_answer(b: &[u8]) -> HelloAnswer {
    let mut r = Rd::new(b);
    let mut hs = Vec::new();
    let mut alert = None;
    while r.remaining() >= 5 {
        let (Some(ct), Some(_ver), Some(len)) = (r.u8(), r.u16(), r.u16()) else { break };
        let Some(frag) = r.take(len as usize) else { break };
        match ct {
            0x16 => hs.extend_from_slice(frag),
            0x15 if frag.len() >= 2 && hs.is_empty() => {
                alert = Some((frag[0], frag[1]));
                break;
            }
            _ => break,
        }
    }
    if let Some((l, d)) = alert {
        return HelloAnswer::Alert(l, d);
    }
    let mut h = Rd::new(&hs);
    let mut result = None;
    while h.remaining() >= 4 {
        let Some(t) = h.u8() else { break };
        let Some(l) = h.take(3).map(|x| (usize::from(x[0]) << 16) | (usize::from(x[1]) << 8) | usize::from(x[2]))
        else {
            break;
        };
        let Some(msg) = h.take(l) else { break };
        let mut m = Rd::new(msg);
        match t {
            2 => {
                let Some(version) = m.u16() else { break };
                let (Some(_), Some(sid_len)) = (m.take(32), m.u8()) else { break };
                let (Some(_), Some(cipher)) = (m.take(usize::from(sid_len)), m.u16()) else { break };
                result = Some((version, cipher, None));
            }
            11 => {
                // certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>
                let first = m
                    .take(3)
                    .and_then(|_| m.take(3))
                    .map(|x| (usize::from(x[0]) << 16) | (usize::from(x[1]) << 8) | usize::from(x[2]));
                if let (Some(r0), Some(n)) = (result.as_mut(), first) {
                    r0.2 = m.take(n).map(<[u8]>::to_vec);
                }
                break;
            }
            14 => break,
            _ => {}
        }
    }
    match result {
        Some((version, cipher, cert_der)) => HelloAnswer::ServerHello { version, cipher, cert_der },
        None => HelloAnswer::Nothing,
    }
}

/// True once `b` holds an alert, a Certificate message, ServerHelloDone, or non-TLS bytes.
fn hello_answer_complete(b: &[u8]) -> bool {
    if b.first().is_some_and(|&c| c != 0x16 && c != 0x15) {
        return true;
    }
    match parse_hello_answer(b) {
        HelloAnswer::Alert(..) => true,
        HelloAnswer::ServerHello { cert_der: Some(_), .. } => true,
        _ => b.windows(4).any(|w| w == [0x0e, 0, 0, 0]),
    }
}

pub(crate) async fn try_hello(ctx: &Ctx<'_>, port: u16, version: u16) -> Result<HelloAnswer, ConnectFail> {
    let mut conn = ctx.connect(port).await?;
    let mut random = [0u8; 32];
    let seed = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    for (i, b) in random.iter_mut().enumerate() {
        *b = (seed.rotate_left(i as u32 * 7) as u8) ^ (i as u8).wrapping_mul(31);
    }
    if conn.send(&client_hello(version, random)).await.is_err() {
        return Ok(HelloAnswer::Nothing);
    }
    let (b, _) = conn.read_until(64 * 1024, hello_answer_complete).await;
    conn.close().await;
    Ok(parse_hello_answer(&b))
}

/// Probe a port for TLS: versions, cipher, certificate; then what runs inside (HTTP).
pub(crate) async fn probe(ctx: &Ctx<'_>, port: u16) -> Probe {
    let mut info = TlsInfo::default();
    let mut http_conn = None;
    match ctx.connect_tls(port, Modern::Both, true).await {
        Ok((conn, hs)) => {
            info.accepted.push(hs.version.clone());
            info.cipher = Some(hs.cipher.clone());
            info.alpn = hs.alpn.clone();
            info.cert = hs.cert_der.as_deref().and_then(parse_cert);
            if hs.version == "TLSv1.3" {
                // Does it also speak 1.2?
                match ctx.connect_tls(port, Modern::Only12, false).await {
                    Ok((c, _)) => {
                        c.close().await;
                        info.accepted.push("TLSv1.2".into());
                    }
                    Err(None) => info.refused.push("TLSv1.2".into()),
                    Err(Some(e)) => return Probe::from_connect(e),
                }
            } else {
                info.refused.push("TLSv1.3".into());
            }
            http_conn = Some(conn);
        }
        Err(Some(e)) => return Probe::from_connect(e),
        Err(None) => {
            // Maybe TLS 1.2 with legacy suites only, or an older protocol, or not TLS at all.
            match try_hello(ctx, port, 0x0303).await {
                Ok(HelloAnswer::ServerHello { version: 0x0303, cipher, cert_der }) => {
                    info.accepted.push("TLSv1.2".into());
                    info.cipher = Some(format!("0x{cipher:04x}"));
                    info.cert = cert_der.as_deref().and_then(parse_cert);
                }
                Ok(HelloAnswer::ServerHello { .. }) | Ok(HelloAnswer::Alert(..)) => info.refused.push("TLSv1.2".into()),
                Ok(HelloAnswer::Nothing) => return Probe::NotThis,
                Err(e) => return Probe::from_connect(e),
            }
        }
    }
    if ctx.policy.tls_legacy_checks {
        for (v, name) in [(0x0302u16, "TLSv1.1"), (0x0301, "TLSv1.0"), (0x0300, "SSLv3")] {
            match try_hello(ctx, port, v).await {
                Ok(HelloAnswer::ServerHello { version, cipher, cert_der }) if version == v => {
                    info.accepted.push(name.into());
                    if info.cert.is_none() {
                        info.cert = cert_der.as_deref().and_then(parse_cert);
                    }
                    if info.cipher.is_none() {
                        info.cipher = Some(format!("0x{cipher:04x}"));
                    }
                }
                Ok(_) => info.refused.push(name.into()),
                Err(e) => {
                    if matches!(Probe::from_connect(e), Probe::Gone) {
                        break;
                    }
                }
            }
        }
    }
    // What runs inside the TLS?
    let mut service = match http_conn {
        Some(conn) => super::http::identify_over(ctx, port, Some(conn), true).await,
        None => None,
    }
    .unwrap_or_else(|| {
        let name = match port {
            2762 => "dicom-tls",
            8883 => "secure-mqtt",
            636 => "ldaps",
            993 => "imaps",
            995 => "pop3s",
            465 => "smtps",
            _ => "ssl/unknown",
        };
        Service::named(name, DetectionMethod::Probed)
    });
    service.extra.insert("tls_versions".into(), info.accepted.join(","));
    service.tls = Some(info);
    Probe::found(service)
}

/// Used by tests and callers that want only the certificate summary.
pub fn cert_expired(cert: &CertInfo, now: OffsetDateTime) -> bool {
    cert.not_after < now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_is_well_formed() {
        for v in [0x0300u16, 0x0301, 0x0302, 0x0303] {
            let h = client_hello(v, [1; 32]);
            assert_eq!(h[0], 0x16);
            let rec_len = u16::from_be_bytes([h[3], h[4]]) as usize;
            assert_eq!(rec_len + 5, h.len());
            assert_eq!(h[5], 1);
            let hs_len = (usize::from(h[6]) << 16) | (usize::from(h[7]) << 8) | usize::from(h[8]);
            assert_eq!(hs_len + 4, rec_len);
            assert_eq!(u16::from_be_bytes([h[9], h[10]]), v);
            assert!(!h.windows(2).any(|w| w == [0x56, 0x00]), "no fallback SCSV");
        }
    }

    fn server_hello(version: u16, cipher: u16, cert: Option<&[u8]>) -> Vec<u8> {
        let mut sh = version.to_be_bytes().to_vec();
        sh.extend_from_slice(&[9; 32]);
        sh.push(0);
        sh.extend_from_slice(&cipher.to_be_bytes());
        sh.push(0);
        let mut hs = vec![2, 0, 0, sh.len() as u8];
        hs.extend_from_slice(&sh);
        if let Some(c) = cert {
            let total = c.len() + 3;
            hs.extend_from_slice(&[11, 0, ((total + 3) >> 8) as u8, (total + 3) as u8]);
            hs.extend_from_slice(&[0, (total >> 8) as u8, total as u8, 0, (c.len() >> 8) as u8, c.len() as u8]);
            hs.extend_from_slice(c);
        }
        let mut rec = vec![0x16, 3, 1, (hs.len() >> 8) as u8, hs.len() as u8];
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn parses_server_hello_alert_and_junk() {
        let b = server_hello(0x0301, 0xc014, Some(b"DERBYTES"));
        assert_eq!(
            parse_hello_answer(&b),
            HelloAnswer::ServerHello { version: 0x0301, cipher: 0xc014, cert_der: Some(b"DERBYTES".to_vec()) }
        );
        assert!(hello_answer_complete(&b));
        // split across two records
        let full = server_hello(0x0302, 0x002f, None);
        let hs = &full[5..];
        let mut two = vec![0x16, 3, 2, 0, 10];
        two.extend_from_slice(&hs[..10]);
        two.extend_from_slice(&[0x16, 3, 2, 0, (hs.len() - 10) as u8]);
        two.extend_from_slice(&hs[10..]);
        assert!(matches!(parse_hello_answer(&two), HelloAnswer::ServerHello { version: 0x0302, .. }));
        assert_eq!(parse_hello_answer(&[0x15, 3, 1, 0, 2, 2, 70]), HelloAnswer::Alert(2, 70));
        assert_eq!(parse_hello_answer(b"HTTP/1.1 400 Bad Request\r\n"), HelloAnswer::Nothing);
        assert_eq!(parse_hello_answer(&[0x16, 3, 1, 0xff, 0xff, 2]), HelloAnswer::Nothing);
        for n in 0..64 {
            let junk: Vec<u8> = (0..n).map(|i| if i % 5 == 0 { 0x16 } else { (i * 13) as u8 }).collect();
            let _ = parse_hello_answer(&junk);
        }
        assert!(parse_cert(b"not a certificate").is_none());
    }
}
