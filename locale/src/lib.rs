//! Tornado's `tornado.locale` for Typhoon: translations from Tornado's CSV files or from gettext
//! catalogs (`.mo`), Tornado's rules for choosing a locale from what the browser accepts, and
//! its formatting of dates ("2 minutes ago", "yesterday at 6:35 pm"), days, lists and numbers.
//!
//! There are no globals. [`Translations`] is a value: load it once
//! ([`Translations::load_csv`], [`Translations::load_gettext`]), keep it in the application,
//! and ask it for the [`Locale`] of each request with [`Translations::get_closest`] (Tornado's
//! `locale.get`). A [`Locale`] is cheap to clone and `Send + Sync`.
//!
//! Tornado's behaviour is kept where a ported application would notice it:
//! - **Matching:** `fr-FR` and `FR-fr` find `fr_FR`; `fr_CA` finds `fr`; `fr` does not find
//!   `fr_FR`; three-part tags are skipped.
//! - **Plurals:** CSV files use `count != 1`; gettext uses the catalog's `Plural-Forms` (in
//!   French 0 is singular).
//! - **Contexts:** a gettext context miss returns the message untranslated.
//! - **Rounding:** relative dates round half to even, as Python's `round`.
//! - **Clocks:** a 24-hour clock everywhere but English and `zh_CN`.
//!
//! The `.mo` reader is this crate's own (the `gettext` crate is unmaintained, and its
//! dependency is flagged by RUSTSEC-2021-0153).
//!
//! # Examples
//!
//! ```
//! use chrono::{TimeDelta, Utc};
//! use typhoon_locale::{DateFormat, Translations};
//!
//! let translations = Translations::new(); // only en_US, the default
//! let locale = translations.get_closest(["de-DE", "en-US"]);
//! assert_eq!(locale.code(), "en_US");
//!
//! let now = Utc::now();
//! let format = DateFormat::default();
//! assert_eq!(locale.format_date_at(now - TimeDelta::minutes(2), now, format), "2 minutes ago");
//! assert_eq!(locale.list(&["A", "B", "C"]), "A, B and C");
//! assert_eq!(locale.friendly_number(1_000_000), "1,000,000");
//! assert_eq!(locale.ntranslate("%(n)d item", "%(n)d items", 0), "%(n)d items");
//! ```
//!
//! # Feature flags
//!
//! | Name | Default | Description |
//! | --- | --- | --- |
//! | (none) | | The whole crate is always built: CSV (`csv`), gettext (its own reader) and dates (`chrono`) |

#![forbid(unsafe_code)]

mod csv_table;
mod error;
mod format;
mod locale;
mod mo;
mod names;
mod plural;
mod translations;

pub use error::LocaleError;
pub use locale::{CONTEXT_SEPARATOR, DateFormat, Locale};
pub use names::LOCALE_NAMES;
pub use translations::{DEFAULT_LOCALE, Translations};
