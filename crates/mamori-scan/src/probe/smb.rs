//! SMB: an SMB1 NEGOTIATE offering only `NT LM 0.12` (MS-CIFS 2.2.4.52) tells whether SMBv1 is
//! enabled; an SMB2 NEGOTIATE (MS-SMB2 2.2.3) offering 2.0.2–3.0.2 gives the dialect and whether
//! signing is required. No session setup.

use super::{Ctx, Probe, Rd};
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmbInfo {
    pub smb1_enabled: Option<bool>,
    /// Highest SMB2/3 dialect the server chose: `2.0.2`, `2.1`, `3.0`, `3.0.2`.
    pub dialect: Option<String>,
    pub signing_required: Option<bool>,
}

fn netbios(payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut v = vec![0, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(payload);
    v
}

pub fn smb1_negotiate() -> Vec<u8> {
    let mut h = vec![0xff, b'S', b'M', b'B', 0x72, 0, 0, 0, 0, 0x18];
    h.extend_from_slice(&0xc001u16.to_le_bytes());
    h.extend_from_slice(&[0; 12]); // pid high, signature, reserved
    h.extend_from_slice(&[0xff, 0xff, 0xfe, 0xff, 0, 0, 0, 0]); // tid, pid, uid, mid
    let dialects = b"\x02NT LM 0.12\0";
    h.push(0); // word count
    h.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    h.extend_from_slice(dialects);
    netbios(&h)
}

pub fn smb2_negotiate() -> Vec<u8> {
    let mut h = vec![0xfe, b'S', b'M', b'B'];
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&[0; 2]); // credit charge
    h.extend_from_slice(&[0; 4]); // status
    h.extend_from_slice(&0u16.to_le_bytes()); // NEGOTIATE
    h.extend_from_slice(&1u16.to_le_bytes()); // credits
    h.extend_from_slice(&[0; 4 + 4 + 8 + 4 + 4 + 8 + 16]);
    let dialects: [u16; 4] = [0x0202, 0x0210, 0x0300, 0x0302];
    let mut b = 36u16.to_le_bytes().to_vec();
    b.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // signing enabled
    b.extend_from_slice(&[0; 2]);
    b.extend_from_slice(&[0; 4]); // capabilities
    b.extend_from_slice(b"MAMORI-SCAN-GUID");
    b.extend_from_slice(&[0; 8]);
    for d in dialects {
        b.extend_from_slice(&d.to_le_bytes());
    }
    h.extend(b);
    netbios(&h)
}

pub fn nb_complete(b: &[u8]) -> bool {
    b.len() >= 4 && b.len() >= 4 + ((usize::from(b[1]) << 16) | (usize::from(b[2]) << 8) | usize::from(b[3]))
}

/// SMB1 NEGOTIATE response → `Some(true)` when the server chose NT LM 0.12.
pub fn parse_smb1(b: &[u8]) -> Option<bool> {
    let mut r = Rd::new(b);
    r.take(4)?;
    if r.take(4)? != b"\xffSMB" {
        return None;
    }
    if r.u8()? != 0x72 {
        return None;
    }
    let status = r.u32le()?;
    r.take(23)?;
    let wc = r.u8()?;
    if status != 0 || wc == 0 {
        return Some(false);
    }
    Some(r.u16le()? == 0)
}

/// SMB2 NEGOTIATE response → (dialect, signing required).
pub fn parse_smb2(b: &[u8]) -> Option<(String, bool)> {
    let mut r = Rd::new(b);
    r.take(4)?;
    if r.take(4)? != b"\xfeSMB" {
        return None;
    }
    r.take(4)?;
    let status = r.u32le()?;
    r.take(52)?;
    if status != 0 {
        return None;
    }
    r.u16le()?; // structure size 65
    let security = r.u16le()?;
    let dialect = match r.u16le()? {
        0x0202 => "2.0.2",
        0x0210 => "2.1",
        0x0300 => "3.0",
        0x0302 => "3.0.2",
        0x0311 => "3.1.1",
        0x02ff => "2.???",
        _ => return None,
    };
    Some((dialect.to_owned(), security & 0x02 != 0))
}

pub(crate) async fn probe(ctx: &Ctx<'_>, port: u16) -> Probe {
    let mut info = SmbInfo::default();
    // SMB2 first: a server that speaks it is SMB for sure.
    match ctx.connect(port).await {
        Ok(mut c) => {
            if c.send(&smb2_negotiate()).await.is_ok() {
                let (b, _) = c.read_until(64 * 1024, nb_complete).await;
                if let Some((d, sign)) = parse_smb2(&b) {
                    info.dialect = Some(d);
                    info.signing_required = Some(sign);
                }
            }
            c.close().await;
        }
        Err(e) => return Probe::from_connect(e),
    }
    match ctx.connect(port).await {
        Ok(mut c) => {
            if c.send(&smb1_negotiate()).await.is_ok() {
                let (b, _) = c.read_until(64 * 1024, nb_complete).await;
                info.smb1_enabled = parse_smb1(&b).or(if info.dialect.is_some() { Some(false) } else { None });
            }
            c.close().await;
        }
        Err(e) => return Probe::from_connect(e),
    }
    if info.dialect.is_none() && info.smb1_enabled != Some(true) {
        return Probe::NotThis;
    }
    Probe::found(service_from(info))
}

pub fn service_from(info: SmbInfo) -> Service {
    let mut s = Service::named("microsoft-ds", DetectionMethod::Probed);
    s.product = Some("SMB".into());
    if let Some(d) = &info.dialect {
        s.extra.insert("dialect".into(), d.clone());
    }
    if let Some(v1) = info.smb1_enabled {
        s.extra.insert("smb1".into(), v1.to_string());
    }
    s.detail = Some(ServiceDetail::Smb(info));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_requests_and_answers() {
        let r1 = smb1_negotiate();
        assert!(nb_complete(&r1));
        assert_eq!(&r1[4..8], b"\xffSMB");
        let r2 = smb2_negotiate();
        assert!(nb_complete(&r2));
        assert_eq!(r2.len(), 4 + 64 + 36 + 8);
        // SMB1 answer choosing dialect 0
        let mut a = vec![0xff, b'S', b'M', b'B', 0x72, 0, 0, 0, 0];
        a.extend_from_slice(&[0; 23]);
        a.push(17);
        a.extend_from_slice(&0u16.to_le_bytes());
        a.extend_from_slice(&[0; 32]);
        assert_eq!(parse_smb1(&netbios(&a)), Some(true));
        // error status: not accepted
        a[5] = 0x02;
        assert_eq!(parse_smb1(&netbios(&a)), Some(false));
        // SMB2 answer: dialect 3.0.2, signing required
        let mut h = vec![0xfe, b'S', b'M', b'B'];
        h.extend_from_slice(&[0; 60]);
        h.extend_from_slice(&65u16.to_le_bytes());
        h.extend_from_slice(&3u16.to_le_bytes());
        h.extend_from_slice(&0x0302u16.to_le_bytes());
        h.extend_from_slice(&[0; 60]);
        assert_eq!(parse_smb2(&netbios(&h)), Some(("3.0.2".into(), true)));
        assert_eq!(parse_smb2(&netbios(&h[..40])), None);
        assert_eq!(parse_smb1(b"junk"), None);
        assert_eq!(parse_smb2(&[]), None);
    }
}
