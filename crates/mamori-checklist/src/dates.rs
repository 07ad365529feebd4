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
    fn add_years_clamps_leap_day() {
        assert_eq!(add_years(date!(2024 - 02 - 29), -1), date!(2023 - 02 - 28));
        assert_eq!(add_years(date!(2025 - 06 - 30), -1), date!(2024 - 06 - 30));
    }
}
