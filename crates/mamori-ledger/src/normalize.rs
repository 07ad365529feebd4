//! Turning messy cell contents into ledger values.
//!
//! Text is NFKC-normalised first (full-width digits, letters and punctuation become ASCII,
//! `㍻` becomes `平成`), then trimmed. Each parser accepts the forms Japanese clinics type and
//! rejects everything else with a problem that names the offending text: a guess would put
//! a wrong value in a ledger the checklist relies on. These functions must not look at
//! headers or the store.

use std::net::IpAddr;

use mamori_domain::ledger::{AssetKind, normalize_mac};
use time::{Date, Duration, Month};
use unicode_normalization::UnicodeNormalization;

use crate::read::Cell;

/// NFKC, then trimmed (NFKC already turns the ideographic space into an ASCII one).
pub fn text(s: &str) -> String {
    let n: String = s.nfkc().collect();
    n.trim().to_owned()
}

/// A cell as normalised text; `None` for empty cells and formula errors (report those from
/// [`crate::read::Sheet::errors`]). Whole numbers lose their `.0` (a serial number or phone
/// number typed into a number cell), dates become `YYYY-MM-DD`.
pub fn cell_text(cell: &Cell) -> Option<String> {
    let t = match cell {
        Cell::Empty | Cell::Error(_) => return None,
        Cell::Text(s) => text(s),
        Cell::Number(n) => number_text(*n),
        Cell::Bool(b) => b.to_string(),
        Cell::DateTime(serial) => match excel_serial(*serial) {
            Ok(d) => d.to_string(),
            Err(_) => number_text(*serial),
        },
    };
    (!t.is_empty()).then_some(t)
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// Why a cell is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateProblem {
    #[error("the cell is empty")]
    Empty,
    #[error("{0:?} is not a date")]
    NotADate(String),
    #[error("{0:?} is outside the range of Excel dates")]
    SerialOutOfRange(String),
    #[error("{text:?}: {era} has no such date")]
    OutsideEra { text: String, era: &'static str },
    #[error("{0:?} is not a day of the calendar")]
    NoSuchDay(String),
}

impl DateProblem {
    pub fn code(&self) -> &'static str {
        match self {
            DateProblem::Empty => "date-empty",
            DateProblem::NotADate(_) => "date-unrecognised",
            DateProblem::SerialOutOfRange(_) => "date-serial-out-of-range",
            DateProblem::OutsideEra { .. } => "date-outside-era",
            DateProblem::NoSuchDay(_) => "date-no-such-day",
        }
    }
}

/// A date from a cell: an Excel date or number (serial, or `20260401`), or text (see
/// [`parse_date_text`]). A time of day is dropped.
pub fn parse_date(cell: &Cell) -> Result<Date, DateProblem> {
    match cell {
        Cell::Empty => Err(DateProblem::Empty),
        Cell::DateTime(n) => excel_serial(*n),
        Cell::Number(n) if n.fract() == 0.0 && (19_000_101.0..=29_991_231.0).contains(n) => {
            parse_date_text(&number_text(*n))
        }
        Cell::Number(n) => excel_serial(*n),
        Cell::Text(s) => parse_date_text(s),
        Cell::Bool(b) => Err(DateProblem::NotADate(b.to_string())),
        Cell::Error(e) => Err(DateProblem::NotADate(e.clone())),
    }
}

/// An Excel serial date in the 1900 date system. Excel counts a 1900-02-29 that never was
/// (serial 60), so serials from 61 on are one day off from a plain count; serial 60 itself
/// is refused.
pub fn excel_serial(serial: f64) -> Result<Date, DateProblem> {
    let out = || DateProblem::SerialOutOfRange(number_text(serial));
    // 2_958_465 is 9999-12-31, Excel's last date.
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return Err(out());
    }
    let days = serial.floor() as i64;
    if days == 60 {
        return Err(DateProblem::NoSuchDay("1900-02-29".to_owned()));
    }
    let epoch = if days < 60 { date(1899, 12, 31) } else { date(1899, 12, 30) };
    epoch.and_then(|e| e.checked_add(Duration::days(days))).ok_or_else(out)
}

fn date(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// A Japanese era: year 1 is `offset + 1`; `first` and `last` are its first and last days.
#[derive(Clone, Copy)]
struct Era {
    name: &'static str,
    abbreviation: char,
    offset: i32,
    first: (i32, u8, u8),
    last: (i32, u8, u8),
}

const ERAS: [Era; 4] = [
    Era { name: "令和", abbreviation: 'R', offset: 2018, first: (2019, 5, 1), last: (9999, 12, 31) },
    Era { name: "平成", abbreviation: 'H', offset: 1988, first: (1989, 1, 8), last: (2019, 4, 30) },
    Era { name: "昭和", abbreviation: 'S', offset: 1925, first: (1926, 12, 25), last: (1989, 1, 7) },
    Era { name: "大正", abbreviation: 'T', offset: 1911, first: (1912, 7, 30), last: (1926, 12, 24) },
];

/// A date typed as text: `2026-04-01`, `2026/4/1`, `2026.4.1`, `2026年4月1日`, `20260401`,
/// `令和6年4月1日`, `令和元年5月1日`, `R6.4.1`, `H31/4/30`, `S64.1.7`, full-width forms of
/// all of these, optionally followed by a time (`2026/4/1 9:30`, `2026-04-01T09:30:00`) or a
/// weekday (`2026年4月1日(水)`). Years are always first; `01/04/2026` is refused.
pub fn parse_date_text(s: &str) -> Result<Date, DateProblem> {
    let n = text(s);
    if n.is_empty() {
        return Err(DateProblem::Empty);
    }
    let bad = || DateProblem::NotADate(n.clone());
    let (era, rest) = strip_era(&n);
    let (y, m, d, rest) = if era.is_none() && n.len() >= 8 && n.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        let num = |r: std::ops::Range<usize>| n[r].parse::<u32>().map_err(|_| bad());
        (num(0..4)?, num(4..6)?, num(6..8)?, &n[8..])
    } else {
        split_ymd(rest, era.is_some()).ok_or_else(bad)?
    };
    if !trailer_ok(rest) {
        return Err(bad());
    }
    let year = match era {
        Some(_) if y == 0 => return Err(bad()),
        Some(e) => e.offset + y as i32,
        None => y as i32,
    };
    let (Ok(m), Ok(d)) = (u8::try_from(m), u8::try_from(d)) else { return Err(DateProblem::NoSuchDay(n.clone())) };
    let day = date(year, m, d).ok_or_else(|| DateProblem::NoSuchDay(n.clone()))?;
    if let Some(e) = era {
        let first = date(e.first.0, e.first.1, e.first.2).ok_or_else(bad)?;
        let last = date(e.last.0, e.last.1, e.last.2).ok_or_else(bad)?;
        if day < first || day > last {
            return Err(DateProblem::OutsideEra { text: n.clone(), era: e.name });
        }
    }
    Ok(day)
}

fn strip_era(s: &str) -> (Option<Era>, &str) {
    for era in ERAS {
        if let Some(rest) = s.strip_prefix(era.name) {
            return (Some(era), rest.trim_start());
        }
        let mut chars = s.chars();
        if chars.next().is_some_and(|c| c.to_ascii_uppercase() == era.abbreviation) {
            let rest = chars.as_str();
            // `R6.4.1`, `H元.5.1`: the abbreviation must be followed by the year.
            if rest.starts_with(|c: char| c.is_ascii_digit() || c == '元') {
                return (Some(era), rest);
            }
        }
    }
    (None, s)
}

/// `y<sep>m<sep>d[日]` with the separators `年月`, `//`, `--` or `..`; returns the rest.
fn split_ymd(s: &str, era: bool) -> Option<(u32, u32, u32, &str)> {
    let (y, s) = if era && s.starts_with('元') { (1, &s['元'.len_utf8()..]) } else { digits(s, 4)? };
    let sep1 = s.chars().next()?;
    let s = &s[sep1.len_utf8()..];
    let (m, s) = digits(s, 2)?;
    let sep2 = s.chars().next()?;
    let s = &s[sep2.len_utf8()..];
    let (d, mut s) = digits(s, 2)?;
    match (sep1, sep2) {
        ('年', '月') => s = s.strip_prefix('日').unwrap_or(s),
        ('/', '/') | ('-', '-') | ('.', '.') => {}
        _ => return None,
    }
    // A Western year must have four digits; an era year one or two.
    if (!era && y < 1000) || (era && y > 99) {
        return None;
    }
    Some((y, m, d, s))
}

/// Leading ASCII digits, at most `max` of them and at least one.
fn digits(s: &str, max: usize) -> Option<(u32, &str)> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 || len > max {
        return None;
    }
    Some((s[..len].parse().ok()?, &s[len..]))
}

/// What may follow a date: nothing, a time of day, or a weekday in brackets.
fn trailer_ok(rest: &str) -> bool {
    let rest = rest.trim();
    if rest.is_empty() {
        return true;
    }
    if let Some(day) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        return day.chars().count() <= 3 && !day.is_empty();
    }
    let time = rest.strip_prefix('T').unwrap_or(rest);
    time.starts_with(|c: char| c.is_ascii_digit())
        && time.chars().all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | 'Z' | '+' | '-'))
}

/// Why a cell is not the value its column needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("{0:?} is not yes or no")]
    NotABool(String),
    #[error("{0:?} is not an IP address")]
    NotAnIp(String),
    #[error("{0:?} is not a MAC address")]
    NotAMac(String),
    #[error("{0:?} is not a whole number")]
    NotAnInteger(String),
    #[error("{0:?} is not a known kind of device")]
    UnknownAssetKind(String),
}

impl ValueProblem {
    pub fn code(&self) -> &'static str {
        match self {
            ValueProblem::NotABool(_) => "not-a-bool",
            ValueProblem::NotAnIp(_) => "not-an-ip",
            ValueProblem::NotAMac(_) => "not-a-mac",
            ValueProblem::NotAnInteger(_) => "not-an-integer",
            ValueProblem::UnknownAssetKind(_) => "unknown-asset-kind",
        }
    }
}

/// Yes/no as ledgers write it: はい/いいえ, 有/無, あり/なし, ○/×, ✓, 済/未, yes/no, true/false,
/// 1/0 (and full-width forms). A blank is not an answer: callers treat empty cells as null.
pub fn parse_bool(s: &str) -> Result<bool, ValueProblem> {
    let n = text(s).to_lowercase();
    match n.as_str() {
        "はい" | "有" | "有り" | "あり" | "○" | "〇" | "◯" | "◎" | "✓" | "✔" | "レ" | "済" | "済み" | "yes" | "y"
        | "true" | "1" | "on" => Ok(true),
        "いいえ" | "無" | "無し" | "なし" | "×" | "✕" | "✗" | "x" | "未" | "未済" | "no" | "n" | "false" | "0"
        | "off" => Ok(false),
        _ => Err(ValueProblem::NotABool(n)),
    }
}

/// Splits a cell holding several values: commas, `、`, `;`, spaces or newlines.
fn items(n: &str) -> impl Iterator<Item = &str> {
    n.split(|c: char| matches!(c, ',' | '、' | ';' | '/') || c.is_whitespace()).filter(|t| !t.is_empty())
}

/// One or more IP addresses (v4 or v6), deduplicated in order. A CIDR (`/24`) is refused:
/// it belongs in the segment ledger, not on a device.
pub fn parse_ips(s: &str) -> Result<Vec<IpAddr>, ValueProblem> {
    let n = text(s);
    if n.contains('/') {
        return Err(ValueProblem::NotAnIp(n));
    }
    let mut out = Vec::new();
    for item in items(&n) {
        let ip: IpAddr = item.parse().map_err(|_| ValueProblem::NotAnIp(item.to_owned()))?;
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    Ok(out)
}

/// One MAC address as `aa:bb:cc:dd:ee:ff`, from any common notation or full-width form.
pub fn parse_mac(s: &str) -> Result<String, ValueProblem> {
    let n = text(s);
    normalize_mac(&n).ok_or(ValueProblem::NotAMac(n))
}

/// One or more MAC addresses, deduplicated in order. A cell that is one MAC written with
/// spaces (`AA BB CC DD EE FF`) is read as that one address.
pub fn parse_macs(s: &str) -> Result<Vec<String>, ValueProblem> {
    let n = text(s);
    if n.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(one) = normalize_mac(&n) {
        return Ok(vec![one]);
    }
    let mut out = Vec::new();
    for item in items(&n) {
        let mac = normalize_mac(item).ok_or_else(|| ValueProblem::NotAMac(item.to_owned()))?;
        if !out.contains(&mac) {
            out.push(mac);
        }
    }
    Ok(out)
}

/// A whole number, with optional thousands separators (`1,000`) and full-width digits.
pub fn parse_int(s: &str) -> Result<i64, ValueProblem> {
    let n = text(s);
    let plain: String = n.chars().filter(|&c| c != ',').collect();
    plain.parse().map_err(|_| ValueProblem::NotAnInteger(n))
}

/// The kind of device from the words ledgers use (サーバ, 端末, ネットワーク機器, 医療機器…).
pub fn parse_asset_kind(s: &str) -> Result<AssetKind, ValueProblem> {
    let n = text(s).to_lowercase();
    let kind = match n.as_str() {
        "サーバ" | "サーバー" | "server" | "サーバ機" | "サーバー機" => AssetKind::Server,
        "pc" | "端末" | "端末pc" | "パソコン" | "クライアント" | "ノートpc" | "デスクトップpc" | "タブレット" => {
            AssetKind::Pc
        }
        "ネットワーク機器"
        | "nw機器"
        | "ルータ"
        | "ルーター"
        | "スイッチ"
        | "l2スイッチ"
        | "l3スイッチ"
        | "ハブ"
        | "ファイアウォール"
        | "utm"
        | "無線lan"
        | "アクセスポイント"
        | "vpn装置"
        | "network"
        | "network device" => AssetKind::NetworkDevice,
        "医療機器" | "医療用機器" | "モダリティ" | "medical" | "medical device" => {
            AssetKind::MedicalDevice
        }
        "iot" | "iot機器" => AssetKind::Iot,
        "その他" | "other" | "プリンタ" | "プリンター" | "複合機" | "nas" => AssetKind::Other,
        _ => return AssetKind::parse(&n).ok_or(ValueProblem::UnknownAssetKind(n)),
    };
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn text_is_nfkc_and_trimmed() {
        assert_eq!(text("　ＰＣ－０１　"), "PC-01");
        assert_eq!(text("１９２．１６８．１．１"), "192.168.1.1");
        assert_eq!(text("ｻｰﾊﾞ"), "サーバ");
        assert_eq!(text(""), "");
    }

    #[test]
    fn cell_text_forms() {
        assert_eq!(cell_text(&Cell::Number(12345.0)).as_deref(), Some("12345"));
        assert_eq!(cell_text(&Cell::Number(1.5)).as_deref(), Some("1.5"));
        assert_eq!(cell_text(&Cell::DateTime(46113.0)).as_deref(), Some("2026-04-01"));
        assert_eq!(cell_text(&Cell::Text("  ".into())), None);
        assert_eq!(cell_text(&Cell::Error("#N/A".into())), None);
        assert_eq!(cell_text(&Cell::Empty), None);
    }

    #[test]
    fn excel_serials() {
        assert_eq!(excel_serial(1.0), Ok(date!(1900 - 01 - 01)));
        assert_eq!(excel_serial(59.0), Ok(date!(1900 - 02 - 28)));
        assert_eq!(excel_serial(60.0).unwrap_err().code(), "date-no-such-day");
        assert_eq!(excel_serial(61.0), Ok(date!(1900 - 03 - 01)));
        assert_eq!(excel_serial(46113.0), Ok(date!(2026 - 04 - 01)));
        assert_eq!(excel_serial(46113.75), Ok(date!(2026 - 04 - 01)));
        assert_eq!(excel_serial(2_958_465.0), Ok(date!(9999 - 12 - 31)));
        for bad in [0.0, -1.0, 2_958_466.0, f64::NAN, f64::INFINITY] {
            assert_eq!(excel_serial(bad).unwrap_err().code(), "date-serial-out-of-range", "{bad}");
        }
    }

    #[test]
    fn dates_from_cells() {
        assert_eq!(parse_date(&Cell::DateTime(46113.0)), Ok(date!(2026 - 04 - 01)));
        assert_eq!(parse_date(&Cell::Number(46113.0)), Ok(date!(2026 - 04 - 01)));
        assert_eq!(parse_date(&Cell::Number(20260401.0)), Ok(date!(2026 - 04 - 01)));
        assert_eq!(parse_date(&Cell::Empty), Err(DateProblem::Empty));
        assert_eq!(parse_date(&Cell::Bool(true)).unwrap_err().code(), "date-unrecognised");
        assert_eq!(parse_date(&Cell::Error("#REF!".into())).unwrap_err().code(), "date-unrecognised");
    }

    #[test]
    fn western_dates() {
        for s in [
            "2026-04-01",
            "2026/4/1",
            "2026/04/01",
            "2026.4.1",
            "2026年4月1日",
            "2026年4月1",
            "２０２６年４月１日",
            "２０２６／０４／０１",
            "20260401",
            " 2026/4/1 ",
            "2026/4/1 9:30",
            "2026-04-01T09:30:00",
            "2026-04-01T09:30:00+09:00",
            "2026年4月1日(水)",
            "2026年4月1日（水）",
        ] {
            assert_eq!(parse_date_text(s), Ok(date!(2026 - 04 - 01)), "{s}");
        }
    }

    #[test]
    fn era_dates() {
        let cases = [
            ("令和6年4月1日", date!(2024 - 04 - 01)),
            ("令和元年5月1日", date!(2019 - 05 - 01)),
            ("令和 6年4月1日", date!(2024 - 04 - 01)),
            ("R6.4.1", date!(2024 - 04 - 01)),
            ("r6/4/1", date!(2024 - 04 - 01)),
            ("Ｒ６．４．１", date!(2024 - 04 - 01)),
            ("R元.5.1", date!(2019 - 05 - 01)),
            ("平成31年4月30日", date!(2019 - 04 - 30)),
            ("H31/4/30", date!(2019 - 04 - 30)),
            ("平成元年1月8日", date!(1989 - 01 - 08)),
            ("㍻31年4月30日", date!(2019 - 04 - 30)),
            ("S64.1.7", date!(1989 - 01 - 07)),
            ("昭和64年1月7日", date!(1989 - 01 - 07)),
            ("大正15年12月24日", date!(1926 - 12 - 24)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_date_text(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn era_ranges_are_checked() {
        for s in ["平成31年5月1日", "令和元年4月30日", "S64.1.8", "H1.1.7", "昭和1年12月24日"] {
            assert_eq!(parse_date_text(s).unwrap_err().code(), "date-outside-era", "{s}");
        }
        assert_eq!(
            parse_date_text("平成31年5月1日"),
            Err(DateProblem::OutsideEra { text: "平成31年5月1日".into(), era: "平成" })
        );
    }

    #[test]
    fn bad_dates() {
        for s in [
            "01/04/2026",
            "26/4/1",
            "2026/4",
            "2026/4/1/2",
            "2026-4/1",
            "2026年4/1",
            "明日",
            "R",
            "R6",
            "令和0年4月1日",
            "2026/4/1 予定",
            "2026/4/1(水曜日です)",
            "元年4月1日",
            "H123.1.1",
            "2026/123/1",
        ] {
            assert!(parse_date_text(s).is_err(), "{s} was accepted");
        }
        assert_eq!(parse_date_text("2026/2/30").unwrap_err().code(), "date-no-such-day");
        assert_eq!(parse_date_text("2026/13/1").unwrap_err().code(), "date-no-such-day");
        assert_eq!(parse_date_text("  ").unwrap_err(), DateProblem::Empty);
    }

    #[test]
    fn bools() {
        for s in ["はい", "有", "あり", "○", "〇", "✓", "済", "yes", "YES", "True", "1", "１", "ｙｅｓ"]
        {
            assert_eq!(parse_bool(s), Ok(true), "{s}");
        }
        for s in ["いいえ", "無", "なし", "×", "未", "no", "FALSE", "0", "０"] {
            assert_eq!(parse_bool(s), Ok(false), "{s}");
        }
        for s in ["", "-", "たぶん", "2", "yes?"] {
            assert_eq!(parse_bool(s).unwrap_err().code(), "not-a-bool", "{s}");
        }
    }

    #[test]
    fn ips() {
        let v4: IpAddr = "192.168.1.10".parse().unwrap();
        let v4b: IpAddr = "192.168.1.11".parse().unwrap();
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(parse_ips("１９２．１６８．１．１０"), Ok(vec![v4]));
        assert_eq!(parse_ips("192.168.1.10, 192.168.1.11"), Ok(vec![v4, v4b]));
        assert_eq!(parse_ips("192.168.1.10、192.168.1.11\nfe80::1"), Ok(vec![v4, v4b, v6]));
        assert_eq!(parse_ips("192.168.1.10 192.168.1.10"), Ok(vec![v4]));
        assert_eq!(parse_ips("  "), Ok(vec![]));
        assert_eq!(parse_ips("192.168.1.256"), Err(ValueProblem::NotAnIp("192.168.1.256".into())));
        assert_eq!(parse_ips("192.168.1.0/24").unwrap_err().code(), "not-an-ip");
        assert_eq!(parse_ips("192.168.1.10, DHCP").unwrap_err(), ValueProblem::NotAnIp("DHCP".into()));
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("ＡＡ－ＢＢ－ＣＣ－ＤＤ－ＥＥ－ＦＦ").as_deref(), Ok("aa:bb:cc:dd:ee:ff"));
        assert_eq!(parse_mac("aabb.ccdd.eeff").as_deref(), Ok("aa:bb:cc:dd:ee:ff"));
        assert_eq!(parse_mac("AA:BB:CC:DD:EE").unwrap_err().code(), "not-a-mac");
        assert_eq!(parse_mac("GG:BB:CC:DD:EE:FF").unwrap_err().code(), "not-a-mac");
        assert_eq!(parse_macs("AA BB CC DD EE FF"), Ok(vec!["aa:bb:cc:dd:ee:ff".to_owned()]));
        assert_eq!(
            parse_macs("00:11:22:33:44:55、00-11-22-33-44-66\n00:11:22:33:44:55"),
            Ok(vec!["00:11:22:33:44:55".to_owned(), "00:11:22:33:44:66".to_owned()])
        );
        assert_eq!(parse_macs(""), Ok(vec![]));
        assert_eq!(parse_macs("00:11:22:33:44:55, 不明").unwrap_err(), ValueProblem::NotAMac("不明".into()));
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int("１０"), Ok(10));
        assert_eq!(parse_int(" 1,000 "), Ok(1000));
        assert_eq!(parse_int("-3"), Ok(-3));
        for s in ["", "1.5", "十", "10台", "99999999999999999999"] {
            assert_eq!(parse_int(s).unwrap_err().code(), "not-an-integer", "{s}");
        }
    }

    #[test]
    fn asset_kinds() {
        let cases = [
            ("サーバ", AssetKind::Server),
            ("サーバー", AssetKind::Server),
            ("ｻｰﾊﾞ", AssetKind::Server),
            ("PC", AssetKind::Pc),
            ("ＰＣ", AssetKind::Pc),
            ("端末", AssetKind::Pc),
            ("パソコン", AssetKind::Pc),
            ("ネットワーク機器", AssetKind::NetworkDevice),
            ("ルータ", AssetKind::NetworkDevice),
            ("スイッチ", AssetKind::NetworkDevice),
            ("医療機器", AssetKind::MedicalDevice),
            ("IoT", AssetKind::Iot),
            ("その他", AssetKind::Other),
            ("medical", AssetKind::MedicalDevice),
        ];
        for (s, want) in cases {
            assert_eq!(parse_asset_kind(s), Ok(want), "{s}");
        }
        assert_eq!(parse_asset_kind("冷蔵庫").unwrap_err().code(), "unknown-asset-kind");
        assert_eq!(parse_asset_kind("").unwrap_err().code(), "unknown-asset-kind");
    }
}
