//! HTTP/1.1 (RFC 9112) over plain TCP or TLS: status, `Server`, `<title>`, known admin panels;
//! FHIR (`GET [base]/metadata` → CapabilityStatement: software, fhirVersion, declared security);
//! Orthanc's REST API (`GET /system` → Name/Version, and whether it answers without
//! authentication); HTTP basic default credentials (opt-in, see [`super::creds`]).
//! Only GET requests, never a redirect followed, bodies capped.

use super::{Conn, Ctx, Probe};
use crate::cpe;
use crate::model::{DetectionMethod, Service, ServiceDetail};
use serde::{Deserialize, Serialize};

const MAX_BODY: usize = 128 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpInfo {
    pub status: u16,
    pub server: Option<String>,
    pub title: Option<String>,
    pub powered_by: Option<String>,
    pub www_authenticate: Option<String>,
    pub location: Option<String>,
    /// A recognised device or application admin page.
    pub admin_panel: Option<String>,
    pub fhir: Option<FhirInfo>,
    pub orthanc: Option<OrthancInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FhirInfo {
    /// The base path where `metadata` answered (`/`, `/fhir/`, `/4_0_1/`).
    pub base: String,
    pub software_name: Option<String>,
    pub software_version: Option<String>,
    pub fhir_version: Option<String>,
    pub implementation: Option<String>,
    /// `rest[].security` is present.
    pub security_declared: bool,
    /// `rest[].security.service[].coding[].code` (e.g. `SMART-on-FHIR`, `OAuth`).
    pub security_services: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrthancInfo {
    pub name: Option<String>,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub dicom_aet: Option<String>,
    pub dicom_port: Option<u16>,
    /// `/system` answered 200 without credentials.
    pub open_without_auth: bool,
}

/// A parsed HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub fn request(host: &str, path: &str, basic: Option<(&str, &str)>) -> Vec<u8> {
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mamori-scan\r\nAccept: */*\r\nConnection: close\r\n"
    );
    if let Some((u, p)) = basic {
        r.push_str(&format!("Authorization: Basic {}\r\n", base64(format!("{u}:{p}").as_bytes())));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

pub fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn header_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// True when the response is complete by Content-Length or chunked terminator.
pub fn response_complete(b: &[u8]) -> bool {
    let Some(he) = header_end(b) else { return false };
    let head = String::from_utf8_lossy(&b[..he]).to_ascii_lowercase();
    if let Some(cl) =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok())
    {
        return b.len() >= he.saturating_add(cl);
    }
    if head.contains("transfer-encoding: chunked") {
        return b[he..].windows(5).any(|w| w == b"0\r\n\r\n");
    }
    head.starts_with("http/1.1 204") || head.starts_with("http/1.1 304")
}

pub fn parse_response(b: &[u8]) -> Option<Response> {
    if !b.starts_with(b"HTTP/") {
        return None;
    }
    let he = header_end(b).unwrap_or(b.len());
    let head = String::from_utf8_lossy(&b[..he]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split_whitespace().nth(1)?.parse::<u16>().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .take(100)
        .collect();
    let raw = b.get(he..).unwrap_or(&[]);
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked { dechunk(raw) } else { raw.to_vec() };
    Some(Response { status, headers, body })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size else { break };
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = start.saturating_add(size).min(b.len());
        out.extend_from_slice(&b[start..end]);
        b = b.get(end + 2..).unwrap_or(&[]);
    }
    out
}

/// The text of the first `<title>`, whitespace collapsed, at most 200 characters.
pub fn title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_BODY)]);
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let t: String = text.get(start..end)?.split_whitespace().collect::<Vec<_>>().join(" ");
    let t =
        t.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'");
    let t: String = t.chars().take(200).collect();
    (!t.is_empty()).then_some(t)
}

/// Admin pages of devices and applications often found in clinics, matched on title, `Server`
/// and `WWW-Authenticate` realm (case-insensitive). (needle, panel name)
const ADMIN_PANELS: &[(&str, &str)] = &[
    ("routeros", "MikroTik RouterOS"),
    ("yamaha rt", "YAMAHA router"),
    ("yamaha nvr", "YAMAHA router"),
    ("airstation", "BUFFALO AirStation"),
    ("terastation", "BUFFALO TeraStation NAS"),
    ("linkstation", "BUFFALO LinkStation NAS"),
    ("aterm", "NEC Aterm router"),
    ("synology", "Synology DiskStation"),
    ("diskstation", "Synology DiskStation"),
    ("qnap", "QNAP NAS"),
    ("fortigate", "Fortinet FortiGate"),
    ("sonicwall", "SonicWall"),
    ("globalprotect", "Palo Alto GlobalProtect"),
    ("ilo", "HPE iLO"),
    ("idrac", "Dell iDRAC"),
    ("web image monitor", "RICOH printer (Web Image Monitor)"),
    ("remote ui", "Canon printer (Remote UI)"),
    ("command center", "KYOCERA printer (Command Center)"),
    ("laserjet", "HP LaserJet printer"),
    ("brother", "Brother printer"),
    ("epson", "EPSON printer"),
    ("xerox", "Xerox printer"),
    ("network camera", "IP camera"),
    ("hikvision", "Hikvision camera"),
    ("webmin", "Webmin"),
    ("phpmyadmin", "phpMyAdmin"),
    ("apache tomcat", "Apache Tomcat"),
    ("jenkins", "Jenkins"),
    ("grafana", "Grafana"),
    ("zabbix", "Zabbix"),
    ("proxmox", "Proxmox VE"),
    ("vmware esxi", "VMware ESXi"),
    ("orthanc explorer", "Orthanc Explorer"),
    ("orthanc secure access", "Orthanc"),
    ("ohif", "OHIF Viewer"),
];

pub fn admin_panel(title: Option<&str>, server: Option<&str>, realm: Option<&str>) -> Option<&'static str> {
    let hay =
        format!("{} | {} | {}", title.unwrap_or(""), server.unwrap_or(""), realm.unwrap_or("")).to_ascii_lowercase();
    ADMIN_PANELS
        .iter()
        .find(|(n, _)| {
            // short needles must match a whole word
            if n.len() <= 4 {
                hay.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == *n)
            } else {
                hay.contains(n)
            }
        })
        .map(|(_, p)| *p)
}

/// Product, version and CPE from a `Server` header.
pub fn identify_server(server: &str) -> Option<(String, Option<String>, Option<String>)> {
    let first = server.split_whitespace().next()?;
    let (name, ver) = match first.split_once('/') {
        Some((n, v)) => (n, Some(v.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.'))),
        None => (first, None),
    };
    let ver = ver.filter(|v| !v.is_empty()).map(str::to_owned);
    let (product, vendor, prod) = match name.to_ascii_lowercase().as_str() {
        "nginx" => ("nginx", "f5", "nginx"),
        "apache" => ("Apache httpd", "apache", "http_server"),
        "microsoft-iis" => ("Microsoft IIS httpd", "microsoft", "internet_information_services"),
        "lighttpd" => ("lighttpd", "lighttpd", "lighttpd"),
        "jetty" => ("Jetty", "eclipse", "jetty"),
        "apache-coyote" => ("Apache Tomcat/Coyote", "apache", "tomcat"),
        "goahead-webs" | "goahead" => ("GoAhead WebServer", "embedthis", "goahead"),
        "boa" => ("Boa HTTPd", "boa", "boa"),
        "mini_httpd" => ("mini_httpd", "acme", "mini_httpd"),
        "thttpd" => ("thttpd", "acme", "thttpd"),
        "rompager" | "allegro-software-rompager" => ("Allegro RomPager", "allegrosoft", "rompager"),
        "openresty" => ("OpenResty", "openresty", "openresty"),
        "caddy" => ("Caddy", "caddyserver", "caddy"),
        "kestrel" => ("Kestrel", "microsoft", "asp.net_core"),
        _ => return Some((name.to_owned(), ver, None)),
    };
    let cpe = Some(cpe::app(vendor, prod, ver.as_deref()));
    Some((product.to_owned(), ver, cpe))
}

/// FHIR CapabilityStatement (JSON) → facts. `None` if the body is not one.
pub fn parse_capability_statement(body: &[u8], base: &str) -> Option<FhirInfo> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if v.get("resourceType")?.as_str()? != "CapabilityStatement" {
        return None;
    }
    let s = |p: &serde_json::Value| p.as_str().map(str::to_owned);
    let mut info = FhirInfo {
        base: base.to_owned(),
        software_name: v.pointer("/software/name").and_then(s),
        software_version: v.pointer("/software/version").and_then(s),
        fhir_version: v.get("fhirVersion").and_then(s),
        implementation: v.pointer("/implementation/description").and_then(s),
        ..Default::default()
    };
    for rest in v.get("rest").and_then(|r| r.as_array()).into_iter().flatten() {
        if let Some(sec) = rest.get("security") {
            info.security_declared = true;
            for svc in sec.get("service").and_then(|x| x.as_array()).into_iter().flatten() {
                for c in svc.get("coding").and_then(|x| x.as_array()).into_iter().flatten() {
                    if let Some(code) = c.get("code").and_then(|x| x.as_str()) {
                        info.security_services.push(code.to_owned());
                    }
                }
                if let Some(t) = svc.get("text").and_then(|x| x.as_str()) {
                    info.security_services.push(t.to_owned());
                }
            }
        }
    }
    Some(info)
}

/// Orthanc `/system` JSON → facts (`open_without_auth` is set by the caller).
pub fn parse_orthanc_system(body: &[u8]) -> Option<OrthancInfo> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let version = v.get("Version")?.as_str()?.to_owned();
    // Orthanc's /system always has DicomAet and ApiVersion alongside Version.
    v.get("DicomAet")?;
    Some(OrthancInfo {
        name: v.get("Name").and_then(|x| x.as_str()).map(str::to_owned),
        version: Some(version),
        api_version: v.get("ApiVersion").map(|x| x.to_string()),
        dicom_aet: v.get("DicomAet").and_then(|x| x.as_str()).map(str::to_owned),
        dicom_port: v.get("DicomPort").and_then(|x| x.as_u64()).and_then(|p| u16::try_from(p).ok()),
        open_without_auth: false,
    })
}

fn looks_like_fhir(r: &Response) -> bool {
    let ct = r.header("content-type").unwrap_or("").to_ascii_lowercase();
    ct.contains("fhir") || {
        let body = String::from_utf8_lossy(&r.body[..r.body.len().min(4096)]);
        body.contains("\"resourceType\"")
    }
}

/// One GET over a fresh connection (plain or TLS).
pub(crate) async fn fetch(
    ctx: &Ctx<'_>,
    port: u16,
    tls: bool,
    path: &str,
    basic: Option<(&str, &str)>,
) -> Option<Response> {
    let conn = if tls {
        ctx.connect_tls(port, super::tls::Modern::Both, true).await.ok()?.0
    } else {
        ctx.connect(port).await.ok()?
    };
    exchange(ctx, port, conn, path, basic).await
}

async fn exchange(
    ctx: &Ctx<'_>,
    port: u16,
    mut conn: Conn,
    path: &str,
    basic: Option<(&str, &str)>,
) -> Option<Response> {
    let host = match ctx.host {
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
        a => format!("{a}:{port}"),
    };
    conn.send(&request(&host, path, basic)).await.ok()?;
    let (b, _) = conn.read_until(MAX_BODY, response_complete).await;
    conn.close().await;
    parse_response(&b)
}

/// Plain HTTP probe on a silent port.
pub(crate) async fn probe_plain(ctx: &Ctx<'_>, port: u16) -> Probe {
    let mut conn = match ctx.connect(port).await {
        Ok(c) => c,
        Err(e) => return Probe::from_connect(e),
    };
    let host = format!("{}:{port}", ctx.host);
    if conn.send(&request(&host, "/", None)).await.is_err() {
        return Probe::NotThis;
    }
    let (b, _) = conn.read_until(MAX_BODY, response_complete).await;
    conn.close().await;
    if b.starts_with(b"HTTP/") {
        let first = parse_response(&b);
        // nginx answers plain HTTP on a TLS port with 400 "The plain HTTP request was sent to HTTPS port".
        if first.as_ref().is_some_and(|r| r.status == 400 && String::from_utf8_lossy(&r.body).contains("HTTPS port")) {
            return Probe::NotThis;
        }
        return match analyse(ctx, port, false, first).await {
            Some(s) => Probe::found(s),
            None => Probe::NotThis,
        };
    }
    Probe::NotThis
}

/// After a TLS handshake: is it HTTPS? Uses `first` for the initial `GET /`.
pub(crate) async fn identify_over(ctx: &Ctx<'_>, port: u16, first: Option<Conn>, tls: bool) -> Option<Service> {
    let resp = match first {
        Some(conn) => exchange(ctx, port, conn, "/", None).await,
        None => fetch(ctx, port, tls, "/", None).await,
    };
    analyse(ctx, port, tls, resp).await
}

async fn analyse(ctx: &Ctx<'_>, port: u16, tls: bool, first: Option<Response>) -> Option<Service> {
    let r = first?;
    let mut info = HttpInfo {
        status: r.status,
        server: r.header("server").map(str::to_owned),
        title: title(&r.body),
        powered_by: r.header("x-powered-by").map(str::to_owned),
        www_authenticate: r.header("www-authenticate").map(str::to_owned),
        location: r.header("location").map(str::to_owned),
        ..Default::default()
    };
    info.admin_panel =
        admin_panel(info.title.as_deref(), info.server.as_deref(), info.www_authenticate.as_deref()).map(str::to_owned);
    let mut s = Service::named(if tls { "https" } else { "http" }, DetectionMethod::Probed);
    if let Some((p, v, c)) = info.server.as_deref().and_then(identify_server) {
        s.product = Some(p);
        s.version = v;
        s.cpe = c;
    }
    // Orthanc: redirect to its explorer, its realm, or the usual port.
    let orthanc_hint =
        info.location.as_deref().is_some_and(|l| l.contains("app/explorer.html") || l.contains("/ui/app"))
            || info.www_authenticate.as_deref().is_some_and(|w| w.contains("Orthanc"))
            || port == 8042;
    if orthanc_hint && let Some(sys) = fetch(ctx, port, tls, "/system", None).await {
        let mut orthanc = if sys.status == 200 {
            parse_orthanc_system(&sys.body).map(|mut o| {
                o.open_without_auth = true;
                o
            })
        } else if sys.status == 401 && sys.header("www-authenticate").is_some_and(|w| w.contains("Orthanc")) {
            Some(OrthancInfo::default())
        } else {
            None
        };
        if let Some(o) = orthanc.as_mut() {
            if !o.open_without_auth
                && ctx.policy.credentials.enabled
                && let Some(found) = super::creds::orthanc_default(ctx, port, tls).await
            {
                *o = found;
            }
            s.product = Some("Orthanc".into());
            s.version = o.version.clone();
            s.cpe = Some(cpe::app("orthanc-server", "orthanc", o.version.as_deref()));
            s.name = if tls { "https".into() } else { "orthanc-rest".into() };
            if let Some(a) = &o.dicom_aet {
                s.extra.insert("dicom_aet".into(), a.clone());
            }
        }
        info.orthanc = orthanc;
    }
    // FHIR: try /metadata; if the server speaks FHIR but the base is elsewhere, a few usual bases.
    if info.orthanc.is_none() {
        let mut fhir_hint = looks_like_fhir(&r);
        if let Some(m) = fetch(ctx, port, tls, "/metadata", None).await {
            if let Some(f) = parse_capability_statement(&m.body, "/") {
                info.fhir = Some(f);
            } else {
                fhir_hint |= looks_like_fhir(&m);
            }
        }
        if info.fhir.is_none() && fhir_hint {
            for base in ["/fhir/", "/4_0_1/", "/baseR4/", "/fhir/R4/", "/r4/"] {
                if let Some(m) = fetch(ctx, port, tls, &format!("{base}metadata"), None).await
                    && let Some(f) = parse_capability_statement(&m.body, base)
                {
                    info.fhir = Some(f);
                    break;
                }
            }
        }
        if let Some(f) = &info.fhir {
            s.name = if tls { "fhir-https".into() } else { "fhir".into() };
            if let Some(n) = &f.software_name {
                s.product = Some(n.clone());
                s.version = f.software_version.clone();
                s.cpe = fhir_cpe(n, f.software_version.as_deref());
            }
            if let Some(v) = &f.fhir_version {
                s.extra.insert("fhir_version".into(), v.clone());
            }
            s.extra.insert("fhir_base".into(), f.base.clone());
            s.extra.insert("fhir_security_declared".into(), f.security_declared.to_string());
        }
    }
    if r.status == 401
        && info.orthanc.is_none()
        && ctx.policy.credentials.enabled
        && let Some(w) = &info.www_authenticate
        && w.to_ascii_lowercase().starts_with("basic")
    {
        super::creds::http_basic(ctx, port, tls).await;
    }
    if let Some(t) = &info.title {
        s.extra.insert("title".into(), t.clone());
    }
    if let Some(p) = &info.admin_panel {
        s.extra.insert("admin_panel".into(), p.clone());
    }
    if let Some(sv) = &info.server {
        s.extra.insert("server".into(), sv.clone());
    }
    s.detail = Some(ServiceDetail::Http(info));
    Some(s)
}

fn fhir_cpe(name: &str, version: Option<&str>) -> Option<String> {
    let n = name.to_ascii_lowercase();
    if n.contains("hapi") {
        Some(cpe::app("hapifhir", "hapi_fhir", version))
    } else if n.contains("firely") || n.contains("vonk") {
        Some(cpe::app("firely", "firely_server", version))
    } else if n.contains("ibm fhir") || n.contains("linuxforhealth") {
        Some(cpe::app("ibm", "fhir_server", version))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_responses() {
        let raw = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 40\r\n\r\n<html><title> Web Image\n Monitor</title>";
        assert!(response_complete(raw));
        let r = parse_response(raw).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("SERVER"), Some("nginx/1.22.1"));
        assert_eq!(title(&r.body).as_deref(), Some("Web Image Monitor"));
        assert_eq!(admin_panel(title(&r.body).as_deref(), None, None), Some("RICOH printer (Web Image Monitor)"));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert!(response_complete(chunked));
        assert_eq!(parse_response(chunked).unwrap().body, b"hello world");
        assert!(!response_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
        assert!(parse_response(b"SSH-2.0-x").is_none());
        assert!(parse_response(b"HTTP/1.1 abc\r\n\r\n").is_none());
        let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello";
        assert_eq!(parse_response(bad_chunk).unwrap().body, b"");
        let huge_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab";
        assert_eq!(parse_response(huge_chunk).unwrap().body, b"ab");
        assert!(title(b"<title></title>").is_none());
        assert!(title(b"<title>unterminated").is_none());
        assert_eq!(admin_panel(Some("Silo"), None, None), None, "short needles match words only");
        assert_eq!(admin_panel(Some("HPE iLO 5"), None, None), Some("HPE iLO"));
    }

    #[test]
    fn servers_and_base64() {
        let (p, v, c) = identify_server("nginx/1.22.1").unwrap();
        assert_eq!((p.as_str(), v.as_deref()), ("nginx", Some("1.22.1")));
        assert_eq!(c.as_deref(), Some("cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*"));
        let (p, v, _) = identify_server("Apache/2.4.57 (Debian)").unwrap();
        assert_eq!((p.as_str(), v.as_deref()), ("Apache httpd", Some("2.4.57")));
        assert_eq!(identify_server("Weird").unwrap().0, "Weird");
        assert!(identify_server("").is_none());
        assert_eq!(base64(b"orthanc:orthanc"), "b3J0aGFuYzpvcnRoYW5j");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn fhir_and_orthanc_json() {
        let cs = br#"{"resourceType":"CapabilityStatement","software":{"name":"HAPI FHIR Server","version":"6.8.0"},
            "fhirVersion":"4.0.1","rest":[{"mode":"server","security":{"cors":true,"service":[{"coding":[{"code":"SMART-on-FHIR"}]}]}}]}"#;
        let f = parse_capability_statement(cs, "/fhir/").unwrap();
        assert_eq!(f.software_name.as_deref(), Some("HAPI FHIR Server"));
        assert!(f.security_declared);
        assert_eq!(f.security_services, vec!["SMART-on-FHIR"]);
        assert_eq!(
            fhir_cpe("HAPI FHIR Server", Some("6.8.0")).unwrap(),
            "cpe:2.3:a:hapifhir:hapi_fhir:6.8.0:*:*:*:*:*:*:*"
        );
        assert!(parse_capability_statement(br#"{"resourceType":"OperationOutcome"}"#, "/").is_none());
        assert!(parse_capability_statement(b"{not json", "/").is_none());
        let sys = br#"{"ApiVersion":18,"DicomAet":"ORTHANC","DicomPort":4242,"Name":"MAMORI-TEST","Version":"1.10.1"}"#;
        let o = parse_orthanc_system(sys).unwrap();
        assert_eq!(
            (o.name.as_deref(), o.version.as_deref(), o.dicom_aet.as_deref()),
            (Some("MAMORI-TEST"), Some("1.10.1"), Some("ORTHANC"))
        );
        assert!(parse_orthanc_system(br#"{"Version":"1"}"#).is_none());
    }
}
