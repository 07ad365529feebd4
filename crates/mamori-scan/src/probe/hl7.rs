//! HL7 v2 over MLLP (HL7 v2.5.1 Appendix C: `<VT> message <FS><CR>`).
//!
//! By default no HL7 message is sent: we send an empty MLLP block (`VT FS CR`, no segments) and
//! see how the listener reacts. An answer framed in MLLP proves the framing; an immediate close is
//! what MLLP listeners do with an empty block, and counts only on a usual HL7 port.
//! With [`crate::ScanPolicy::hl7_send_test_message`] one NMQ^N01 (network management query, the
//! message type HL7 defines for this) is sent with processing id `T` (training), and the ACK's
//! MSH/MSA are read.

use super::{Ctx, Probe};
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const VT: u8 = 0x0b;
pub const FS: u8 = 0x1c;
pub const CR: u8 = 0x0d;
pub const EMPTY_BLOCK: [u8; 3] = [VT, FS, CR];
const HL7_PORTS: &[u16] = &[2575, 2576, 6661, 6662, 6663, 5000];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hl7Info {
    /// `mllp-reply` (an MLLP-framed answer arrived), `closed-on-empty-block` (weak: port hint),
    /// `ack` (a test message was acknowledged).
    pub evidence: String,
    pub test_message_sent: bool,
    /// MSA-1: `AA`, `AE`, `AR` (or `CA`/`CE`/`CR`).
    pub ack_code: Option<String>,
    pub sending_application: Option<String>,
    pub sending_facility: Option<String>,
    pub message_type: Option<String>,
    pub version: Option<String>,
    pub ack_text: Option<String>,
}

/// The harmless test message: NMQ^N01, processing id T, only an MSH segment.
pub fn test_message(control_id: &str, timestamp: &str) -> Vec<u8> {
    let mut v = vec![VT];
    v.extend_from_slice(
        format!("MSH|^~\\&|MAMORI|SCAN|||{timestamp}||NMQ^N01^NMQ_N01|{control_id}|T|2.5\r").as_bytes(),
    );
    v.extend_from_slice(&[FS, CR]);
    v
}

pub fn block_complete(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == [FS, CR])
}

/// Parses an MLLP-framed reply (MSH + MSA). `None` if not MLLP-framed HL7.
pub fn parse_reply(b: &[u8]) -> Option<Hl7Info> {
    let start = b.iter().position(|&c| c == VT)?;
    if start > 16 {
        return None;
    }
    let end = b[start..].windows(2).position(|w| w == [FS, CR]).map_or(b.len(), |p| start + p);
    let text = String::from_utf8_lossy(&b[start + 1..end]);
    let mut info = Hl7Info { evidence: "mllp-reply".into(), ..Default::default() };
    for seg in text.split(['\r', '\n']).filter(|s| !s.is_empty()).take(50) {
        if seg.starts_with("MSH") && seg.len() > 4 {
            let sep = seg.chars().nth(3)?;
            let f: Vec<&str> = seg.split(sep).collect();
            // f[1] is the encoding characters: MSH-n is f[n-1].
            let get = |n: usize| f.get(n - 1).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            info.sending_application = get(3);
            info.sending_facility = get(4);
            info.message_type = get(9);
            info.version = get(12);
        } else if let Some(rest) = seg.strip_prefix("MSA") {
            let sep = rest.chars().next().unwrap_or('|');
            let f: Vec<&str> = rest.split(sep).collect();
            info.ack_code = f.get(1).map(|s| s.to_string()).filter(|s| !s.is_empty());
            info.ack_text = f.get(3).map(|s| s.to_string()).filter(|s| !s.is_empty());
        }
    }
    Some(info)
}

pub(crate) async fn probe(ctx: &Ctx<'_>, port: u16) -> Probe {
    if ctx.policy.hl7_send_test_message {
        let mut conn = match ctx.connect(port).await {
            Ok(c) => c,
            Err(e) => return Probe::from_connect(e),
        };
        let now = time::OffsetDateTime::now_utc();
        let ts = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            now.year(),
            now.month() as u8,
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let control = format!("MAMORI{}", now.unix_timestamp() % 1_000_000);
        if conn.send(&test_message(&control, &ts)).await.is_err() {
            return Probe::NotThis;
        }
        let (b, _) = conn.read_until(64 * 1024, block_complete).await;
        conn.close().await;
        return match parse_reply(&b) {
            Some(mut info) => {
                info.test_message_sent = true;
                info.evidence = "ack".into();
                Probe::found(service_from(info))
            }
            None => Probe::NotThis,
        };
    }
    let mut conn = match ctx.connect(port).await {
        Ok(c) => c,
        Err(e) => return Probe::from_connect(e),
    };
    if conn.send(&EMPTY_BLOCK).await.is_err() {
        return Probe::NotThis;
    }
    let wait = conn.read_timeout().min(Duration::from_millis(1500));
    let (b, end) = conn.read_until_within(64 * 1024, wait, block_complete).await;
    conn.close().await;
    if let Some(info) = parse_reply(&b) {
        return Probe::found(service_from(info));
    }
    if b.is_empty() && end == super::End::Eof && HL7_PORTS.contains(&port) {
        return Probe::found(service_from(Hl7Info { evidence: "closed-on-empty-block".into(), ..Default::default() }));
    }
    Probe::NotThis
}

pub fn service_from(info: Hl7Info) -> Service {
    let mut s = Service::named("hl7-mllp", DetectionMethod::Probed);
    s.product = info.sending_application.clone();
    s.version = None;
    if let Some(v) = &info.version {
        s.extra.insert("hl7_version".into(), v.clone());
    }
    if let Some(a) = &info.ack_code {
        s.extra.insert("ack_code".into(), a.clone());
    }
    s.extra.insert("evidence".into(), info.evidence.clone());
    s.detail = Some(ServiceDetail::Hl7(info));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ack() {
        let b = b"\x0bMSH|^~\\&|LIS|LAB|MAMORI|SCAN|20261122232916||ACK^N01^ACK|63262|T|2.5\rMSA|AA|MAMORI1\r\x1c\r";
        assert!(block_complete(b));
        let i = parse_reply(b).unwrap();
        assert_eq!(i.ack_code.as_deref(), Some("AA"));
        assert_eq!(i.sending_application.as_deref(), Some("LIS"));
        assert_eq!(i.message_type.as_deref(), Some("ACK^N01^ACK"));
        assert_eq!(i.version.as_deref(), Some("2.5"));
        let nak = b"\x0bMSH|^~\\&|||||||ACK|1|P|2.3\rMSA|AR|X|unsupported message\r\x1c\r";
        assert_eq!(parse_reply(nak).unwrap().ack_text.as_deref(), Some("unsupported message"));
        let m = test_message("C1", "20260101000000");
        assert!(m.starts_with(&[VT]) && m.ends_with(&[FS, CR]));
        assert!(String::from_utf8_lossy(&m).contains("|NMQ^N01^NMQ_N01|C1|T|2.5\r"));
    }

    #[test]
    fn malformed() {
        assert!(parse_reply(b"HTTP/1.1 200 OK").is_none());
        assert!(parse_reply(b"").is_none());
        let i = parse_reply(b"\x0bMSH").unwrap();
        assert_eq!(i.ack_code, None);
        let i = parse_reply(b"\x0bMSA\x1c\r").unwrap();
        assert_eq!(i.ack_code, None);
        let _ = parse_reply(&[VT, b'M', b'S', b'H', 0xff, 0xfe, FS]);
    }
}
