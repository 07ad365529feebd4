//! MQTT 3.1.1 (OASIS): CONNECT without credentials; CONNACK return code 0 means anonymous access.
//! When anonymous access works we read the broker's retained `$SYS/broker/version` (a subscribe,
//! nothing published), then DISCONNECT.

use super::{Ctx, Probe, Rd};
use crate::cpe;
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqttInfo {
    /// CONNACK return code of the anonymous CONNECT (0 accepted, 4 bad user/password, 5 not authorised).
    pub anonymous_return_code: u8,
    pub anonymous_allowed: bool,
    /// From `$SYS/broker/version`, e.g. `mosquitto version 2.0.11`.
    pub broker_version: Option<String>,
}

fn remaining_length(mut n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        v.push(b);
        if n == 0 {
            return v;
        }
    }
}

fn string(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

pub fn connect_packet(client_id: &str, creds: Option<(&str, &str)>) -> Vec<u8> {
    let mut var = string("MQTT");
    var.push(4);
    var.push(if creds.is_some() { 0xc2 } else { 0x02 });
    var.extend_from_slice(&30u16.to_be_bytes());
    var.extend(string(client_id));
    if let Some((u, p)) = creds {
        var.extend(string(u));
        var.extend(string(p));
    }
    let mut pkt = vec![0x10];
    pkt.extend(remaining_length(var.len()));
    pkt.extend(var);
    pkt
}

pub fn subscribe_packet(topic: &str) -> Vec<u8> {
    let mut var = 1u16.to_be_bytes().to_vec();
    var.extend(string(topic));
    var.push(0);
    let mut pkt = vec![0x82];
    pkt.extend(remaining_length(var.len()));
    pkt.extend(var);
    pkt
}

pub const DISCONNECT: [u8; 2] = [0xe0, 0x00];

/// CONNACK → return code.
pub fn parse_connack(b: &[u8]) -> Option<u8> {
    match b {
        [0x20, 0x02, _, rc, ..] => Some(*rc),
        _ => None,
    }
}

/// Finds a PUBLISH for `topic` among the packets in `b` and returns its payload as text.
pub fn find_publish(b: &[u8], topic: &str) -> Option<String> {
    let mut r = Rd::new(b);
    for _ in 0..32 {
        let h = r.u8()?;
        let mut len = 0usize;
        for i in 0..4 {
            let x = r.u8()?;
            len |= usize::from(x & 0x7f) << (7 * i);
            if x & 0x80 == 0 {
                break;
            }
        }
        let body = r.take(len)?;
        if h >> 4 == 3 {
            let mut p = Rd::new(body);
            let tl = p.u16()? as usize;
            let t = p.take(tl)?;
            if (h >> 1) & 3 != 0 {
                p.take(2)?;
            }
            if t == topic.as_bytes() {
                return Some(String::from_utf8_lossy(p.rest()).chars().take(200).collect());
            }
        }
    }
    None
}

pub(crate) async fn connect_once(
    ctx: &Ctx<'_>,
    port: u16,
    creds: Option<(&str, &str)>,
) -> Result<Option<u8>, super::ConnectFail> {
    let mut conn = ctx.connect(port).await?;
    if conn.send(&connect_packet("mamori-scan", creds)).await.is_err() {
        return Ok(None);
    }
    let (b, _) = conn.read_until(16, |b| b.len() >= 4).await;
    let rc = parse_connack(&b);
    if rc == Some(0) {
        let _ = conn.send(&DISCONNECT).await;
    }
    conn.close().await;
    Ok(rc)
}

pub(crate) async fn probe(ctx: &Ctx<'_>, port: u16) -> Probe {
    let mut conn = match ctx.connect(port).await {
        Ok(c) => c,
        Err(e) => return Probe::from_connect(e),
    };
    if conn.send(&connect_packet("mamori-scan", None)).await.is_err() {
        return Probe::NotThis;
    }
    let (b, _) = conn.read_until(16, |b| b.len() >= 4).await;
    let Some(rc) = parse_connack(&b) else {
        conn.close().await;
        return Probe::NotThis;
    };
    let mut info = MqttInfo { anonymous_return_code: rc, anonymous_allowed: rc == 0, broker_version: None };
    if rc == 0 {
        if conn.send(&subscribe_packet("$SYS/broker/version")).await.is_ok() {
            let wait = conn.read_timeout().min(Duration::from_millis(1500));
            let (b, _) =
                conn.read_until_within(16 * 1024, wait, |b| find_publish(b, "$SYS/broker/version").is_some()).await;
            info.broker_version = find_publish(&b, "$SYS/broker/version");
        }
        let _ = conn.send(&DISCONNECT).await;
    }
    conn.close().await;
    if rc != 0 && ctx.policy.credentials.enabled {
        super::creds::mqtt(ctx, port).await;
    }
    Probe::found(service_from(info))
}

pub fn service_from(info: MqttInfo) -> Service {
    let mut s = Service::named("mqtt", DetectionMethod::Probed);
    if let Some(v) = info.broker_version.as_deref().and_then(|v| v.strip_prefix("mosquitto version ")) {
        s.product = Some("Eclipse Mosquitto".into());
        s.version = Some(v.trim().to_owned());
        s.cpe = Some(cpe::app("eclipse", "mosquitto", Some(v.trim())));
    }
    s.extra.insert("anonymous".into(), info.anonymous_allowed.to_string());
    s.detail = Some(ServiceDetail::Mqtt(info));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets() {
        let c = connect_packet("mamori-scan", None);
        assert_eq!(c[0], 0x10);
        assert_eq!(usize::from(c[1]), c.len() - 2);
        assert_eq!(&c[2..8], b"\x00\x04MQTT");
        assert_eq!(c[9], 0x02);
        let c = connect_packet("x", Some(("admin", "admin")));
        assert_eq!(c[9], 0xc2);
        assert_eq!(remaining_length(321), vec![0xc1, 0x02]);
        assert_eq!(parse_connack(&[0x20, 2, 0, 5]), Some(5));
        assert_eq!(parse_connack(&[0x20, 3, 0, 0]), None);
        assert_eq!(parse_connack(b"HTTP"), None);
        let mut p = vec![0x90, 3, 0, 1, 0];
        let topic = "$SYS/broker/version";
        let payload = b"mosquitto version 2.0.11";
        p.push(0x31);
        p.push((2 + topic.len() + payload.len()) as u8);
        p.extend(string(topic));
        p.extend_from_slice(payload);
        assert_eq!(find_publish(&p, topic).as_deref(), Some("mosquitto version 2.0.11"));
        assert!(find_publish(&p[..p.len() - 3], topic).is_none());
        assert!(find_publish(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x7f], topic).is_none());
        let s = service_from(MqttInfo {
            anonymous_return_code: 0,
            anonymous_allowed: true,
            broker_version: Some("mosquitto version 2.0.11".into()),
        });
        assert_eq!(s.cpe.as_deref(), Some("cpe:2.3:a:eclipse:mosquitto:2.0.11:*:*:*:*:*:*:*"));
    }
}
