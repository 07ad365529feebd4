//! Dates in edition files and stored answers are ISO `YYYY-MM-DD` strings, in TOML and JSON
//! alike (the `time` crate's own serde form is a tuple, which nobody can read in a data file).

use serde::{Deserialize, Deserializer, Serializer};
use time::Date;
use time::macros::format_description;

/// The prefix of every date error, so the loader can report bad dates with their own code.
pub(crate) const BAD_DATE: &str = "invalid date";

pub fn parse(s: &str) -> Option<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()
}

pub fn format(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]")).unwrap_or_else(|_| d.to_string())
}

pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{BAD_DATE} {s:?} (expected YYYY-MM-DD)")))
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("{BAD_DATE} {s:?} (expected YYYY-MM-DD)"))),
        }
    }
}

/// A Japanese era as forms write it: year 1 of the era is `offset + 1`.
struct Era {
    names: [&'static str; 3],
    offset: i32,
    first: Date,
    last: Date,
}

const ERAS: [Era; 2] = [
    Era { names: ["令和", "R", "r"], offset: 2018, first: time::macros::date!(2019 - 05 - 01), last: Date::MAX },
    Era {
        names: ["平成", "H", "h"],
        offset: 1988,
        first: time::macros::date!(1989 - 01 - 08),
        last: time::macros::date!(2019 - 04 - 30),
    },
];

/// A date as a person writes it on the form: `2025-06-01`, `2025/6/1`, `2025.6.1`,
/// `2025年6月1日`, `20250601`, `令和7年6月1日`, `令和元年5月1日`, `R7.6.1`, `H31/4/30`, in full-
/// or half-width characters. An era date must fall within its era.
pub fn parse_written(s: &str) -> Option<Date> {
    use unicode_normalization::UnicodeNormalization;
    let text: String = s.nfkc().filter(|c| !c.is_whitespace()).collect();
    let (era, rest) = match ERAS.iter().find_map(|e| e.names.iter().find_map(|n| text.strip_prefix(n)).map(|r| (e, r)))
    {
        Some((e, r)) => (Some(e), r),
        None => (None, text.as_str()),
    };
    if era.is_none() && rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_digit()) {
        let n: i32 = rest.parse().ok()?;
        return calendar(n / 10_000, (n / 100 % 100) as u8, (n % 100) as u8);
    }
    let rest = rest.strip_suffix('日').unwrap_or(rest);
    let parts: Vec<&str> = rest.split(['-', '/', '.', '年', '月']).collect();
    let [y, m, d] = parts[..] else { return None };
    let number = |p: &str, max_len: usize| {
        (!p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<i32>().ok())?
    };
    let (m, d) = (number(m, 2)?, number(d, 2)?);
    let year = match era {
        None => number(y, 4).filter(|_| y.len() == 4)?,
        Some(e) => e.offset + if y == "元" { 1 } else { number(y, 2).filter(|&n| n >= 1)? },
    };
    let day = calendar(year, u8::try_from(m).ok()?, u8::try_from(d).ok()?)?;
    match era {
        Some(e) if day < e.first || day > e.last => None,
        _ => Some(day),
    }
}

/// An Excel serial day number in the 1900 date system, from 1900-03-01 (serial 61) on, where
/// Excel's phantom 1900-02-29 no longer shifts the count. A time of day is dropped.
pub fn from_excel_serial(days: f64) -> Option<Date> {
    if !(61.0..=2_958_465.0).contains(&days) {
        return None;
    }
    time::macros::date!(1899 - 12 - 30).checked_add(time::Duration::days(days.floor() as i64))
}

fn calendar(year: i32, month: u8, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// Adds whole years, clamping 29 February to 28 February.
pub fn add_years(d: Date, years: i32) -> Date {
    let y = d.year() + years;
    Date::from_calendar_date(y, d.month(), d.day())
        .or_else(|_| Date::from_calendar_date(y, d.month(), d.day() - 1))
        .unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_and_formats_iso_dates() {
        assert_eq!(parse("2025-04-01"), Some(date!(2025 - 04 - 01)));
        assert_eq!(parse(" 2025-04-01 "), Some(date!(2025 - 04 - 01)));
        assert_eq!(parse("2025-13-01"), None);
        assert_eq!(parse("R7.4.1"), None);
        assert_eq!(format(date!(2026 - 03 - 31)), "2026-03-31");
    }

    #[test]
    fn parses_dates_as_people_write_them() {
        let d = date!(2025 - 06 - 01);
        for s in ["2025-06-01", "2025/6/1", "2025.6.1", "2025年6月1日", "20250601", "２０２５／６／１", " 2025-6-1 "]
        {
            assert_eq!(parse_written(s), Some(d), "{s}");
        }
        for s in ["令和7年6月1日", "令和７年６月１日", "R7.6.1", "r7/6/1", "R07.06.01", "令和 7年 6月 1日"]
        {
            assert_eq!(parse_written(s), Some(d), "{s}");
        }
        assert_eq!(parse_written("令和元年5月1日"), Some(date!(2019 - 05 - 01)));
        assert_eq!(parse_written("H31.4.30"), Some(date!(2019 - 04 - 30)));
        for s in [
            "令和元年4月30日",
            "H31.5.1",
            "R0.6.1",
            "2025-02-30",
            "25-6-1",
            "R7.6",
            "来月",
            "",
            "2025/6/1/2",
            "R7.6.1.",
            "2025年6月1日頃",
        ] {
            assert_eq!(parse_written(s), None, "{s}");
        }
    }

    #[test]
    fn excel_serials_count_from_1899_12_30() {
        assert_eq!(from_excel_serial(45809.0), Some(date!(2025 - 06 - 01)));
        assert_eq!(from_excel_serial(45809.75), Some(date!(2025 - 06 - 01)));
        assert_eq!(from_excel_serial(61.0), Some(date!(1900 - 03 - 01)));
        assert_eq!(from_excel_serial(5.0), None);
        assert_eq!(from_excel_serial(f64::NAN), None);
    }

    #[test]
    fn add_years_clamps_leap_day() {
        assert_eq!(add_years(date!(2024 - 02 - 29), -1), date!(2023 - 02 - 28));
        assert_eq!(add_years(date!(2025 - 06 - 30), -1), date!(2024 - 06 - 30));
    }
}
