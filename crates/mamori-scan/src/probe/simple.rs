//! Small protocols identified from one exchange: line banners (FTP, SMTP, POP3, IMAP, VNC),
//! Telnet option negotiation, the MySQL/MariaDB greeting, PostgreSQL's SSLRequest answer and
//! startup error, and the MS SQL Server TDS PRELOGIN response.

use super::{Ctx, Probe, Rd, printable};
use crate::cpe;
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};

/// What a database server disclosed before authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInfo {
    /// `postgresql`, `mysql`, `mssql`.
    pub engine: String,
    /// The server offers TLS (PostgreSQL `S`, TDS encryption supported).
    pub tls_offered: Option<bool>,
    /// Pre-authentication error text, if any (e.g. host not allowed).
    pub message: Option<String>,
}

/// Telnet: the server opened with IAC option negotiation. Plaintext by design.
pub fn telnet_service(banner: &[u8]) -> Service {
    let mut s = Service::named("telnet", DetectionMethod::Probed);
    s.detail = Some(ServiceDetail::Banner { banner: strip_telnet(banner) });
    s
}

/// Removes IAC sequences (RFC 854: IAC cmd [opt], and SB … IAC SE).
pub fn strip_telnet(b: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0xff {
            match b.get(i + 1) {
                Some(0xfa) => {
                    // subnegotiation until IAC SE
                    let end = b[i..].windows(2).position(|w| w == [0xff, 0xf0]).map_or(b.len(), |p| i + p + 2);
                    i = end;
                }
                Some(0xfb..=0xfe) => i += 3,
                Some(0xff) => {
                    out.push(0xff);
                    i += 2;
                }
                _ => i += 2,
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    printable(&out, 200)
}

/// FTP/SMTP/POP3/IMAP/VNC from the first line a server sends.
pub fn line_banner_service(banner: &[u8]) -> Option<Service> {
    let text = String::from_utf8_lossy(banner);
    let line = text.lines().next().unwrap_or("").trim().to_owned();
    let mut s;
    if line.starts_with("220") {
        let upper = line.to_ascii_uppercase();
        if upper.contains("SMTP") || upper.contains("POSTFIX") || upper.contains("EXIM") {
            s = Service::named("smtp", DetectionMethod::Probed);
            if upper.contains("POSTFIX") {
                s.product = Some("Postfix smtpd".into());
                s.cpe = Some(cpe::app("postfix", "postfix", None));
            }
        } else {
            s = Service::named("ftp", DetectionMethod::Probed);
            if let Some(v) = between(&line, "vsFTPd ", ")") {
                s.product = Some("vsftpd".into());
                s.cpe = Some(cpe::app("beasts", "vsftpd", Some(&v)));
                s.version = Some(v);
            } else if let Some(v) = between(&line, "ProFTPD ", " ") {
                s.product = Some("ProFTPD".into());
                s.cpe = Some(cpe::app("proftpd", "proftpd", Some(&v)));
                s.version = Some(v);
            } else if line.contains("FileZilla Server") {
                s.product = Some("FileZilla ftpd".into());
                s.version = between(&line, "FileZilla Server ", " ")
                    .or_else(|| line.split_whitespace().last().map(str::to_owned));
            } else if line.contains("Microsoft FTP Service") {
                s.product = Some("Microsoft ftpd".into());
            }
        }
    } else if line.starts_with("+OK") {
        s = Service::named("pop3", DetectionMethod::Probed);
    } else if line.starts_with("* OK") {
        s = Service::named("imap", DetectionMethod::Probed);
    } else if let Some(v) = line.strip_prefix("RFB ") {
        s = Service::named("vnc", DetectionMethod::Probed);
        s.extra.insert("protocol".into(), v.to_owned());
    } else {
        return None;
    }
    s.detail = Some(ServiceDetail::Banner { banner: printable(line.as_bytes(), 200) });
    Some(s)
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let rest = &s[i..];
    let j = rest.find(end).unwrap_or(rest.len());
    let v = rest[..j].trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// The MySQL/MariaDB initial handshake packet (protocol 10) or its pre-auth error packet.
pub fn mysql_service(b: &[u8]) -> Option<Service> {
    let mut r = Rd::new(b);
    let len = usize::from(r.u8()?) | usize::from(r.u8()?) << 8 | usize::from(r.u8()?) << 16;
    let _seq = r.u8()?;
    if !(2..=0xffff).contains(&len) {
        return None;
    }
    let payload = r.take(len.min(r.remaining()))?;
    let mut s = Service::named("mysql", DetectionMethod::Probed);
    let mut info = DbInfo { engine: "mysql".into(), ..Default::default() };
    match payload.first()? {
        0x0a => {
            let end = payload[1..].iter().position(|&c| c == 0)?;
            let ver = String::from_utf8_lossy(&payload[1..1 + end]).to_string();
            if ver.is_empty() || !ver.chars().next()?.is_ascii_digit() {
                return None;
            }
            if let Some(i) = ver.find("-MariaDB") {
                let v = ver[..i].trim_start_matches("5.5.5-").to_owned();
                s.product = Some("MariaDB".into());
                s.cpe = Some(cpe::app("mariadb", "mariadb", Some(&v)));
                s.version = Some(v);
            } else {
                let v = ver.split('-').next().unwrap_or(&ver).to_owned();
                s.product = Some("MySQL".into());
                s.cpe = Some(cpe::app("oracle", "mysql", Some(&v)));
                s.version = Some(v);
            }
            s.extra.insert("server_version".into(), ver);
        }
        0xff => {
            // ERR packet: 0xff, code u16le, message (e.g. "Host '…' is not allowed to connect").
            let msg = String::from_utf8_lossy(payload.get(3..)?).to_string();
            if !msg.contains("MySQL") && !msg.contains("MariaDB") && !msg.contains("allowed to connect") {
                return None;
            }
            info.message = Some(printable(msg.as_bytes(), 200));
        }
        _ => return None,
    }
    s.detail = Some(ServiceDetail::Database(info));
    Some(s)
}

/// PostgreSQL SSLRequest (length 8, code 80877103).
pub const PG_SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// A startup packet with protocol 9999.0: every PostgreSQL answers with an ErrorResponse naming
/// the versions it supports, without any authentication attempt.
pub const PG_BAD_STARTUP: [u8; 8] = [0, 0, 0, 8, 0x27, 0x0f, 0, 0];

/// Fields of a PostgreSQL ErrorResponse (`E`, len, {code byte, cstring}*, 0).
pub fn parse_pg_error(b: &[u8]) -> Option<Vec<(char, String)>> {
    let mut r = Rd::new(b);
    if r.u8()? != b'E' {
        return None;
    }
    let len = r.u32()? as usize;
    if !(5..=65_536).contains(&len) {
        return None;
    }
    let body = r.take((len - 4).min(r.remaining()))?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() && body[i] != 0 {
        let code = body[i] as char;
        let end = body[i + 1..].iter().position(|&c| c == 0).map_or(body.len(), |p| i + 1 + p);
        out.push((code, String::from_utf8_lossy(&body[i + 1..end]).to_string()));
        i = end + 1;
    }
    (!out.is_empty()).then_some(out)
}

pub(crate) async fn probe_postgres(ctx: &Ctx<'_>, port: u16) -> Probe {
    let mut conn = match ctx.connect(port).await {
        Ok(c) => c,
        Err(e) => return Probe::from_connect(e),
    };
    if conn.send(&PG_SSL_REQUEST).await.is_err() {
        return Probe::NotThis;
    }
    let (b, _) = conn.read_until(16, |b| !b.is_empty()).await;
    let tls = match b.as_slice() {
        [b'S'] => true,
        [b'N'] => false,
        _ => {
            conn.close().await;
            return Probe::NotThis;
        }
    };
    let mut message = None;
    if !tls && conn.send(&PG_BAD_STARTUP).await.is_ok() {
        let (e, _) = conn
            .read_until(4096, |b| b.len() >= 5 && b.len() > u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize)
            .await;
        message = parse_pg_error(&e).and_then(|f| f.into_iter().find(|(c, _)| *c == 'M').map(|(_, m)| m));
    }
    conn.close().await;
    Probe::found(postgres_service(tls, message))
}

pub fn postgres_service(tls: bool, message: Option<String>) -> Service {
    let mut s = Service::named("postgresql", DetectionMethod::Probed);
    s.product = Some("PostgreSQL".into());
    s.cpe = Some(cpe::app("postgresql", "postgresql", None));
    s.extra.insert("ssl".into(), tls.to_string());
    if let Some(m) = &message {
        s.extra.insert("startup_error".into(), m.clone());
    }
    s.detail = Some(ServiceDetail::Database(DbInfo { engine: "postgresql".into(), tls_offered: Some(tls), message }));
    s
}

/// TDS 7 PRELOGIN with VERSION, ENCRYPTION (not supported), and the terminator.
pub fn mssql_prelogin() -> Vec<u8> {
    let mut payload = Vec::new();
    // option tokens: VERSION at 11 len 6, ENCRYPTION at 17 len 1, terminator
    payload.extend_from_slice(&[0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xff]);
    payload.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    payload.push(0x02);
    let total = 8 + payload.len();
    let mut pkt = vec![0x12, 0x01, (total >> 8) as u8, total as u8, 0, 0, 1, 0];
    pkt.extend_from_slice(&payload);
    pkt
}

/// The PRELOGIN response → ("15.0.2000", encryption byte).
pub fn parse_mssql_prelogin(b: &[u8]) -> Option<(String, Option<u8>)> {
    let mut r = Rd::new(b);
    if r.u8()? != 0x04 {
        return None;
    }
    r.u8()?;
    let len = r.u16()? as usize;
    r.take(4)?;
    let body = b.get(8..len.min(b.len()))?;
    let mut opts = Rd::new(body);
    let mut version = None;
    let mut enc = None;
    for _ in 0..16 {
        let token = opts.u8()?;
        if token == 0xff {
            break;
        }
        let off = opts.u16()? as usize;
        let l = opts.u16()? as usize;
        let data = body.get(off..off.checked_add(l)?)?;
        match token {
            0x00 if l >= 4 => {
                version = Some(format!("{}.{}.{}", data[0], data[1], u16::from_be_bytes([data[2], data[3]])))
            }
            0x01 if l >= 1 => enc = Some(data[0]),
            _ => {}
        }
    }
    version.map(|v| (v, enc))
}

pub(crate) async fn probe_mssql(ctx: &Ctx<'_>, port: u16) -> Probe {
    let mut conn = match ctx.connect(port).await {
        Ok(c) => c,
        Err(e) => return Probe::from_connect(e),
    };
    if conn.send(&mssql_prelogin()).await.is_err() {
        return Probe::NotThis;
    }
    let (b, _) = conn.read_until(4096, |b| b.len() >= 4 && b.len() >= u16::from_be_bytes([b[2], b[3]]) as usize).await;
    conn.close().await;
    match parse_mssql_prelogin(&b) {
        Some((v, enc)) => {
            let mut s = Service::named("ms-sql-s", DetectionMethod::Probed);
            s.product = Some("Microsoft SQL Server".into());
            s.cpe = Some(cpe::app("microsoft", "sql_server", Some(&v)));
            s.version = Some(v);
            s.detail = Some(ServiceDetail::Database(DbInfo {
                engine: "mssql".into(),
                tls_offered: enc.map(|e| e != 0x02),
                message: None,
            }));
            Probe::found(s)
        }
        None => Probe::NotThis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_banners() {
        let s = line_banner_service(b"220 (vsFTPd 3.0.3)\r\n").unwrap();
        assert_eq!(
            (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
            ("ftp", Some("vsftpd"), Some("3.0.3"))
        );
        assert_eq!(s.cpe.as_deref(), Some("cpe:2.3:a:beasts:vsftpd:3.0.3:*:*:*:*:*:*:*"));
        let s = line_banner_service(b"220 ProFTPD 1.3.8 Server (Debian) [::ffff:127.0.0.1]\r\n").unwrap();
        assert_eq!(s.version.as_deref(), Some("1.3.8"));
        assert_eq!(line_banner_service(b"220 mail.example ESMTP Postfix\r\n").unwrap().name, "smtp");
        assert_eq!(line_banner_service(b"RFB 003.008\n").unwrap().name, "vnc");
        assert!(line_banner_service(b"\x00\x01garbage").is_none());
        assert!(line_banner_service(b"").is_none());
    }

    #[test]
    fn telnet_negotiation_is_stripped() {
        let b = [0xff, 0xfd, 0x18, 0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0, b'l', b'o', b'g', b'i', b'n', b':', 0xff];
        let s = telnet_service(&b);
        assert_eq!(s.name, "telnet");
        assert_eq!(s.detail, Some(ServiceDetail::Banner { banner: "login:".into() }));
    }

    #[test]
    fn mysql_greetings() {
        let mut p = vec![0x0a];
        p.extend_from_slice(b"5.5.5-10.11.6-MariaDB-0+deb12u1\0");
        p.extend_from_slice(&[1, 0, 0, 0, b'a', b'b']);
        let mut pkt = vec![p.len() as u8, 0, 0, 0];
        pkt.extend_from_slice(&p);
        let s = mysql_service(&pkt).unwrap();
        assert_eq!((s.product.as_deref(), s.version.as_deref()), (Some("MariaDB"), Some("10.11.6")));
        let mut p = vec![0x0a];
        p.extend_from_slice(b"8.0.36\0rest");
        let mut pkt = vec![p.len() as u8, 0, 0, 0];
        pkt.extend_from_slice(&p);
        assert_eq!(mysql_service(&pkt).unwrap().cpe.as_deref(), Some("cpe:2.3:a:oracle:mysql:8.0.36:*:*:*:*:*:*:*"));
        let err = b"\x45\x00\x00\x00\xffj\x04Host '10.0.0.5' is not allowed to connect to this MySQL server";
        assert!(mysql_service(err).is_some());
        assert!(mysql_service(b"SSH-2.0-x\r\n").is_none());
        assert!(mysql_service(&[5, 0, 0, 0, 0x0a, b'x']).is_none());
        assert!(mysql_service(&[]).is_none());
    }

    #[test]
    fn postgres_error_response() {
        let b = b"E\x00\x00\x00\x5bSFATAL\0VFATAL\0C0A000\0Munsupported frontend protocol 9999.0: server supports 3.0 to 3.0\0\0";
        let f = parse_pg_error(b).unwrap();
        assert!(f.iter().any(|(c, m)| *c == 'M' && m.contains("supports 3.0")));
        assert!(parse_pg_error(b"E\xff\xff\xff\xff").is_none());
        assert!(parse_pg_error(b"N").is_none());
        let s = postgres_service(true, None);
        assert_eq!(s.extra["ssl"], "true");
    }

    #[test]
    fn mssql_prelogin_roundtrip() {
        let req = mssql_prelogin();
        assert_eq!(u16::from_be_bytes([req[2], req[3]]) as usize, req.len());
        // A server answer: version 15.0.2000, encryption off (0x00).
        let mut body = vec![0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xff];
        body.extend_from_slice(&[15, 0, 0x07, 0xd0, 0, 0, 0x00]);
        let mut pkt = vec![0x04, 0x01, 0, (8 + body.len()) as u8, 0, 0, 1, 0];
        pkt.extend_from_slice(&body);
        assert_eq!(parse_mssql_prelogin(&pkt).unwrap(), ("15.0.2000".into(), Some(0)));
        pkt.truncate(12);
        assert!(parse_mssql_prelogin(&pkt).is_none());
        assert!(parse_mssql_prelogin(&[0x04, 0, 0xff, 0xff, 0, 0, 0, 0, 0x00, 0xff, 0xff, 0xff, 0xff]).is_none());
    }
}
