//! SSH (RFC 4253): the identification line (`SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10`) and the
//! server's SSH_MSG_KEXINIT algorithm lists. We send our own identification line and close after
//! KEXINIT: no key exchange, no authentication.

use super::{Conn, Rd};
use crate::cpe;
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshInfo {
    pub banner: String,
    pub protocol: String,
    pub software: String,
    pub comment: Option<String>,
    pub kex: Vec<String>,
    pub host_key: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
    pub compression: Vec<String>,
    /// Offered algorithms considered weak (SHA-1 key exchange, CBC/3DES/RC4 ciphers, MD5 MACs,
    /// DSA host keys).
    pub weak: Vec<String>,
}

/// Splits `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10` into (protocol, software, comment).
pub fn parse_banner(line: &[u8]) -> Option<(String, String, Option<String>)> {
    let line = line.split(|&c| c == b'\n').find(|l| l.starts_with(b"SSH-"))?;
    let line = String::from_utf8_lossy(line).trim_end_matches(['\r', '\n']).to_string();
    let rest = line.strip_prefix("SSH-")?;
    let (proto, rest) = rest.split_once('-')?;
    let (software, comment) = match rest.split_once(' ') {
        Some((s, c)) => (s.to_owned(), Some(c.to_owned())),
        None => (rest.to_owned(), None),
    };
    Some((proto.to_owned(), software, comment))
}

/// Parses one binary packet holding SSH_MSG_KEXINIT. Returns the ten name-lists.
pub fn parse_kexinit(pkt: &[u8]) -> Option<Vec<Vec<String>>> {
    let mut r = Rd::new(pkt);
    let len = r.u32()? as usize;
    if !(16..=35_000).contains(&len) {
        return None;
    }
    let body = r.take(len)?;
    let mut r = Rd::new(body);
    let pad = r.u8()? as usize;
    let payload_len = len.checked_sub(pad + 1)?;
    let payload = r.take(payload_len)?;
    let mut r = Rd::new(payload);
    if r.u8()? != 20 {
        return None;
    }
    r.take(16)?;
    let mut lists = Vec::with_capacity(10);
    for _ in 0..10 {
        let n = r.u32()? as usize;
        let s = r.take(n)?;
        lists.push(String::from_utf8_lossy(s).split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect());
    }
    Some(lists)
}

/// True once `buf` holds a complete binary packet (after any identification lines).
fn packet_complete(buf: &[u8]) -> bool {
    buf.len() >= 4 && {
        let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        len > 35_000 || buf.len() >= 4 + len
    }
}

fn weak_algorithms(info: &SshInfo) -> Vec<String> {
    let is_weak = |a: &str| {
        let a = a.to_ascii_lowercase();
        a.contains("group1-sha1")
            || a == "diffie-hellman-group14-sha1"
            || a == "diffie-hellman-group-exchange-sha1"
            || a == "ssh-dss"
            || a.contains("arcfour")
            || a.contains("3des")
            || a.contains("blowfish")
            || a.contains("cast128")
            || a.ends_with("-cbc")
            || a.contains("hmac-md5")
            || a.contains("-96")
    };
    [&info.kex, &info.host_key, &info.ciphers, &info.macs]
        .into_iter()
        .flatten()
        .filter(|a| is_weak(a))
        .cloned()
        .collect()
}

/// Product, version and CPE from the software field.
pub fn identify(software: &str) -> (Option<String>, Option<String>, Option<String>) {
    if let Some(v) = software.strip_prefix("OpenSSH_") {
        // 9.2p1 → version 9.2, update p1 (the NVD form).
        let (base, upd) = match v.find('p') {
            Some(i) => (&v[..i], Some(&v[i..])),
            None => (v, None),
        };
        let cpe = cpe::cpe23('a', "openbsd", "openssh", Some(base), upd);
        return (Some("OpenSSH".into()), Some(v.to_owned()), Some(cpe));
    }
    if let Some(v) = software.strip_prefix("dropbear_").or_else(|| software.strip_prefix("dropbear-")) {
        return (
            Some("Dropbear sshd".into()),
            Some(v.to_owned()),
            Some(cpe::app("dropbear_ssh_project", "dropbear_ssh", Some(v))),
        );
    }
    if software.starts_with("ROSSSH") {
        return (
            Some("MikroTik RouterOS sshd".into()),
            None,
            Some(cpe::cpe23('o', "mikrotik", "routeros", None, None)),
        );
    }
    if let Some(v) = software.strip_prefix("Cisco-") {
        return (Some("Cisco SSH".into()), Some(v.to_owned()), None);
    }
    if let Some(v) = software.strip_prefix("libssh_").or_else(|| software.strip_prefix("libssh-")) {
        return (Some("libssh".into()), Some(v.to_owned()), Some(cpe::app("libssh", "libssh", Some(v))));
    }
    (Some(software.to_owned()), None, None)
}

/// Builds the service from the banner and (when it arrived) the KEXINIT packet bytes.
pub fn service_from(banner: &[u8], kexinit: Option<&[u8]>) -> Service {
    let mut s = Service::named("ssh", DetectionMethod::Probed);
    let Some((protocol, software, comment)) = parse_banner(banner) else {
        return s;
    };
    let (product, version, cpe) = identify(&software);
    s.product = product;
    s.version = version;
    s.cpe = cpe;
    s.extra.insert("protocol".into(), protocol.clone());
    if let Some(c) = &comment {
        s.extra.insert("comment".into(), c.clone());
    }
    let mut info = SshInfo {
        banner: super::printable(banner.split(|&c| c == b'\n').next().unwrap_or(&[]), 255),
        protocol,
        software,
        comment,
        ..Default::default()
    };
    if let Some(lists) = kexinit.and_then(parse_kexinit) {
        let mut it = lists.into_iter();
        info.kex = it.next().unwrap_or_default();
        info.host_key = it.next().unwrap_or_default();
        info.ciphers = it.next().unwrap_or_default();
        it.next();
        info.macs = it.next().unwrap_or_default();
        it.next();
        info.compression = it.next().unwrap_or_default();
        info.weak = weak_algorithms(&info);
        s.extra.insert("host_key_algorithms".into(), info.host_key.join(","));
    }
    s.detail = Some(ServiceDetail::Ssh(info));
    s
}

pub(crate) async fn continue_after_banner(mut conn: Conn, banner: &[u8]) -> Service {
    // Anything after the identification line is already the start of the binary packet.
    let after = match banner.windows(2).position(|w| w == b"\r\n") {
        Some(i) => banner[i + 2..].to_vec(),
        None => match banner.iter().position(|&c| c == b'\n') {
            Some(i) => banner[i + 1..].to_vec(),
            None => Vec::new(),
        },
    };
    let mut kex = None;
    if conn.send(b"SSH-2.0-mamori_scan\r\n").await.is_ok() {
        let (more, _) = conn.read_until(40_000, |b| packet_complete(&[after.as_slice(), b].concat())).await;
        kex = Some([after, more].concat());
    }
    conn.close().await;
    service_from(banner, kex.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn kexinit_packet(lists: &[&str]) -> Vec<u8> {
        let mut payload = vec![20u8];
        payload.extend_from_slice(&[7u8; 16]);
        for l in lists {
            payload.extend_from_slice(&(l.len() as u32).to_be_bytes());
            payload.extend_from_slice(l.as_bytes());
        }
        payload.extend_from_slice(&[0, 0, 0, 0, 0]);
        let pad = 8 - ((payload.len() + 5) % 8) + 4;
        let len = payload.len() + pad + 1;
        let mut pkt = (len as u32).to_be_bytes().to_vec();
        pkt.push(pad as u8);
        pkt.extend_from_slice(&payload);
        pkt.extend(std::iter::repeat_n(0u8, pad));
        pkt
    }

    #[test]
    fn openssh_banner_and_kexinit() {
        let banner = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";
        let pkt = kexinit_packet(&[
            "curve25519-sha256,diffie-hellman-group1-sha1",
            "ssh-ed25519,ssh-dss",
            "aes128-ctr,3des-cbc",
            "aes128-ctr",
            "hmac-sha2-256,hmac-md5",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ]);
        let s = service_from(banner, Some(&pkt));
        assert_eq!(s.product.as_deref(), Some("OpenSSH"));
        assert_eq!(s.version.as_deref(), Some("9.2p1"));
        assert_eq!(s.cpe.as_deref(), Some("cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*"));
        let Some(ServiceDetail::Ssh(info)) = s.detail else { panic!() };
        assert_eq!(info.comment.as_deref(), Some("Debian-2+deb12u10"));
        assert_eq!(info.host_key, vec!["ssh-ed25519", "ssh-dss"]);
        assert_eq!(info.weak, vec!["diffie-hellman-group1-sha1", "ssh-dss", "3des-cbc", "hmac-md5"]);
    }

    #[test]
    fn malformed_input_never_panics() {
        assert!(parse_banner(b"HTTP/1.1 200 OK").is_none());
        assert!(parse_banner(b"SSH-").is_none());
        assert!(parse_kexinit(&[]).is_none());
        assert!(parse_kexinit(&[0xff, 0xff, 0xff, 0xff, 1, 2]).is_none());
        assert!(parse_kexinit(&[0, 0, 0, 20, 200, 20]).is_none());
        let mut p = kexinit_packet(&["a"; 10]);
        p.truncate(p.len() - 9);
        assert!(parse_kexinit(&p).is_none());
        for n in 0..40 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            let _ = parse_kexinit(&junk);
            let _ = service_from(&junk, Some(&junk));
        }
        let s = service_from(b"SSH-2.0-dropbear_2022.83\r\n", None);
        assert_eq!(s.product.as_deref(), Some("Dropbear sshd"));
        assert_eq!(s.version.as_deref(), Some("2022.83"));
    }
}
