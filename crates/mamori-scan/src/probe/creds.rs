//! Default credentials (opt-in with [`crate::CredentialPolicy`]): published vendor defaults
//! tried against HTTP basic auth, Orthanc's REST API, MQTT and SNMP communities. Every attempt
//! counts against the per-host cap and is returned in [`crate::ScanReport::credential_attempts`].
//!
//! To add a mechanism (SSH, Telnet, FTP…): add its list to [`defaults`] and a function here that,
//! for each pair, calls `ctx.reserve_attempt()`, tries once, and `ctx.record_attempt(..)`.

use super::Ctx;
use crate::model::{AttemptOutcome, Proto};

/// Published defaults per mechanism, most likely first.
pub fn defaults(mechanism: &str) -> &'static [(&'static str, &'static str)] {
    match mechanism {
        "orthanc-rest" => &[("orthanc", "orthanc")],
        "http-basic" => &[
            ("admin", "admin"),
            ("admin", "password"),
            ("admin", ""),
            ("admin", "1234"),
            ("root", "root"),
            ("user", "user"),
        ],
        "mqtt" => &[("admin", "admin"), ("admin", "password"), ("guest", "guest"), ("mqtt", "mqtt")],
        _ => &[],
    }
}

/// Orthanc's documented default account. Returns the `/system` facts when it works.
pub(crate) async fn orthanc_default(ctx: &Ctx<'_>, port: u16, tls: bool) -> Option<super::http::OrthancInfo> {
    for (u, p) in defaults("orthanc-rest") {
        if !ctx.reserve_attempt() {
            return None;
        }
        let r = super::http::fetch(ctx, port, tls, "/system", Some((u, p))).await;
        let outcome = match &r {
            Some(r) if r.status == 200 => AttemptOutcome::Accepted,
            Some(_) => AttemptOutcome::Rejected,
            None => AttemptOutcome::Error,
        };
        ctx.record_attempt(port, Proto::Tcp, "orthanc-rest", u, p, outcome);
        if outcome == AttemptOutcome::Accepted {
            return r.and_then(|r| super::http::parse_orthanc_system(&r.body));
        }
    }
    None
}

/// HTTP basic auth on `/`; stops at the first success or the cap.
pub(crate) async fn http_basic(ctx: &Ctx<'_>, port: u16, tls: bool) {
    for (u, p) in defaults("http-basic") {
        if !ctx.reserve_attempt() {
            return;
        }
        let r = super::http::fetch(ctx, port, tls, "/", Some((u, p))).await;
        let outcome = match &r {
            Some(r) if (200..400).contains(&r.status) => AttemptOutcome::Accepted,
            Some(_) => AttemptOutcome::Rejected,
            None => AttemptOutcome::Error,
        };
        ctx.record_attempt(port, Proto::Tcp, "http-basic", u, p, outcome);
        if outcome == AttemptOutcome::Accepted {
            return;
        }
    }
}

/// MQTT CONNECT with default user/password pairs.
pub(crate) async fn mqtt(ctx: &Ctx<'_>, port: u16) {
    for (u, p) in defaults("mqtt") {
        if !ctx.reserve_attempt() {
            return;
        }
        let outcome = match super::mqtt::connect_once(ctx, port, Some((u, p))).await {
            Ok(Some(0)) => AttemptOutcome::Accepted,
            Ok(Some(_)) => AttemptOutcome::Rejected,
            _ => AttemptOutcome::Error,
        };
        ctx.record_attempt(port, Proto::Tcp, "mqtt", u, p, outcome);
        if outcome == AttemptOutcome::Accepted {
            return;
        }
    }
}
