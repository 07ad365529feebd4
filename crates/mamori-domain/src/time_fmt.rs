//! One canonical text form for instants, so a value hashed into the audit chain reads back
//! byte-identical from SQLite (TEXT) and PostgreSQL (timestamptz, microsecond precision).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Truncate to whole microseconds in UTC: the precision both databases keep.
pub fn canonical(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    let micros = t.microsecond();
    t.replace_nanosecond(micros * 1_000).expect("microseconds * 1000 is a valid nanosecond")
}

/// `2026-11-22T20:53:35.123456Z`, always six fractional digits.
pub fn format(t: OffsetDateTime) -> String {
    let t = canonical(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

pub fn parse(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(s, &Rfc3339).map(canonical)
}

/// Now, at the precision that is stored.
pub fn now() -> OffsetDateTime {
    canonical(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_round_trips_and_truncates_to_micros() {
        let t = time::macros::datetime!(2026-11-22 20:53:35.123456789 +09:00);
        let s = format(t);
        assert_eq!(s, "2026-11-22T11:53:35.123456Z");
        assert_eq!(format(parse(&s).unwrap()), s);
        assert_eq!(parse(&s).unwrap(), canonical(t));
    }
}
