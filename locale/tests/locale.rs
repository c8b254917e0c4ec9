//! Tornado's `locale_test.py`, ported with its names, over its own fixtures
//! (`csv_translations/fr_FR.csv`, `gettext_translations/fr_FR/LC_MESSAGES/tornado_test.mo`,
//! copied from Tornado 6.6.1), plus the matching rules of the research notes.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use typhoon_locale::{DateFormat, LOCALE_NAMES, Translations};

fn fixtures(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("typhoon-locale-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn test_csv() {
    let translations = Translations::load_csv(fixtures("csv_translations"), None).expect("loads");
    let locale = translations.get_closest(["fr_FR"]);
    assert!(!locale.is_gettext(), "a CSVLocale");
    assert_eq!(locale.translate("school"), "\u{e9}cole");
}

#[test]
fn test_csv_bom() {
    let text = std::fs::read_to_string(fixtures("csv_translations/fr_FR.csv")).expect("fixture");
    let utf8_sig: Vec<u8> = b"\xef\xbb\xbf"
        .iter()
        .copied()
        .chain(text.bytes())
        .collect();
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    for (encoding, bytes) in [("utf-8-sig", utf8_sig), ("utf-16", utf16)] {
        let dir = TempDir::new(encoding);
        std::fs::write(dir.0.join("fr_FR.csv"), bytes).expect("write");
        let translations = Translations::load_csv(&dir.0, None).expect("loads");
        let locale = translations.get_closest(["fr_FR"]);
        assert!(!locale.is_gettext());
        assert_eq!(locale.translate("school"), "\u{e9}cole", "{encoding}");
    }
}

#[test]
fn test_gettext() {
    let translations = Translations::load_gettext(fixtures("gettext_translations"), "tornado_test")
        .expect("loads");
    let locale = translations.get_closest(["fr_FR"]);
    assert!(locale.is_gettext(), "a GettextLocale");
    assert_eq!(locale.translate("school"), "\u{e9}cole");
    assert_eq!(locale.pgettext("law", "right"), "le droit");
    assert_eq!(locale.pgettext("good", "right"), "le bien");
    assert_eq!(
        locale.npgettext("organization", "club", "clubs", 1),
        "le club"
    );
    assert_eq!(
        locale.npgettext("organization", "club", "clubs", 2),
        "les clubs"
    );
    assert_eq!(
        locale.npgettext("stick", "club", "clubs", 1),
        "le b\u{e2}ton"
    );
    assert_eq!(
        locale.npgettext("stick", "club", "clubs", 2),
        "les b\u{e2}tons"
    );
}

#[test]
fn gettext_quirks_as_tornado() {
    let translations = Translations::load_gettext(fixtures("gettext_translations"), "tornado_test")
        .expect("loads");
    let locale = translations.get_closest(["fr_FR"]);
    // French: 0 is singular.
    assert_eq!(
        locale.npgettext("organization", "club", "clubs", 0),
        "le club"
    );
    // A context miss is not retried without the context (singular) ...
    assert_eq!(locale.pgettext("nope", "school"), "school");
    // ... but is for a plural, which then falls back to English's rule.
    assert_eq!(locale.npgettext("nope", "car", "cars", 2), "cars");
    assert_eq!(locale.ntranslate("car", "cars", 1), "car");
}

#[test]
fn test_non_ascii_name() {
    let (_, _, name) = LOCALE_NAMES
        .iter()
        .find(|(code, _, _)| *code == "es_LA")
        .expect("es_LA");
    assert_eq!(*name, "Espa\u{f1}ol");
    assert_eq!(name.as_bytes(), b"Espa\xc3\xb1ol");
    assert_eq!(LOCALE_NAMES.len(), 62);
}

#[test]
fn test_format_date() {
    let translations = Translations::new();
    let locale = translations.get_closest(["en_US"]);
    let date = NaiveDate::from_ymd_opt(2013, 4, 28)
        .and_then(|d| d.and_hms_opt(18, 35, 0))
        .expect("a date")
        .and_utc();
    let full = DateFormat {
        full_format: true,
        ..DateFormat::default()
    };
    assert_eq!(locale.format_date(date, full), "April 28, 2013 at 6:35 pm");

    let now = Utc::now();
    let at = |date: DateTime<Utc>, shorter: bool| {
        locale.format_date_at(
            date,
            now,
            DateFormat {
                shorter,
                ..DateFormat::default()
            },
        )
    };
    let months = [
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
    let weekdays = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    assert_eq!(at(now - TimeDelta::seconds(2), false), "2 seconds ago");
    assert_eq!(at(now - TimeDelta::minutes(2), false), "2 minutes ago");
    assert_eq!(at(now - TimeDelta::hours(2), false), "2 hours ago");
    assert_eq!(at(now - TimeDelta::days(1), true), "yesterday");
    let date = now - TimeDelta::days(2);
    assert_eq!(
        at(date, true),
        weekdays[date.weekday().num_days_from_monday() as usize]
    );
    let date = now - TimeDelta::days(300);
    assert_eq!(
        at(date, true),
        format!("{} {}", months[date.month0() as usize], date.day())
    );
    let date = now - TimeDelta::days(500);
    assert_eq!(
        at(date, true),
        format!(
            "{} {}, {}",
            months[date.month0() as usize],
            date.day(),
            date.year()
        )
    );
    let date = now + TimeDelta::days(1) + TimeDelta::seconds(30);
    assert_eq!(
        at(date, true),
        format!(
            "{} {}, {}",
            months[date.month0() as usize],
            date.day(),
            date.year()
        )
    );
}

#[test]
fn test_friendly_number() {
    let locale = Translations::new().get_closest(["en_US"]);
    assert_eq!(locale.friendly_number(1_000_000), "1,000,000");
}

#[test]
fn test_list() {
    let locale = Translations::new().get_closest(["en_US"]);
    let none: [&str; 0] = [];
    assert_eq!(locale.list(&none), "");
    assert_eq!(locale.list(&["A"]), "A");
    assert_eq!(locale.list(&["A", "B"]), "A and B");
    assert_eq!(locale.list(&["A", "B", "C"]), "A, B and C");
}

#[test]
fn test_format_day() {
    let locale = Translations::new().get_closest(["en_US"]);
    let date = NaiveDate::from_ymd_opt(2013, 4, 28)
        .and_then(|d| d.and_hms_opt(18, 35, 0))
        .expect("a date")
        .and_utc();
    assert_eq!(locale.format_day(date, 0, true), "Sunday, April 28");
    assert_eq!(locale.format_day(date, 0, false), "April 28");
}

#[test]
fn get_closest_follows_tornados_rules() {
    let translations = Translations::load_csv(fixtures("csv_translations"), None).expect("loads");
    assert_eq!(
        translations.get_closest(["fr"]).code(),
        "en_US",
        "fr does not find fr_FR"
    );
    assert_eq!(
        translations.get_closest(["zh-Hant-TW", "fr-FR"]).code(),
        "fr_FR"
    );
    assert_eq!(translations.get_closest(["FR-fr"]).code(), "fr_FR");
    assert_eq!(translations.get_closest(["", "de"]).code(), "en_US");
    assert_eq!(
        translations.supported_locales().collect::<Vec<_>>(),
        ["en_US", "fr_FR"]
    );
    assert!(translations.get("de_DE").is_none());
}

#[test]
fn a_loose_match_finds_the_bare_language() {
    let dir = TempDir::new("loose");
    std::fs::write(dir.0.join("fr.csv"), "\"school\",\"école\"\n").expect("write");
    let translations = Translations::load_csv(&dir.0, None).expect("loads");
    assert_eq!(translations.get_closest(["fr-CA"]).code(), "fr");
}

#[test]
fn set_default_locale_replaces_a_bare_default() {
    let mut translations =
        Translations::load_csv(fixtures("csv_translations"), None).expect("loads");
    translations.set_default_locale("de_DE");
    assert_eq!(translations.default_locale(), "de_DE");
    assert_eq!(translations.get_closest(["ja"]).code(), "de_DE");
    assert_eq!(
        translations.supported_locales().collect::<Vec<_>>(),
        ["de_DE", "fr_FR"],
        "en_US had no file: it is no longer supported"
    );
    translations.set_default_locale("fr_FR");
    assert_eq!(
        translations.supported_locales().collect::<Vec<_>>(),
        ["fr_FR"]
    );
}

#[test]
fn csv_plurals_and_bad_files() {
    let dir = TempDir::new("plurals");
    std::fs::write(
        dir.0.join("es_LA.csv"),
        "\"%(name)s liked this\",\"A %(name)s les gustó esto\",\"plural\"\n\
         \"%(name)s liked this\",\"A %(name)s le gustó esto\",\"singular\"\n",
    )
    .expect("write");
    std::fs::write(dir.0.join("not-a-locale.csv"), "\"a\",\"b\"\n").expect("write");
    let translations = Translations::load_csv(&dir.0, None).expect("loads");
    let locale = translations.get_closest(["es_LA"]);
    assert_eq!(locale.name(), "Espa\u{f1}ol");
    assert_eq!(
        locale.ntranslate("%(name)s liked this", "%(name)s liked this", 1),
        "A %(name)s le gustó esto"
    );
    assert_eq!(
        locale.ntranslate("%(name)s liked this", "%(name)s liked this", 2),
        "A %(name)s les gustó esto"
    );
    assert_eq!(
        locale.pgettext("any", "school"),
        "school",
        "CSV ignores contexts"
    );
    assert_eq!(
        translations.supported_locales().count(),
        2,
        "the bad name was skipped"
    );
    assert!(Translations::load_csv(dir.0.join("missing"), None).is_err());
    assert!(Translations::load_csv(&dir.0, Some("latin-1")).is_err());
}
