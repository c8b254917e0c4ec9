//! Tornado's `datetime` option type, as [`chrono::NaiveDateTime`] (Python's naive `datetime`).

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::types::{OptionType, Value};

/// The formats Tornado's `_parse_datetime` tries, in its order (tornado/options.py), plus
/// `%Y-%m-%dT%H:%M:%S`, how a TOML local date-time reads. A time alone is on 1900-01-01 and a
/// date alone at midnight, as Python's `strptime` gives them.
pub const DATETIME_FORMATS: [&str; 11] = [
    "%a %b %d %H:%M:%S %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%H:%M:%S",
    "%H:%M",
];

/// The date of a time given alone (Python's `strptime` default).
fn default_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("invariant: 1900-01-01 is a date")
}

/// `%Y%m%d` with four-digit years, which chrono's greedy `%Y` cannot split: the input's
/// first eight digits become `YYYY-MM-DD` and the format's `%Y%m%d` becomes `%Y-%m-%d`.
fn dashed(s: &str, format: &str) -> Option<(String, String)> {
    let rest_format = format.strip_prefix("%Y%m%d")?;
    let digits = s.get(..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let input = format!(
        "{}-{}-{}{}",
        &digits[..4],
        &digits[4..6],
        &digits[6..],
        &s[8..]
    );
    Some((input, format!("%Y-%m-%d{rest_format}")))
}

fn parse_with(s: &str, format: &str) -> Option<NaiveDateTime> {
    let (input, format) = match dashed(s, format) {
        Some((input, format)) => (Cow::Owned(input), Cow::Owned(format)),
        None if format.starts_with("%Y%m%d") => return None,
        None => (Cow::Borrowed(s), Cow::Borrowed(format)),
    };
    let has_date = format.contains("%d");
    let has_time = format.contains("%H");
    match (has_date, has_time) {
        (true, true) => NaiveDateTime::parse_from_str(&input, &format).ok(),
        (true, false) => NaiveDate::parse_from_str(&input, &format)
            .ok()
            .map(|date| date.and_time(NaiveTime::MIN)),
        _ => NaiveTime::parse_from_str(&input, &format)
            .ok()
            .map(|time| default_date().and_time(time)),
    }
}

/// Parses a date and time in any of [`DATETIME_FORMATS`] (Tornado's `_parse_datetime`).
///
/// # Errors
///
/// A reason naming the accepted formats when none matches.
///
/// # Examples
///
/// ```
/// use typhoon_options::parse_datetime;
///
/// let at = parse_datetime("2013-04-29 17:30").unwrap();
/// assert_eq!(at.to_string(), "2013-04-29 17:30:00");
/// assert_eq!(parse_datetime("20130429").unwrap().to_string(), "2013-04-29 00:00:00");
/// assert!(parse_datetime("yesterday").is_err());
/// ```
pub fn parse_datetime(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    DATETIME_FORMATS
        .iter()
        .find_map(|format| parse_with(s, format))
        .ok_or_else(|| {
            format!(
                "unrecognized date/time format; expected one of {}",
                DATETIME_FORMATS.join(", ")
            )
        })
}

/// Tornado's `type=datetime`: naive local date and time. Written on the command line in any of
/// [`DATETIME_FORMATS`]; a TOML config file may also give a native local date-time or date.
impl OptionType for NaiveDateTime {
    fn type_name() -> Cow<'static, str> {
        "datetime".into()
    }

    fn parse(s: &str) -> Result<Self, String> {
        parse_datetime(s)
    }

    fn to_value(&self) -> Value {
        Value::Str(self.format("%Y-%m-%d %H:%M:%S").to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, s))
            .expect("valid")
    }

    #[test]
    fn every_tornado_format() {
        let cases = [
            ("Mon Apr 29 17:30:05 2013", at(2013, 4, 29, 17, 30, 5)),
            ("2013-04-29 17:30:05", at(2013, 4, 29, 17, 30, 5)),
            ("2013-04-29 17:30", at(2013, 4, 29, 17, 30, 0)),
            ("2013-04-29T17:30", at(2013, 4, 29, 17, 30, 0)),
            ("2013-04-29T17:30:05", at(2013, 4, 29, 17, 30, 5)),
            ("20130429 17:30:05", at(2013, 4, 29, 17, 30, 5)),
            ("20130429 17:30", at(2013, 4, 29, 17, 30, 0)),
            ("2013-04-29", at(2013, 4, 29, 0, 0, 0)),
            ("20130429", at(2013, 4, 29, 0, 0, 0)),
            ("17:30:05", at(1900, 1, 1, 17, 30, 5)),
            ("17:30", at(1900, 1, 1, 17, 30, 0)),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_datetime(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn rejects_what_no_format_matches() {
        for input in [
            "",
            "2013-13-01",
            "2013-04-29 25:00",
            "2013042",
            "29/04/2013",
            "17h30",
        ] {
            assert!(parse_datetime(input).is_err(), "{input}");
        }
    }

    #[test]
    fn round_trips_through_to_value() {
        let value = at(2013, 4, 29, 17, 30, 5).to_value();
        assert_eq!(value, Value::Str("2013-04-29 17:30:05".into()));
        let Value::Str(text) = value else {
            unreachable!()
        };
        assert_eq!(NaiveDateTime::parse(&text), Ok(at(2013, 4, 29, 17, 30, 5)));
    }
}
