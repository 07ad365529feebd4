//! SNMP v2c (RFC 3416) GetRequest over UDP for sysDescr, sysObjectID and sysName with a
//! community string, and a small BER (X.690) encoder/decoder for it. A v2c agent silently drops a
//! request with a wrong community, so an answer proves the community works.

use super::{Ctx, Rd};
use crate::model::{AttemptOutcome, DetectionMethod, Proto, Service, ServiceDetail};
use serde::{Deserialize, Serialize};

pub const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
pub const SYS_OBJECT_ID: &str = "1.3.6.1.2.1.1.2.0";
pub const SYS_NAME: &str = "1.3.6.1.2.1.1.5.0";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnmpInfo {
    pub version: String,
    /// The community the agent answered to.
    pub community: String,
    pub sys_descr: Option<String>,
    pub sys_object_id: Option<String>,
    pub sys_name: Option<String>,
}

fn tlv(tag: u8, v: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = v.len();
    if n < 128 {
        out.push(n as u8);
    } else if n < 256 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(v);
    out
}

fn int(v: i64) -> Vec<u8> {
    let mut b = v.to_be_bytes().to_vec();
    while b.len() > 1 && ((b[0] == 0 && b[1] & 0x80 == 0) || (b[0] == 0xff && b[1] & 0x80 != 0)) {
        b.remove(0);
    }
    tlv(0x02, &b)
}

pub fn encode_oid(oid: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = oid.split('.').map(|a| a.parse().ok()).collect::<Option<_>>()?;
    if arcs.len() < 2 || arcs[0] > 2 {
        return None;
    }
    let mut out = Vec::new();
    let mut push = |mut n: u64| {
        let mut tmp = vec![(n & 0x7f) as u8];
        n >>= 7;
        while n > 0 {
            tmp.push(0x80 | (n & 0x7f) as u8);
            n >>= 7;
        }
        out.extend(tmp.into_iter().rev());
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    Some(out)
}

pub fn decode_oid(b: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut n: u64 = 0;
    for (i, &c) in b.iter().enumerate() {
        n = n.checked_mul(128)? | u64::from(c & 0x7f);
        if c & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (n / 40).min(2);
                arcs.push(first);
                arcs.push(n - first * 40);
            } else {
                arcs.push(n);
            }
            n = 0;
        } else if i == b.len() - 1 {
            return None;
        }
    }
    (!arcs.is_empty()).then(|| arcs.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

pub fn get_request(community: &str, request_id: i32, oids: &[&str]) -> Vec<u8> {
    let mut vbs = Vec::new();
    for o in oids {
        let mut vb = tlv(0x06, &encode_oid(o).unwrap_or_default());
        vb.extend(tlv(0x05, &[]));
        vbs.extend(tlv(0x30, &vb));
    }
    let mut pdu = int(i64::from(request_id));
    pdu.extend(int(0));
    pdu.extend(int(0));
    pdu.extend(tlv(0x30, &vbs));
    let mut msg = int(1); // version: 1 = v2c
    msg.extend(tlv(0x04, community.as_bytes()));
    msg.extend(tlv(0xa0, &pdu));
    tlv(0x30, &msg)
}

fn read_tlv<'a>(r: &mut Rd<'a>) -> Option<(u8, &'a [u8])> {
    let tag = r.u8()?;
    let first = r.u8()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        r.take(n)?.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b))
    };
    Some((tag, r.take(len)?))
}

/// A decoded GetResponse: (community, request id, error status, [(oid, value as text)]).
pub type GetResponse = (String, i64, i64, Vec<(String, String)>);

/// Decodes a GetResponse.
pub fn parse_response(b: &[u8]) -> Option<GetResponse> {
    let mut r = Rd::new(b);
    let (t, msg) = read_tlv(&mut r)?;
    if t != 0x30 {
        return None;
    }
    let mut m = Rd::new(msg);
    let (t, _ver) = read_tlv(&mut m)?;
    if t != 0x02 {
        return None;
    }
    let (t, community) = read_tlv(&mut m)?;
    if t != 0x04 {
        return None;
    }
    let (t, pdu) = read_tlv(&mut m)?;
    if t != 0xa2 {
        return None;
    }
    let mut p = Rd::new(pdu);
    let as_int = |v: &[u8]| {
        v.iter()
            .take(8)
            .fold(if v.first().is_some_and(|&x| x & 0x80 != 0) { -1i64 } else { 0 }, |a, &b| (a << 8) | i64::from(b))
    };
    let (_, rid) = read_tlv(&mut p)?;
    let (_, err) = read_tlv(&mut p)?;
    let (_, _idx) = read_tlv(&mut p)?;
    let (t, vbl) = read_tlv(&mut p)?;
    if t != 0x30 {
        return None;
    }
    let mut out = Vec::new();
    let mut l = Rd::new(vbl);
    while l.remaining() > 0 && out.len() < 64 {
        let (_, vb) = read_tlv(&mut l)?;
        let mut v = Rd::new(vb);
        let (t, oid) = read_tlv(&mut v)?;
        if t != 0x06 {
            return None;
        }
        let (vt, val) = read_tlv(&mut v)?;
        let text = match vt {
            0x04 => String::from_utf8_lossy(val).chars().take(1024).collect(),
            0x06 => decode_oid(val).unwrap_or_default(),
            0x02 | 0x41 | 0x42 | 0x43 => as_int(val).to_string(),
            0x80..=0x82 => continue, // noSuchObject / noSuchInstance / endOfMibView
            _ => super::printable(val, 200),
        };
        out.push((decode_oid(oid)?, text));
    }
    Some((String::from_utf8_lossy(community).to_string(), as_int(rid), as_int(err), out))
}

/// Vendor from the enterprise arc of sysObjectID (1.3.6.1.4.1.N…).
pub fn vendor(sys_object_id: &str) -> Option<&'static str> {
    let n: u32 = sys_object_id.strip_prefix("1.3.6.1.4.1.")?.split('.').next()?.parse().ok()?;
    Some(match n {
        8072 => "Net-SNMP",
        9 => "Cisco",
        311 => "Microsoft",
        11 => "HP",
        232 => "HPE (iLO/Insight)",
        674 => "Dell",
        2636 => "Juniper",
        12356 => "Fortinet",
        14988 => "MikroTik",
        1182 => "YAMAHA",
        5776 => "BUFFALO",
        119 => "NEC",
        211 => "Fujitsu",
        1602 => "Canon",
        367 => "RICOH",
        2435 => "Brother",
        1347 => "KYOCERA",
        18334 => "Konica Minolta",
        1248 => "EPSON",
        253 => "Xerox",
        6574 => "Synology",
        24681 => "QNAP",
        4526 => "NETGEAR",
        11863 => "TP-Link",
        _ => return None,
    })
}

/// Sends one GetRequest with `community`. `Ok(Some(info))`: the agent answered.
pub(crate) async fn query(
    ctx: &Ctx<'_>,
    port: u16,
    community: &str,
) -> Result<Option<(SnmpInfo, std::time::Duration)>, super::ConnectFail> {
    let rid = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 0x7fff_0000) as i32;
    let req = get_request(community, rid, &[SYS_DESCR, SYS_OBJECT_ID, SYS_NAME]);
    let Some((resp, rtt)) = ctx.udp_exchange(port, &req).await? else { return Ok(None) };
    let Some((comm, got_rid, _err, vbs)) = parse_response(&resp) else { return Ok(None) };
    if i64::from(rid) != got_rid {
        return Ok(None);
    }
    let get = |o: &str| vbs.iter().find(|(k, _)| k == o).map(|(_, v)| v.clone());
    Ok(Some((
        SnmpInfo {
            version: "v2c".into(),
            community: comm,
            sys_descr: get(SYS_DESCR),
            sys_object_id: get(SYS_OBJECT_ID),
            sys_name: get(SYS_NAME),
        },
        rtt,
    )))
}

/// UDP port probe: `public` first; with credential checks enabled, `private` too (recorded).
pub(crate) async fn probe(
    ctx: &Ctx<'_>,
    port: u16,
) -> Result<Option<(Service, std::time::Duration)>, super::ConnectFail> {
    let creds = ctx.policy.credentials.enabled;
    let mut found = None;
    for community in ["public", "private"] {
        if community != "public" && (!creds || found.is_some()) {
            break;
        }
        if creds && !ctx.reserve_attempt() {
            break;
        }
        let r = query(ctx, port, community).await;
        if creds {
            let outcome = match &r {
                Ok(Some(_)) => AttemptOutcome::Accepted,
                Ok(None) => AttemptOutcome::Rejected,
                Err(_) => AttemptOutcome::Error,
            };
            ctx.record_attempt(port, Proto::Udp, "snmp-community", "", community, outcome);
        }
        match r? {
            Some(x) => found = Some(x),
            None => continue,
        }
    }
    Ok(found.map(|(info, rtt)| (service_from(info), rtt)))
}

pub fn service_from(info: SnmpInfo) -> Service {
    let mut s = Service::named("snmp", DetectionMethod::Probed);
    if let Some(v) = info.sys_object_id.as_deref().and_then(vendor) {
        s.product = Some(format!("{v} SNMP agent"));
        if v == "Net-SNMP" {
            s.cpe = Some(crate::cpe::app("net-snmp", "net-snmp", None));
        }
    }
    if let Some(d) = &info.sys_descr {
        s.extra.insert("sys_descr".into(), d.clone());
    }
    if let Some(n) = &info.sys_name {
        s.extra.insert("sys_name".into(), n.clone());
    }
    s.extra.insert("community".into(), info.community.clone());
    s.detail = Some(ServiceDetail::Snmp(info));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_roundtrip() {
        for o in [SYS_DESCR, "1.3.6.1.4.1.8072.3.2.10", "2.999.3", "1.2.840.113549"] {
            assert_eq!(decode_oid(&encode_oid(o).unwrap()).unwrap(), o);
        }
        assert!(encode_oid("x.1").is_none());
        assert!(decode_oid(&[0x2b, 0x86]).is_none());
        assert_eq!(vendor("1.3.6.1.4.1.8072.3.2.10"), Some("Net-SNMP"));
        assert_eq!(vendor("1.3.6.1.2.1"), None);
    }

    /// Builds a GetResponse the way an agent would.
    fn response(community: &str, rid: i32, vbs: &[(&str, u8, &[u8])]) -> Vec<u8> {
        let mut list = Vec::new();
        for (o, t, v) in vbs {
            let mut vb = tlv(0x06, &encode_oid(o).unwrap());
            vb.extend(tlv(*t, v));
            list.extend(tlv(0x30, &vb));
        }
        let mut pdu = int(i64::from(rid));
        pdu.extend(int(0));
        pdu.extend(int(0));
        pdu.extend(tlv(0x30, &list));
        let mut msg = int(1);
        msg.extend(tlv(0x04, community.as_bytes()));
        msg.extend(tlv(0xa2, &pdu));
        tlv(0x30, &msg)
    }

    #[test]
    fn request_and_response() {
        let req = get_request("public", 0x1234, &[SYS_DESCR]);
        assert_eq!(req[0], 0x30);
        assert!(req.windows(6).any(|w| w == b"public"));
        let long = "Linux mamori 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 ".repeat(3);
        let oid = encode_oid("1.3.6.1.4.1.8072.3.2.10").unwrap();
        let b = response(
            "public",
            0x1234,
            &[(SYS_DESCR, 0x04, long.as_bytes()), (SYS_OBJECT_ID, 0x06, &oid), (SYS_NAME, 0x80, &[])],
        );
        let (c, rid, err, vbs) = parse_response(&b).unwrap();
        assert_eq!((c.as_str(), rid, err), ("public", 0x1234, 0));
        assert_eq!(vbs.len(), 2);
        assert_eq!(vbs[0].1, long);
        assert_eq!(vbs[1].1, "1.3.6.1.4.1.8072.3.2.10");
        // truncated and junk
        for n in 0..b.len() {
            let _ = parse_response(&b[..n]);
        }
        assert!(parse_response(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(parse_response(&req).is_none(), "a request is not a response");
    }
}
