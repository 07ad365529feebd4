//! DICOM upper layer (PS3.8 §9.3): A-ASSOCIATE-RQ proposing only the Verification SOP class
//! (1.2.840.10008.1.1) with Implicit VR Little Endian, read A-ASSOCIATE-AC/RJ or A-ABORT, then
//! release cleanly with A-RELEASE-RQ. No C-ECHO or any DIMSE message is sent.
//!
//! Two associations at most: one to the generic called AE `ANY-SCP`, and, if that is accepted, one
//! to a called AE no real SCP is named, to learn whether the SCP checks the called AE title.

use super::{Ctx, Probe, Rd};
use crate::cpe;
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};

pub const CALLING_AE: &str = "MAMORI-SCAN";
pub const GENERIC_CALLED_AE: &str = "ANY-SCP";
/// A called AE title no SCP should answer to.
pub const WRONG_CALLED_AE: &str = "MAMORI-NO-SUCH";
const APP_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
const VERIFICATION: &str = "1.2.840.10008.1.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
/// Our implementation class UID (a 2.25 UUID-derived UID, PS3.5 §B.2).
pub const IMPL_CLASS_UID: &str = "2.25.240517306405262843097563155186418862401";
pub const IMPL_VERSION: &str = "MAMORI_SCAN_01";
pub const RELEASE_RQ: [u8; 10] = [0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DicomInfo {
    pub calling_ae: String,
    /// Called AE of the first association request.
    pub called_ae: String,
    /// `accepted`, `rejected`, `aborted`.
    pub result: String,
    /// For a rejection: `permanent/transient`, the source and the reason in words.
    pub reject_reason: Option<String>,
    /// The Verification presentation context was accepted.
    pub verification_accepted: bool,
    /// `Some(false)`: an association to a made-up called AE was accepted too.
    pub called_ae_enforced: Option<bool>,
    /// Our unknown calling AE was accepted.
    pub calling_ae_accepted: bool,
    pub impl_class_uid: Option<String>,
    pub impl_version_name: Option<String>,
    pub max_pdu_length: Option<u32>,
    /// The SCP answered our A-RELEASE-RQ with A-RELEASE-RP.
    pub released: bool,
}

fn ae(s: &str) -> [u8; 16] {
    let mut a = [b' '; 16];
    for (d, c) in a.iter_mut().zip(s.bytes()) {
        *d = c;
    }
    a
}

fn item(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![t, 0];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

pub fn associate_rq(called: &str, calling: &str) -> Vec<u8> {
    let mut body = vec![0x00, 0x01, 0, 0];
    body.extend_from_slice(&ae(called));
    body.extend_from_slice(&ae(calling));
    body.extend_from_slice(&[0; 32]);
    body.extend(item(0x10, APP_CONTEXT.as_bytes()));
    let mut pc = vec![1, 0, 0, 0];
    pc.extend(item(0x30, VERIFICATION.as_bytes()));
    pc.extend(item(0x40, IMPLICIT_LE.as_bytes()));
    body.extend(item(0x20, &pc));
    let mut ui = item(0x51, &16384u32.to_be_bytes());
    ui.extend(item(0x52, IMPL_CLASS_UID.as_bytes()));
    ui.extend(item(0x55, IMPL_VERSION.as_bytes()));
    body.extend(item(0x50, &ui));
    let mut pdu = vec![0x01, 0];
    pdu.extend_from_slice(&(body.len() as u32).to_be_bytes());
    pdu.extend(body);
    pdu
}

/// A parsed answer to A-ASSOCIATE-RQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssocAnswer {
    Accepted { verification: bool, impl_uid: Option<String>, impl_version: Option<String>, max_pdu: Option<u32> },
    Rejected { result: u8, source: u8, reason: u8 },
    Aborted { source: u8, reason: u8 },
}

/// True once `b` holds a whole PDU.
pub fn pdu_complete(b: &[u8]) -> bool {
    b.len() >= 6 && {
        let len = u32::from_be_bytes([b[2], b[3], b[4], b[5]]) as usize;
        len > 1 << 20 || b.len() >= 6 + len
    }
}

fn uid(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim_end_matches(['\0', ' ']).to_owned()
}

pub fn parse_answer(b: &[u8]) -> Option<AssocAnswer> {
    let mut r = Rd::new(b);
    let t = r.u8()?;
    r.u8()?;
    let len = r.u32()? as usize;
    let body = r.take(len.min(r.remaining()))?;
    let mut r = Rd::new(body);
    match t {
        0x02 => {
            r.take(2 + 2 + 16 + 16 + 32)?;
            let (mut verification, mut impl_uid, mut impl_version, mut max_pdu) = (false, None, None, None);
            while r.remaining() >= 4 {
                let it = r.u8()?;
                r.u8()?;
                let l = r.u16()? as usize;
                let Some(v) = r.take(l) else { break };
                match it {
                    0x21 if v.len() >= 4 => verification |= v[0] == 1 && v[2] == 0,
                    0x50 => {
                        let mut u = Rd::new(v);
                        while u.remaining() >= 4 {
                            let st = u.u8()?;
                            u.u8()?;
                            let sl = u.u16()? as usize;
                            let Some(sv) = u.take(sl) else { break };
                            match st {
                                0x51 if sv.len() == 4 => {
                                    max_pdu = Some(u32::from_be_bytes([sv[0], sv[1], sv[2], sv[3]]))
                                }
                                0x52 => impl_uid = Some(uid(sv)),
                                0x55 => impl_version = Some(uid(sv)),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            Some(AssocAnswer::Accepted { verification, impl_uid, impl_version, max_pdu })
        }
        0x03 => {
            r.u8()?;
            Some(AssocAnswer::Rejected { result: r.u8()?, source: r.u8()?, reason: r.u8()? })
        }
        0x07 => {
            r.take(2)?;
            Some(AssocAnswer::Aborted { source: r.u8()?, reason: r.u8()? })
        }
        _ => None,
    }
}

/// PS3.8 Table 9-21 in words.
pub fn reject_text(result: u8, source: u8, reason: u8) -> String {
    let kind = if result == 2 { "transient" } else { "permanent" };
    let why = match (source, reason) {
        (1, 1) => "service-user: no reason given",
        (1, 2) => "service-user: application context name not supported",
        (1, 3) => "service-user: calling AE title not recognized",
        (1, 7) => "service-user: called AE title not recognized",
        (2, 1) => "service-provider (ACSE): no reason given",
        (2, 2) => "service-provider (ACSE): protocol version not supported",
        (3, 1) => "service-provider (presentation): temporary congestion",
        (3, 2) => "service-provider (presentation): local limit exceeded",
        _ => "unknown reason",
    };
    format!("{kind}, {why} (source {source}, reason {reason})")
}

/// Product and version from the implementation class UID and version name.
pub fn identify(
    impl_uid: Option<&str>,
    impl_version: Option<&str>,
) -> (Option<String>, Option<String>, Option<String>) {
    let ver = impl_version.unwrap_or("");
    let uid = impl_uid.unwrap_or("");
    if let Some(v) = ver.strip_prefix("OFFIS_DCMTK_") {
        let version = dcmtk_version(v);
        let cpe = Some(cpe::app("offis", "dcmtk", version.as_deref()));
        return (Some("OFFIS DCMTK".into()), version, cpe);
    }
    if ver.to_ascii_uppercase().starts_with("ORTHANC") {
        let v = ver
            .get(7..)
            .map(|s| s.trim_matches(|c: char| c == '_' || c == ' ').replace('_', "."))
            .filter(|s| !s.is_empty());
        return (Some("Orthanc".into()), v.clone(), Some(cpe::app("orthanc-server", "orthanc", v.as_deref())));
    }
    if uid.starts_with("1.2.276.0.7230010.3") {
        return (Some("OFFIS DCMTK".into()), None, Some(cpe::app("offis", "dcmtk", None)));
    }
    if ver.to_ascii_lowercase().starts_with("dcm4che") || uid.starts_with("1.2.40.0.13.1") {
        let v = ver.split(['-', '_']).nth(1).map(str::to_owned);
        return (Some("dcm4che".into()), v.clone(), Some(cpe::app("dcm4che", "dcm4chee_arc_light", v.as_deref())));
    }
    if ver.starts_with("PYNETDICOM") || uid.starts_with("1.2.826.0.1.3680043.9.3811") {
        return (Some("pynetdicom".into()), None, None);
    }
    if ver.to_ascii_lowercase().starts_with("fo-dicom") {
        return (Some("fo-dicom".into()), ver.split_whitespace().nth(1).map(str::to_owned), None);
    }
    (None, None, None)
}

/// `367` → `3.6.7`, `3610` → `3.6.10`.
fn dcmtk_version(v: &str) -> Option<String> {
    let d: Vec<char> = v.chars().take_while(char::is_ascii_digit).collect();
    (d.len() >= 3).then(|| format!("{}.{}.{}", d[0], d[1], d[2..].iter().collect::<String>()))
}

async fn associate(ctx: &Ctx<'_>, port: u16, called: &str) -> Result<(Option<AssocAnswer>, bool), super::ConnectFail> {
    let mut conn = ctx.connect(port).await?;
    if conn.send(&associate_rq(called, CALLING_AE)).await.is_err() {
        return Ok((None, false));
    }
    let (b, _) = conn.read_until(64 * 1024, pdu_complete).await;
    let answer = parse_answer(&b);
    let mut released = false;
    if matches!(answer, Some(AssocAnswer::Accepted { .. })) && conn.send(&RELEASE_RQ).await.is_ok() {
        let (rp, _) = conn.read_until(64, pdu_complete).await;
        released = rp.first() == Some(&0x06);
    }
    conn.close().await;
    Ok((answer, released))
}

pub(crate) async fn probe(ctx: &Ctx<'_>, port: u16) -> Probe {
    let (first, released) = match associate(ctx, port, GENERIC_CALLED_AE).await {
        Ok(x) => x,
        Err(e) => return Probe::from_connect(e),
    };
    let Some(first) = first else { return Probe::NotThis };
    let mut info = DicomInfo {
        calling_ae: CALLING_AE.into(),
        called_ae: GENERIC_CALLED_AE.into(),
        released,
        ..Default::default()
    };
    match &first {
        AssocAnswer::Accepted { verification, impl_uid, impl_version, max_pdu } => {
            info.result = "accepted".into();
            info.verification_accepted = *verification;
            info.calling_ae_accepted = true;
            info.impl_class_uid = impl_uid.clone();
            info.impl_version_name = impl_version.clone();
            info.max_pdu_length = *max_pdu;
            // Does it check the called AE title at all?
            if let Ok((Some(second), _)) = associate(ctx, port, WRONG_CALLED_AE).await {
                info.called_ae_enforced = Some(!matches!(second, AssocAnswer::Accepted { .. }));
            }
        }
        AssocAnswer::Rejected { result, source, reason } => {
            info.result = "rejected".into();
            info.reject_reason = Some(reject_text(*result, *source, *reason));
            if *source == 1 && *reason == 7 {
                info.called_ae_enforced = Some(true);
            }
        }
        AssocAnswer::Aborted { source, reason } => {
            info.result = "aborted".into();
            info.reject_reason = Some(format!("A-ABORT (source {source}, reason {reason})"));
        }
    }
    Probe::found(service_from(info))
}

pub fn service_from(info: DicomInfo) -> Service {
    let mut s = Service::named("dicom", DetectionMethod::Probed);
    let (p, v, c) = identify(info.impl_class_uid.as_deref(), info.impl_version_name.as_deref());
    s.product = p;
    s.version = v;
    s.cpe = c;
    s.extra.insert("association".into(), info.result.clone());
    if let Some(u) = &info.impl_class_uid {
        s.extra.insert("impl_class_uid".into(), u.clone());
    }
    if let Some(u) = &info.impl_version_name {
        s.extra.insert("impl_version_name".into(), u.clone());
    }
    if let Some(e) = info.called_ae_enforced {
        s.extra.insert("called_ae_enforced".into(), e.to_string());
    }
    s.detail = Some(ServiceDetail::Dicom(info));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ac(impl_uid: &str, version: &str, pc_result: u8) -> Vec<u8> {
        let mut body = vec![0, 1, 0, 0];
        body.extend_from_slice(&ae("ANY-SCP"));
        body.extend_from_slice(&ae(CALLING_AE));
        body.extend_from_slice(&[0; 32]);
        body.extend(item(0x10, APP_CONTEXT.as_bytes()));
        let mut pc = vec![1, 0, pc_result, 0];
        pc.extend(item(0x40, IMPLICIT_LE.as_bytes()));
        body.extend(item(0x21, &pc));
        let mut ui = item(0x51, &16384u32.to_be_bytes());
        ui.extend(item(0x52, impl_uid.as_bytes()));
        ui.extend(item(0x55, version.as_bytes()));
        body.extend(item(0x50, &ui));
        let mut pdu = vec![0x02, 0];
        pdu.extend_from_slice(&(body.len() as u32).to_be_bytes());
        pdu.extend(body);
        pdu
    }

    #[test]
    fn request_layout() {
        let rq = associate_rq("ORTHANC", CALLING_AE);
        assert_eq!(rq[0], 1);
        assert_eq!(u32::from_be_bytes([rq[2], rq[3], rq[4], rq[5]]) as usize, rq.len() - 6);
        assert_eq!(&rq[10..26], b"ORTHANC         ");
        assert_eq!(&rq[26..42], b"MAMORI-SCAN     ");
        assert!(pdu_complete(&rq));
        assert!(!pdu_complete(&rq[..rq.len() - 1]));
    }

    #[test]
    fn accept_reject_abort() {
        let a = ac("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367", 0);
        let Some(AssocAnswer::Accepted { verification, impl_uid, impl_version, max_pdu }) = parse_answer(&a) else {
            panic!()
        };
        assert!(verification);
        assert_eq!(max_pdu, Some(16384));
        let (p, v, c) = identify(impl_uid.as_deref(), impl_version.as_deref());
        assert_eq!((p.as_deref(), v.as_deref()), (Some("OFFIS DCMTK"), Some("3.6.7")));
        assert_eq!(c.as_deref(), Some("cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*"));
        let Some(AssocAnswer::Accepted { verification, .. }) = parse_answer(&ac("1.2", "X", 3)) else { panic!() };
        assert!(!verification);
        assert_eq!(
            parse_answer(&[3, 0, 0, 0, 0, 4, 0, 1, 1, 7]),
            Some(AssocAnswer::Rejected { result: 1, source: 1, reason: 7 })
        );
        assert!(reject_text(1, 1, 7).contains("called AE title not recognized"));
        assert_eq!(parse_answer(&[7, 0, 0, 0, 0, 4, 0, 0, 2, 0]), Some(AssocAnswer::Aborted { source: 2, reason: 0 }));
        assert_eq!(identify(None, Some("OFFIS_DCMTK_3610")).1.as_deref(), Some("3.6.10"));
    }

    #[test]
    fn malformed_pdus() {
        assert_eq!(parse_answer(b"HTTP/1.1 400"), None);
        assert_eq!(parse_answer(&[2, 0, 0xff, 0xff, 0xff, 0xff, 0]), None);
        assert_eq!(parse_answer(&[3, 0, 0, 0, 0, 1, 0]), None);
        let mut a = ac("1.2.3", "V", 0);
        a.truncate(a.len() - 5);
        let _ = parse_answer(&a);
        // an item whose length runs past the end
        let mut b = ac("1.2.3", "V", 0);
        let n = b.len();
        b[n - 3] = 0xff;
        let _ = parse_answer(&b);
        for n in 0..80 {
            let junk: Vec<u8> = (0..n).map(|i| if i == 0 { 2 } else { (i * 91 % 256) as u8 }).collect();
            let _ = parse_answer(&junk);
            let _ = pdu_complete(&junk);
        }
        assert_eq!(identify(Some(""), Some("")), (None, None, None));
    }
}
