//! [`Locale`]: one language's translations and Tornado's formatting of dates, days, lists and
//! numbers in it.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, TimeDelta, Timelike, Utc};

use crate::csv_table::CsvTable;
use crate::format::interpolate;
use crate::mo::Catalog;
use crate::names::LOCALE_NAMES;

/// Tornado's `CONTEXT_SEPARATOR`: gettext keys a message with a context as
/// `context + "\x04" + message`.
pub const CONTEXT_SEPARATOR: char = '\u{4}';

/// Where a locale's translations come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// Tornado's CSV rows (Tornado's `CSVLocale`); empty for a locale without a file.
    Csv(CsvTable),
    /// A gettext catalog (Tornado's `GettextLocale`).
    Gettext(Catalog),
}

/// A locale: its code, its translations, and Tornado's formatting in it (Tornado's
/// `tornado.locale.Locale`). Cheap to clone, `Send` and `Sync`: a template function can hold
/// one. Get one from [`Translations::get_closest`](crate::Translations::get_closest).
#[derive(Clone)]
pub struct Locale {
    /// The shared state.
    inner: Arc<Inner>,
}

/// What a [`Locale`]'s clones share.
struct Inner {
    /// The code, e.g. `fr_FR`.
    code: String,
    /// The name in the language itself, from [`LOCALE_NAMES`], or `Unknown`.
    name: &'static str,
    /// Written right to left (`fa`, `ar` and `he` codes).
    rtl: bool,
    /// The translations.
    source: Source,
    /// January..December, translated.
    months: [String; 12],
    /// Monday..Sunday, translated.
    weekdays: [String; 7],
}

/// How [`Locale::format_date`] formats (Tornado's keyword arguments, with its defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateFormat {
    /// Minutes to subtract from UTC for the reader's time zone (Tornado's `gmt_offset`:
    /// 300 for UTC-5).
    pub gmt_offset: i64,
    /// "2 minutes ago", "yesterday" for recent dates (default on).
    pub relative: bool,
    /// No time of day in the result ("yesterday" instead of "yesterday at 6:35 pm").
    pub shorter: bool,
    /// Always the full date ("April 28, 2013 at 6:35 pm").
    pub full_format: bool,
}

impl Default for DateFormat {
    fn default() -> Self {
        Self {
            gmt_offset: 0,
            relative: true,
            shorter: false,
            full_format: false,
        }
    }
}

impl Locale {
    /// The locale `code` with translations from `source`.
    pub(crate) fn new(code: &str, source: Source) -> Self {
        let name = LOCALE_NAMES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or("Unknown", |(_, _, name)| name);
        let rtl = ["fa", "ar", "he"].iter().any(|p| code.starts_with(p));
        let mut inner = Inner {
            code: code.to_owned(),
            name,
            rtl,
            source,
            months: Default::default(),
            weekdays: Default::default(),
        };
        // As Tornado's `Locale.__init__`, the names go through the catalog.
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const WEEKDAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        inner.months = MONTHS.map(|m| translate(&inner.source, m));
        inner.weekdays = WEEKDAYS.map(|d| translate(&inner.source, d));
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The code, e.g. `fr_FR` (Tornado's `code`).
    pub fn code(&self) -> &str {
        &self.inner.code
    }

    /// The locale's name in its own language, e.g. `Français` (Tornado's `name`; `Unknown`
    /// for a code Tornado has no name for).
    pub fn name(&self) -> &'static str {
        self.inner.name
    }

    /// Whether the language is written right to left (Tornado's `rtl`: `fa`, `ar`, `he`).
    pub fn rtl(&self) -> bool {
        self.inner.rtl
    }

    /// Whether the translations are gettext's (Tornado's `GettextLocale`) rather than CSV
    /// rows (`CSVLocale`).
    pub fn is_gettext(&self) -> bool {
        matches!(self.inner.source, Source::Gettext(_))
    }

    /// The translation of `message` (Tornado's `translate(message)`, `_` in templates), or
    /// `message` itself.
    pub fn translate(&self, message: &str) -> String {
        translate(&self.inner.source, message)
    }

    /// The translation for `count` of a message with a plural form (Tornado's
    /// `translate(message, plural_message, count)`). CSV rows: `count != 1` takes the
    /// `plural` row of `plural`, else the `singular` row of `message`. gettext: the
    /// catalog's `Plural-Forms` choose (in French 0 is singular).
    pub fn ntranslate(&self, message: &str, plural: &str, count: i64) -> String {
        match &self.inner.source {
            Source::Csv(table) if count != 1 => table.plural.get(plural).map_or(plural, |t| t),
            Source::Csv(table) => table.singular.get(message).map_or(message, |t| t),
            Source::Gettext(catalog) => catalog.ngettext(message, plural, count),
        }
        .to_owned()
    }

    /// The translation of `message` in `context` (Tornado's `pgettext(context, message)`).
    /// gettext: a message without a translation in that context comes back untranslated,
    /// even if it has one without a context (Tornado's behaviour). CSV rows have no contexts:
    /// the context is ignored, with a warning if the locale has translations.
    pub fn pgettext(&self, context: &str, message: &str) -> String {
        match &self.inner.source {
            Source::Csv(table) => {
                warn_no_context(table);
                self.translate(message)
            }
            Source::Gettext(catalog) => {
                let key = format!("{context}{CONTEXT_SEPARATOR}{message}");
                let translated = catalog.gettext(&key);
                if translated.contains(CONTEXT_SEPARATOR) {
                    message.to_owned()
                } else {
                    translated.to_owned()
                }
            }
        }
    }

    /// [`pgettext`](Self::pgettext) with a plural form (Tornado's `pgettext(context, message,
    /// plural_message, count)`); a miss in the context tries the message without one.
    pub fn npgettext(&self, context: &str, message: &str, plural: &str, count: i64) -> String {
        match &self.inner.source {
            Source::Csv(table) => {
                warn_no_context(table);
                self.ntranslate(message, plural, count)
            }
            Source::Gettext(catalog) => {
                let key = format!("{context}{CONTEXT_SEPARATOR}{message}");
                let plural_key = format!("{context}{CONTEXT_SEPARATOR}{plural}");
                let translated = catalog.ngettext(&key, &plural_key, count);
                if translated.contains(CONTEXT_SEPARATOR) {
                    catalog.ngettext(message, plural, count).to_owned()
                } else {
                    translated.to_owned()
                }
            }
        }
    }

    /// Formats `date` as Tornado's `format_date` does, against the current time: "2 minutes
    /// ago", "yesterday at 6:35 pm", "Sunday at 6:35 pm", "April 28 at 6:35 pm", "April 28,
    /// 2013 at 6:35 pm". Meant for dates in the past: a future date gets the full format
    /// (within a minute ahead and `relative`, it is "now"). A Unix timestamp is
    /// `DateTime::from_timestamp(secs, 0)`; a naive date is taken as UTC with `.and_utc()`.
    pub fn format_date(&self, date: DateTime<Utc>, format: DateFormat) -> String {
        self.format_date_at(date, Utc::now(), format)
    }

    /// [`format_date`](Self::format_date) with `now` given (for tests, or one clock reading for
    /// a page of dates).
    pub fn format_date_at(
        &self,
        date: DateTime<Utc>,
        now: DateTime<Utc>,
        format: DateFormat,
    ) -> String {
        let DateFormat {
            gmt_offset,
            relative,
            shorter,
            mut full_format,
        } = format;
        let mut date = date;
        if date > now {
            if relative && (date - now) < TimeDelta::seconds(60) {
                // Clock skew: a moment ahead is now.
                date = now;
            } else {
                full_format = true;
            }
        }
        let offset = Duration::minutes(gmt_offset);
        let local_date = date - offset;
        let local_yesterday = now - offset - Duration::hours(24);
        // Python's timedelta: whole days, and the seconds left over.
        let elapsed = (now - date).num_seconds();
        let (days, seconds) = (elapsed.div_euclid(86_400), elapsed.rem_euclid(86_400));

        let mut template = None;
        if !full_format {
            if relative && days == 0 {
                if seconds < 50 {
                    return self.count_ago(
                        "1 second ago",
                        "%(seconds)d seconds ago",
                        "seconds",
                        seconds,
                    );
                }
                if seconds < 50 * 60 {
                    let minutes = round_half_even(seconds, 60);
                    return self.count_ago(
                        "1 minute ago",
                        "%(minutes)d minutes ago",
                        "minutes",
                        minutes,
                    );
                }
                let hours = round_half_even(seconds, 3600);
                return self.count_ago("1 hour ago", "%(hours)d hours ago", "hours", hours);
            }
            template = if days == 0 {
                Some("%(time)s")
            } else if days == 1 && local_date.day() == local_yesterday.day() && relative {
                Some(if shorter {
                    "yesterday"
                } else {
                    "yesterday at %(time)s"
                })
            } else if days < 5 {
                Some(if shorter {
                    "%(weekday)s"
                } else {
                    "%(weekday)s at %(time)s"
                })
            } else if days < 334 {
                // Eleven months: the same month last year would confuse.
                Some(if shorter {
                    "%(month_name)s %(day)s"
                } else {
                    "%(month_name)s %(day)s at %(time)s"
                })
            } else {
                None
            };
        }
        let template = template.unwrap_or(if shorter {
            "%(month_name)s %(day)s, %(year)s"
        } else {
            "%(month_name)s %(day)s, %(year)s at %(time)s"
        });
        let time = self.time_of_day(local_date.hour(), local_date.minute());
        interpolate(
            &self.translate(template),
            &[
                (
                    "month_name",
                    &self.inner.months[local_date.month0() as usize],
                ),
                ("weekday", &self.weekday(&local_date)),
                ("day", &local_date.day().to_string()),
                ("year", &local_date.year().to_string()),
                ("time", &time),
            ],
        )
    }

    /// The date as a day, "Sunday, April 28", or without the weekday "April 28" (Tornado's
    /// `format_day`); `gmt_offset` in minutes as for [`format_date`](Self::format_date).
    pub fn format_day(&self, date: DateTime<Utc>, gmt_offset: i64, dow: bool) -> String {
        let local_date = date - Duration::minutes(gmt_offset);
        let month = &self.inner.months[local_date.month0() as usize];
        let day = local_date.day().to_string();
        if dow {
            interpolate(
                &self.translate("%(weekday)s, %(month_name)s %(day)s"),
                &[
                    ("month_name", month),
                    ("weekday", &self.weekday(&local_date)),
                    ("day", &day),
                ],
            )
        } else {
            interpolate(
                &self.translate("%(month_name)s %(day)s"),
                &[("month_name", month), ("day", &day)],
            )
        }
    }

    /// "A", "A and B", "A, B and C" (Tornado's `list`; the comma is ` و ` in Persian).
    pub fn list<S: AsRef<str>>(&self, parts: &[S]) -> String {
        match parts {
            [] => String::new(),
            [only] => only.as_ref().to_owned(),
            [init @ .., last] => {
                let comma = if self.code().starts_with("fa") {
                    " \u{648} "
                } else {
                    ", "
                };
                let commas = init
                    .iter()
                    .map(AsRef::as_ref)
                    .collect::<Vec<_>>()
                    .join(comma);
                interpolate(
                    &self.translate("%(commas)s and %(last)s"),
                    &[("commas", &commas), ("last", last.as_ref())],
                )
            }
        }
    }

    /// `1,000,000` in English (`en`, `en_US`); the plain number in any other locale (Tornado's
    /// `friendly_number`). A negative number keeps its sign in front (Tornado's gives
    /// `-,100,000` for -100000).
    pub fn friendly_number(&self, value: i64) -> String {
        let digits = value.unsigned_abs().to_string();
        if !matches!(self.code(), "en" | "en_US") {
            return value.to_string();
        }
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if value < 0 {
            out.push('-');
        }
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(digit);
        }
        out
    }

    /// A translated "N units ago".
    fn count_ago(&self, one: &str, many: &str, name: &str, count: i64) -> String {
        interpolate(
            &self.ntranslate(one, many, count),
            &[(name, &count.to_string())],
        )
    }

    /// The translated weekday of `date`.
    fn weekday(&self, date: &DateTime<Utc>) -> String {
        self.inner.weekdays[date.weekday().num_days_from_monday() as usize].clone()
    }

    /// The time of day as the locale writes it: "6:35 pm" in English, 上午/下午 and a 12-hour
    /// clock in `zh_CN`, "18:35" elsewhere.
    fn time_of_day(&self, hour: u32, minute: u32) -> String {
        let twelve = if hour.is_multiple_of(12) {
            12
        } else {
            hour % 12
        };
        match self.code() {
            "en" | "en_US" => format!(
                "{twelve}:{minute:02} {}",
                if hour >= 12 { "pm" } else { "am" }
            ),
            "zh_CN" => format!(
                "{}{twelve}:{minute:02}",
                if hour >= 12 {
                    "\u{4e0b}\u{5348}"
                } else {
                    "\u{4e0a}\u{5348}"
                }
            ),
            _ => format!("{hour}:{minute:02}"),
        }
    }
}

/// `seconds / unit`, rounded half to even as Python's `round`.
fn round_half_even(seconds: i64, unit: i64) -> i64 {
    (seconds as f64 / unit as f64).round_ties_even() as i64
}

/// The translation of `message` in `source`.
fn translate(source: &Source, message: &str) -> String {
    match source {
        Source::Csv(table) => table.unknown.get(message).map_or(message, |t| t),
        Source::Gettext(catalog) => catalog.gettext(message),
    }
    .to_owned()
}

/// Tornado's warning when a CSV locale with translations is asked for a context.
fn warn_no_context(table: &CsvTable) {
    if !table.is_empty() {
        tracing::warn!(target: "typhoon::general", "pgettext is not supported by CSVLocale");
    }
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Locale")
            .field("code", &self.inner.code)
            .field("gettext", &self.is_gettext())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english() -> Locale {
        Locale::new("en_US", Source::Csv(CsvTable::default()))
    }

    #[test]
    fn round_half_even_as_python() {
        // The research notes' table: Python 3.11's `round`.
        for (seconds, unit, expected) in [
            (150, 60, 2),
            (210, 60, 4),
            (90, 60, 2),
            (9000, 3600, 2),
            (2999, 60, 50),
            (86_399, 3600, 24),
        ] {
            assert_eq!(round_half_even(seconds, unit), expected, "{seconds}/{unit}");
        }
    }

    #[test]
    fn relative_dates_round_as_tornado() {
        let locale = english();
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("a time");
        let ago =
            |s: i64| locale.format_date_at(now - TimeDelta::seconds(s), now, DateFormat::default());
        assert_eq!(ago(150), "2 minutes ago");
        assert_eq!(ago(210), "4 minutes ago");
        assert_eq!(ago(90), "2 minutes ago");
        assert_eq!(ago(9000), "2 hours ago");
        assert_eq!(ago(2999), "50 minutes ago");
        assert_eq!(ago(86_399), "24 hours ago");
        assert_eq!(ago(1), "1 second ago");
        assert_eq!(ago(-30), "0 seconds ago", "a moment ahead is now");
    }

    #[test]
    fn time_of_day_by_locale() {
        let date = DateTime::from_timestamp(1_367_174_100, 0).expect("2013-04-28 18:35 UTC");
        let full = DateFormat {
            full_format: true,
            ..DateFormat::default()
        };
        for (code, expected) in [
            ("en_US", "April 28, 2013 at 6:35 pm"),
            ("fr_FR", "April 28, 2013 at 18:35"),
            ("zh_CN", "April 28, 2013 at \u{4e0b}\u{5348}6:35"),
        ] {
            let locale = Locale::new(code, Source::Csv(CsvTable::default()));
            assert_eq!(locale.format_date(date, full), expected, "{code}");
        }
        let morning = DateTime::from_timestamp(1_367_136_000, 0).expect("2013-04-28 08:00 UTC");
        assert_eq!(
            english().format_date(morning, full),
            "April 28, 2013 at 8:00 am"
        );
        let offset = DateFormat {
            gmt_offset: 8 * 60,
            ..full
        };
        assert_eq!(
            english().format_date(morning, offset),
            "April 28, 2013 at 12:00 am"
        );
    }

    #[test]
    fn friendly_numbers_and_rtl() {
        let locale = english();
        assert_eq!(locale.friendly_number(0), "0");
        assert_eq!(locale.friendly_number(999), "999");
        assert_eq!(locale.friendly_number(1000), "1,000");
        assert_eq!(locale.friendly_number(-100_000), "-100,000");
        let german = Locale::new("de_DE", Source::Csv(CsvTable::default()));
        assert_eq!(german.friendly_number(1_000_000), "1000000");
        assert!(Locale::new("fa_IR", Source::Csv(CsvTable::default())).rtl());
        assert!(!german.rtl());
        assert_eq!(german.name(), "Deutsch");
        assert_eq!(
            Locale::new("xx_XX", Source::Csv(CsvTable::default())).name(),
            "Unknown"
        );
    }
}
