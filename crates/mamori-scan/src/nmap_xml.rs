//! nmap's XML output format: export a [`ScanReport`] so tools that read nmap XML (DefectDojo,
//! python-libnmap, …) can read our scans, and import nmap XML into the same [`Host`]/[`Port`]
//! structures. The importer never resolves entities: a document that declares any in a DTD is
//! refused (XXE), and only the five predefined entities and character references are decoded.

use crate::ScanError;
use crate::cpe;
use crate::model::{DetectionMethod, Host, Port, PortState, Proto, ScanReport, Service};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use std::fmt::Write as _;
use std::net::IpAddr;
use time::OffsetDateTime;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#xa;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// Writes the report as nmap XML (xmloutputversion 1.05).
pub fn export(report: &ScanReport) -> String {
    let start = report.started_at.unix_timestamp();
    let end = report.finished_at.unix_timestamp();
    let mut tcp: Vec<u16> = Vec::new();
    let mut udp: Vec<u16> = Vec::new();
    for h in &report.hosts {
        for p in &h.ports {
            match p.proto {
                Proto::Tcp => tcp.push(p.port),
                Proto::Udp => udp.push(p.port),
            }
        }
    }
    tcp.sort_unstable();
    tcp.dedup();
    udp.sort_unstable();
    udp.dedup();
    let list = |v: &[u16]| v.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let mut x = String::new();
    let _ = writeln!(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>");
    let _ = writeln!(
        x,
        "<nmaprun scanner=\"mamori\" args=\"mamori scan --profile {}\" start=\"{start}\" startstr=\"{}\" version=\"{}\" xmloutputversion=\"1.05\">",
        esc(&report.profile),
        esc(&rfc3339(report.started_at)),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        x,
        "<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"{}\" services=\"{}\"/>",
        tcp.len(),
        list(&tcp)
    );
    if !udp.is_empty() {
        let _ = writeln!(
            x,
            "<scaninfo type=\"udp\" protocol=\"udp\" numservices=\"{}\" services=\"{}\"/>",
            udp.len(),
            list(&udp)
        );
    }
    for h in &report.hosts {
        let _ = writeln!(x, "<host starttime=\"{start}\" endtime=\"{end}\">");
        let reason = h.up_reason.as_deref().unwrap_or(if h.up { "user-set" } else { "no-response" });
        let reason = if reason.starts_with("conn-accepted") {
            "syn-ack"
        } else if reason.starts_with("conn-refused") {
            "conn-refused"
        } else {
            reason
        };
        let _ = writeln!(
            x,
            "<status state=\"{}\" reason=\"{}\" reason_ttl=\"0\"/>",
            if h.up { "up" } else { "down" },
            esc(reason)
        );
        let _ = writeln!(
            x,
            "<address addr=\"{}\" addrtype=\"{}\"/>",
            h.addr,
            if h.addr.is_ipv4() { "ipv4" } else { "ipv6" }
        );
        if let Some(m) = &h.mac {
            let _ = writeln!(x, "<address addr=\"{}\" addrtype=\"mac\"/>", esc(&m.to_ascii_uppercase()));
        }
        let _ = writeln!(x, "<hostnames>\n</hostnames>\n<ports>");
        if h.closed_ports > 0 {
            let _ = writeln!(x, "<extraports state=\"closed\" count=\"{}\"/>", h.closed_ports);
        }
        if h.filtered_ports > 0 {
            let _ = writeln!(x, "<extraports state=\"filtered\" count=\"{}\"/>", h.filtered_ports);
        }
        for p in &h.ports {
            let reason = match (p.state, p.proto) {
                (PortState::Open, Proto::Tcp) => "syn-ack",
                (PortState::Open, Proto::Udp) => "udp-response",
                (PortState::Closed, _) => "conn-refused",
                _ => "no-response",
            };
            let _ = write!(
                x,
                "<port protocol=\"{}\" portid=\"{}\"><state state=\"{}\" reason=\"{reason}\" reason_ttl=\"0\"/>",
                p.proto.as_str(),
                p.port,
                p.state.as_str()
            );
            if let Some(s) = &p.service {
                let _ = write!(x, "<service name=\"{}\"", esc(&s.name));
                if let Some(v) = &s.product {
                    let _ = write!(x, " product=\"{}\"", esc(v));
                }
                if let Some(v) = &s.version {
                    let _ = write!(x, " version=\"{}\"", esc(v));
                }
                let extra: Vec<String> = s
                    .extra
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "title" | "server"))
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                if !extra.is_empty() {
                    let _ = write!(x, " extrainfo=\"{}\"", esc(&extra.join("; ")));
                }
                if s.tls.is_some() {
                    let _ = write!(x, " tunnel=\"ssl\"");
                }
                let (method, conf) = match s.method {
                    DetectionMethod::PortTable => ("table", 3),
                    _ => ("probed", 10),
                };
                let _ = write!(x, " method=\"{method}\" conf=\"{conf}\">");
                if let Some(uri) = s.cpe.as_deref().and_then(cpe::to_uri) {
                    let _ = write!(x, "<cpe>{}</cpe>", esc(&uri));
                }
                x.push_str("</service>");
                if let Some(t) = s.extra.get("title") {
                    let _ = write!(
                        x,
                        "<script id=\"http-title\" output=\"{}\"><elem key=\"title\">{}</elem></script>",
                        esc(t),
                        esc(t)
                    );
                }
                if let Some(c) = s.tls.as_ref().and_then(|t| t.cert.as_ref()) {
                    let out = format!(
                        "Subject: {}\nIssuer: {}\nNot valid after:  {}",
                        c.subject,
                        c.issuer,
                        rfc3339(c.not_after)
                    );
                    let _ = write!(x, "<script id=\"ssl-cert\" output=\"{}\"/>", esc(&out));
                }
            }
            x.push_str("</port>\n");
        }
        let _ = writeln!(x, "</ports>\n<times srtt=\"0\" rttvar=\"0\" to=\"0\"/>\n</host>");
    }
    let up = report.hosts.iter().filter(|h| h.up).count();
    let total = report.hosts.len();
    let _ = writeln!(
        x,
        "<runstats><finished time=\"{end}\" timestr=\"{}\" elapsed=\"{}\" summary=\"{total} IP addresses ({up} hosts up) scanned\" exit=\"{}\"/><hosts up=\"{up}\" down=\"{}\" total=\"{total}\"/>\n</runstats>\n</nmaprun>",
        esc(&rfc3339(report.finished_at)),
        end - start,
        if report.cancelled { "error" } else { "success" },
        total - up
    );
    x
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, ScanError> {
    for a in e.attributes() {
        let a = a.map_err(|err| ScanError::NmapXml { position: 0, reason: err.to_string() })?;
        if a.key.as_ref() == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| ScanError::NmapXml { position: 0, reason: err.to_string() })?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

#[derive(Default)]
struct Importer {
    hosts: Vec<Host>,
    saw_root: bool,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    host: Option<Host>,
    port: Option<Port>,
    in_cpe: bool,
    cpe_text: String,
    in_hostscript: bool,
}

impl Importer {
    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), ScanError> {
        match e.local_name().as_ref() {
            "nmaprun" => {
                self.saw_root = true;
                self.started_at = attr(e, "start")?.and_then(|s| s.parse::<i64>().ok());
            }
            "finished" => self.finished_at = attr(e, "time")?.and_then(|s| s.parse::<i64>().ok()),
            "host" if self.saw_root => self.host = Some(Host::new(IpAddr::from([0, 0, 0, 0]))),
            "hostscript" => self.in_hostscript = true,
            "status" => {
                if let Some(h) = self.host.as_mut() {
                    h.up = attr(e, "state")?.as_deref() == Some("up");
                    h.up_reason = attr(e, "reason")?;
                }
            }
            "address" => {
                if let Some(h) = self.host.as_mut() {
                    let a = attr(e, "addr")?.unwrap_or_default();
                    match attr(e, "addrtype")?.as_deref() {
                        Some("ipv4") | Some("ipv6") => {
                            if let Ok(ip) = a.parse() {
                                h.addr = ip;
                            }
                        }
                        Some("mac") => h.mac = Some(a.to_ascii_lowercase()),
                        _ => {}
                    }
                }
            }
            "extraports" => {
                if let Some(h) = self.host.as_mut() {
                    let n = attr(e, "count")?.and_then(|c| c.parse::<u32>().ok()).unwrap_or(0);
                    match attr(e, "state")?.as_deref() {
                        Some("closed") => h.closed_ports = h.closed_ports.saturating_add(n),
                        Some(_) => h.filtered_ports = h.filtered_ports.saturating_add(n),
                        None => {}
                    }
                }
            }
            "port" if self.host.is_some() => {
                let proto = match attr(e, "protocol")?.as_deref() {
                    Some("udp") => Proto::Udp,
                    _ => Proto::Tcp,
                };
                let n = attr(e, "portid")?.and_then(|p| p.parse::<u16>().ok()).unwrap_or(0);
                self.port = Some(Port { port: n, proto, state: PortState::Filtered, service: None, rtt_us: None });
            }
            "state" => {
                if let Some(p) = self.port.as_mut()
                    && let Some(st) = attr(e, "state")?.as_deref().and_then(PortState::parse)
                {
                    p.state = st;
                }
            }
            "service" => {
                if let Some(p) = self.port.as_mut() {
                    let name = attr(e, "name")?.unwrap_or_else(|| "unknown".into());
                    let mut s = Service::named(&name, DetectionMethod::Imported);
                    s.product = attr(e, "product")?;
                    s.version = attr(e, "version")?;
                    for (a, k) in [("extrainfo", "extrainfo"), ("method", "nmap_method"), ("tunnel", "tunnel")] {
                        if let Some(v) = attr(e, a)? {
                            s.extra.insert(k.into(), v);
                        }
                    }
                    p.service = Some(s);
                }
            }
            "cpe" if self.port.is_some() => {
                self.in_cpe = true;
                self.cpe_text.clear();
            }
            "script" if !self.in_hostscript => {
                if let Some(p) = self.port.as_mut()
                    && let (Some(id), Some(out)) = (attr(e, "id")?, attr(e, "output")?)
                    && let Some(s) = p.service.as_mut()
                {
                    let out: String = out.trim().chars().take(500).collect();
                    s.extra.insert(format!("script:{id}"), out);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &str) {
        match name {
            "cpe" if self.in_cpe => {
                self.in_cpe = false;
                if let Some(s) = self.port.as_mut().and_then(|p| p.service.as_mut())
                    && let Some(c) = cpe::from_uri(self.cpe_text.trim())
                {
                    // Keep the first application CPE (nmap lists the OS CPE after it).
                    let replace = match &s.cpe {
                        None => true,
                        Some(old) => old.starts_with("cpe:2.3:o") && c.starts_with("cpe:2.3:a"),
                    };
                    if replace {
                        s.cpe = Some(c);
                    }
                }
            }
            "port" => {
                if let (Some(h), Some(p)) = (self.host.as_mut(), self.port.take())
                    && p.port != 0
                {
                    h.ports.push(p);
                }
            }
            "hostscript" => self.in_hostscript = false,
            "host" => {
                if let Some(mut h) = self.host.take()
                    && !h.addr.is_unspecified()
                {
                    h.ports.sort_by_key(|p| (p.proto, p.port));
                    self.hosts.push(h);
                }
            }
            _ => {}
        }
    }
}

/// Imports nmap XML (any nmap version writing xmloutputversion 1.0x). Hosts without an IP
/// address are skipped. Limited to 100 MB of input.
pub fn import(xml: &str) -> Result<ScanReport, ScanError> {
    if xml.len() > 100 * 1024 * 1024 {
        return Err(ScanError::NmapXml { position: 0, reason: "file larger than 100 MB".into() });
    }
    let mut r = Reader::from_str(xml);
    r.config_mut().trim_text(true);
    let mut st = Importer::default();
    loop {
        let pos = r.buffer_position();
        let at = |e: ScanError| match e {
            ScanError::NmapXml { reason, .. } => ScanError::NmapXml { position: pos, reason },
            other => other,
        };
        let ev = r.read_event().map_err(|e| ScanError::NmapXml { position: pos, reason: e.to_string() })?;
        match ev {
            Event::DocType(d) => {
                let t = d.as_ref().to_ascii_uppercase();
                if t.contains("ENTITY") || t.contains("SYSTEM") || t.contains("PUBLIC") || t.contains('[') {
                    return Err(ScanError::NmapXmlEntities);
                }
            }
            Event::GeneralRef(g) => {
                // Only character references and the five predefined entities, never others.
                let ch = if g.is_char_ref() {
                    g.resolve_char_ref().ok().flatten()
                } else {
                    match g.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => return Err(ScanError::NmapXmlEntities),
                    }
                };
                if let (true, Some(c)) = (st.in_cpe, ch) {
                    st.cpe_text.push(c);
                }
            }
            Event::Start(e) => st.start(&e).map_err(at)?,
            Event::Empty(e) => {
                st.start(&e).map_err(at)?;
                st.end(e.local_name().as_ref());
            }
            Event::Text(t) if st.in_cpe => {
                st.cpe_text.push_str(&t.xml_content(XmlVersion::Implicit1_0));
            }
            Event::End(e) => st.end(e.local_name().as_ref()),
            Event::Eof => break,
            _ => {}
        }
    }
    if !st.saw_root {
        return Err(ScanError::NmapXml { position: 0, reason: "not an nmap XML file (no <nmaprun>)".into() });
    }
    let ts = |t: Option<i64>| {
        t.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    let started = ts(st.started_at);
    Ok(ScanReport {
        profile: "imported".into(),
        started_at: started,
        finished_at: st.finished_at.map_or(started, |f| ts(Some(f))),
        cancelled: false,
        hosts: st.hosts,
        credential_attempts: Vec::new(),
        skipped: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_entities_and_garbage() {
        let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE external [\n<!ENTITY ee SYSTEM \"file:///etc/passwd\">\n]>\n<nmaprun>&ee;</nmaprun>";
        assert_eq!(import(xxe).unwrap_err().code(), "nmap-xml-entities");
        let undefined = "<nmaprun><host><address addr=\"10.0.0.1\" addrtype=\"ipv4\"/>&ee;</host></nmaprun>";
        assert_eq!(import(undefined).unwrap_err().code(), "nmap-xml-entities");
        assert_eq!(import("<root/>").unwrap_err().code(), "nmap-xml-malformed");
        assert_eq!(import("<nmaprun><host></nmaprun>").unwrap_err().code(), "nmap-xml-malformed");
        assert!(import("").is_err());
    }

    #[test]
    fn empty_elements_and_entities_in_values() {
        let x = "<nmaprun start=\"1700000000\"><host><status state=\"up\" reason=\"syn-ack\"/>\
                 <address addr=\"10.0.0.1\" addrtype=\"ipv4\"/><address addr=\"AA:BB:CC:DD:EE:FF\" addrtype=\"mac\"/>\
                 <ports><port protocol=\"tcp\" portid=\"80\"/>\
                 <port protocol=\"tcp\" portid=\"443\"><state state=\"open\"/><service name=\"http\" product=\"A &amp; B\" tunnel=\"ssl\">\
                 <cpe>cpe:/a:f5:nginx:1.22.1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service></port></ports></host></nmaprun>";
        let r = import(x).unwrap();
        let h = &r.hosts[0];
        assert_eq!(h.mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        assert_eq!(h.ports.len(), 2);
        let s = h.ports[1].service.as_ref().unwrap();
        assert_eq!(s.product.as_deref(), Some("A & B"));
        assert_eq!(s.cpe.as_deref(), Some("cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*"));
    }
}
