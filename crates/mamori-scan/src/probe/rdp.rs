//! RDP: an X.224 Connection Request with RDP_NEG_REQ asking for TLS only (MS-RDPBCGR 2.2.1.1).
//! A server that requires Network Level Authentication (CredSSP) answers RDP_NEG_FAILURE with
//! HYBRID_REQUIRED_BY_SERVER; one that accepts TLS without NLA selects PROTOCOL_SSL.

use super::{Ctx, Probe, Rd};
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdpInfo {
    /// `Some(true)`: NLA (CredSSP) is required; `Some(false)`: a session can start without it.
    pub nla_required: Option<bool>,
    /// `rdp`, `ssl`, `hybrid`, `hybrid_ex` when the server chose one.
    pub selected_protocol: Option<String>,
    pub failure_code: Option<u32>,
}

/// TPKT + X.224 CR + RDP_NEG_REQ(requestedProtocols = PROTOCOL_SSL).
pub const CONNECTION_REQUEST: [u8; 19] =
    [0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00];

pub fn tpkt_complete(b: &[u8]) -> bool {
    b.len() >= 4 && b.len() >= usize::from(u16::from_be_bytes([b[2], b[3]]))
}

pub fn parse_confirm(b: &[u8]) -> Option<RdpInfo> {
    let mut r = Rd::new(b);
    if r.u8()? != 3 {
        return None;
    }
    r.u8()?;
    let len = usize::from(r.u16()?);
    let li = r.u8()?;
    if r.u8()? & 0xf0 != 0xd0 || len < 11 {
        return None;
    }
    r.take(5)?;
    let mut info = RdpInfo::default();
    if usize::from(li) < 14 {
        // No negotiation data: legacy RDP security only, so no NLA.
        info.nla_required = Some(false);
        info.selected_protocol = Some("rdp".into());
        return Some(info);
    }
    let t = r.u8()?;
    r.u8()?;
    r.u16le()?;
    let v = r.u32le()?;
    match t {
        0x02 => {
            info.selected_protocol = Some(
                match v {
                    0 => "rdp",
                    1 => "ssl",
                    2 => "hybrid",
                    8 => "hybrid_ex",
                    _ => "other",
                }
                .into(),
            );
            info.nla_required = Some(false);
        }
        0x03 => {
            info.failure_code = Some(v);
            info.nla_required = Some(v == 5);
        }
        _ => return None,
    }
    Some(info)
}

pub(crate) async fn probe(ctx: &Ctx<'_>, port: u16) -> Probe {
    let mut conn = match ctx.connect(port).await {
        Ok(c) => c,
        Err(e) => return Probe::from_connect(e),
    };
    if conn.send(&CONNECTION_REQUEST).await.is_err() {
        return Probe::NotThis;
    }
    let (b, _) = conn.read_until(1024, tpkt_complete).await;
    conn.close().await;
    match parse_confirm(&b) {
        Some(info) => {
            let mut s = Service::named("ms-wbt-server", DetectionMethod::Probed);
            s.product = Some("Remote Desktop Protocol".into());
            if let Some(n) = info.nla_required {
                s.extra.insert("nla_required".into(), n.to_string());
            }
            s.detail = Some(ServiceDetail::Rdp(info));
            Probe::found(s)
        }
        None => Probe::NotThis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirms() {
        assert!(tpkt_complete(&CONNECTION_REQUEST));
        let ssl = [3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 1, 0, 0, 0];
        assert_eq!(parse_confirm(&ssl).unwrap().nla_required, Some(false));
        let fail = [3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 3, 0, 8, 0, 5, 0, 0, 0];
        let i = parse_confirm(&fail).unwrap();
        assert_eq!((i.nla_required, i.failure_code), (Some(true), Some(5)));
        let legacy = [3, 0, 0, 11, 6, 0xd0, 0, 0, 0x12, 0x34, 0];
        assert_eq!(parse_confirm(&legacy).unwrap().selected_protocol.as_deref(), Some("rdp"));
        assert!(parse_confirm(b"HTTP/1.1").is_none());
        assert!(parse_confirm(&ssl[..12]).is_none());
        assert!(parse_confirm(&[]).is_none());
    }
}
