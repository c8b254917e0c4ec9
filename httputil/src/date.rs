//! HTTP dates: [`format_timestamp`] (RFC 1123 / IMF-fixdate) and [`parse_http_date`].

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31); Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month 1..=12, day) to days since 1970-01-01; Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch, negative before it; sub-second parts are dropped (floored).
fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 {
                -secs - 1
            } else {
                -secs
            }
        }
    }
}

/// Formats `t` as an HTTP date (RFC 1123 / IMF-fixdate), as Tornado's `format_timestamp`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use typhoon_httputil::format_timestamp;
/// let t = UNIX_EPOCH + Duration::from_secs(784111777);
/// assert_eq!(format_timestamp(t), "Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
#[must_use]
pub fn format_timestamp(t: SystemTime) -> String {
    let mut out = String::with_capacity(29);
    write_timestamp(&mut out, t);
    out
}

/// Appends the HTTP date of `t` to `out` (for a cached `Date` header without a fresh `String`).
pub fn write_timestamp(out: &mut String, t: SystemTime) {
    let secs = unix_seconds(t);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 3 with Monday = 0).
    let weekday = DAYS[(days + 3).rem_euclid(7) as usize];
    let month = MONTHS[(m - 1) as usize];
    let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{weekday}, {d:02} {month} {y:04} {hh:02}:{mm:02}:{ss:02} GMT"
    );
}

fn month_index(s: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == s).map(|i| i as u32 + 1)
}

fn num<T: std::str::FromStr>(s: &str, len: usize) -> Option<T> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `HH:MM:SS` to seconds of the day.
fn time_of_day(s: &str) -> Option<i64> {
    let mut it = s.split(':');
    let (h, m, sec) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let (h, m, sec): (i64, i64, i64) = (num(h, 2)?, num(m, 2)?, num(sec, 2)?);
    // 60 is a leap second, which HTTP dates allow.
    (h < 24 && m < 60 && sec <= 60).then_some(h * 3600 + m * 60 + sec)
}

fn to_system_time(y: i64, m: u32, d: u32, sod: i64) -> Option<SystemTime> {
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > days_in_month {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + sod;
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Parses an HTTP date (RFC 9110 §5.6.7): IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
/// obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37
/// 1994`), for `If-Modified-Since` and friends. Dates before 1970 and malformed ones give `None`;
/// the weekday name is checked for form, not for agreement with the date.
///
/// ```
/// use typhoon_httputil::{format_timestamp, parse_http_date};
/// let t = parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").unwrap();
/// assert_eq!(format_timestamp(t), "Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
#[must_use]
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let s = s.trim_matches([' ', '\t']);
    if let Some((day, rest)) = s.split_once(", ") {
        let parts: Vec<&str> = rest.split(' ').collect();
        if DAYS.contains(&day) {
            // IMF-fixdate: DD Mon YYYY HH:MM:SS GMT
            let [d, mon, y, t, "GMT"] = parts[..] else {
                return None;
            };
            return to_system_time(num(y, 4)?, month_index(mon)?, num(d, 2)?, time_of_day(t)?);
        }
        const LONG_DAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        if LONG_DAYS.contains(&day) {
            // RFC 850: DD-Mon-YY HH:MM:SS GMT
            let [date, t, "GMT"] = parts[..] else {
                return None;
            };
            let mut it = date.split('-');
            let (d, mon, yy) = (it.next()?, it.next()?, it.next()?);
            if it.next().is_some() {
                return None;
            }
            let yy: i64 = num(yy, 2)?;
            let y = if yy < 70 { 2000 + yy } else { 1900 + yy };
            return to_system_time(y, month_index(mon)?, num(d, 2)?, time_of_day(t)?);
        }
        return None;
    }
    // asctime: Www Mon _D HH:MM:SS YYYY (a one-digit day is padded with a space).
    let b = s.as_bytes();
    if b.len() != 24 || !DAYS.contains(&s.get(0..3)?) || b[3] != b' ' || b[7] != b' ' {
        return None;
    }
    let day = s.get(8..10)?;
    let day = day.strip_prefix(' ').unwrap_or(day);
    if b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    to_system_time(
        num(s.get(20..24)?, 4)?,
        month_index(s.get(4..7)?)?,
        num(day, day.len())?,
        time_of_day(s.get(11..19)?)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for secs in [
            0u64,
            1_359_312_200,
            951_782_400,
            4_102_444_800,
            253_402_300_799,
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            let s = format_timestamp(t);
            assert_eq!(parse_http_date(&s), Some(t), "{s}");
        }
        // 2000-02-29 was a Tuesday.
        assert_eq!(
            format_timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
    }

    #[test]
    fn three_formats() {
        let want = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(want)
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(want));
        assert_eq!(unix_seconds(want), 784_111_777);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn before_epoch_formats() {
        let t = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(format_timestamp(t), "Wed, 31 Dec 1969 23:59:59 GMT");
    }
}
