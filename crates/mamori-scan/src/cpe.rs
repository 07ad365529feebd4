//! CPE 2.3 names for identified software, for the vulnerability matcher. Pure.

/// `cpe:2.3:{part}:{vendor}:{product}:{version}:{update}:*:*:*:*:*:*`, each field lower-cased and
/// escaped as the CPE 2.3 formatted-string binding requires.
pub fn cpe23(part: char, vendor: &str, product: &str, version: Option<&str>, update: Option<&str>) -> String {
    let v = version.map(escape).unwrap_or_else(|| "*".into());
    let u = update.map(escape).unwrap_or_else(|| "*".into());
    format!("cpe:2.3:{part}:{}:{}:{v}:{u}:*:*:*:*:*:*", escape(vendor), escape(product))
}

/// An application CPE with a version (no update field).
pub fn app(vendor: &str, product: &str, version: Option<&str>) -> String {
    cpe23('a', vendor, product, version, None)
}

fn escape(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        return "*".into();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            ' ' => out.push('_'),
            'a'..='z' | '0'..='9' | '_' | '-' | '.' => out.push(c),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() => {}
            c => out.push(c),
        }
    }
    out
}

/// CPE 2.3 formatted string → the CPE 2.2 URI nmap writes (`cpe:/a:openbsd:openssh:9.2p1`).
pub fn to_uri(cpe23: &str) -> Option<String> {
    let rest = cpe23.strip_prefix("cpe:2.3:")?;
    let fields: Vec<String> = split_unescaped(rest);
    if fields.len() < 4 {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for (i, f) in fields.iter().take(5).enumerate() {
        let f = f.replace('\\', "");
        if f == "*" || f == "-" {
            if i < 4 {
                parts.push(String::new());
            }
            continue;
        }
        if i == 4 {
            // nmap folds the update into the version (9.2 + p1 → 9.2p1).
            if let Some(v) = parts.get_mut(3) {
                v.push_str(&f);
            }
            continue;
        }
        parts.push(f);
    }
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    Some(format!("cpe:/{}", parts.join(":")))
}

/// CPE 2.2 URI (as nmap writes it) → CPE 2.3 formatted string.
pub fn from_uri(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("cpe:/")?;
    let f: Vec<&str> = rest.split(':').collect();
    let part = f.first()?.chars().next()?;
    if !matches!(part, 'a' | 'o' | 'h') {
        return None;
    }
    let get = |i: usize| f.get(i).copied().filter(|s| !s.is_empty());
    Some(cpe23(part, get(1)?, get(2).unwrap_or("*"), get(3), get(4)))
}

fn split_unescaped(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut esc = false;
    for c in s.chars() {
        if esc {
            if let Some(l) = out.last_mut() {
                l.push(c)
            }
            esc = false;
        } else if c == '\\' {
            if let Some(l) = out.last_mut() {
                l.push(c)
            }
            esc = true;
        } else if c == ':' {
            out.push(String::new());
        } else {
            if let Some(l) = out.last_mut() {
                l.push(c)
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_converts() {
        let c = cpe23('a', "openbsd", "openssh", Some("9.2"), Some("p1"));
        assert_eq!(c, "cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*");
        assert_eq!(to_uri(&c).unwrap(), "cpe:/a:openbsd:openssh:9.2p1");
        assert_eq!(app("OFFIS", "DCMTK", Some("3.6.7")), "cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*");
        assert_eq!(app("x", "a b", Some("1:2")), "cpe:2.3:a:x:a_b:1\\:2:*:*:*:*:*:*:*");
        assert_eq!(from_uri("cpe:/a:openbsd:openssh:9.2p1").unwrap(), "cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*");
        assert_eq!(from_uri("cpe:/o:linux:linux_kernel").unwrap(), "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*");
        assert_eq!(to_uri("cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*").unwrap(), "cpe:/o:linux:linux_kernel");
        assert!(from_uri("cpe:/z:x").is_none());
        assert!(from_uri("garbage").is_none());
        assert!(to_uri("cpe:2.3:a").is_none());
    }
}
