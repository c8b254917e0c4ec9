//! [`Translations`]: the locales an application supports, loaded from Tornado's CSV files or
//! gettext catalogs, and Tornado's rules for choosing one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::csv_table::{self, CsvTable};
use crate::error::LocaleError;
use crate::locale::{Locale, Source};
use crate::mo::Catalog;

/// The locale Tornado assumes the application's own strings are in.
pub const DEFAULT_LOCALE: &str = "en_US";

/// The locales an application supports (Tornado's module-level `_translations` and
/// `_supported_locales`, as a value the application holds instead of globals): those loaded
/// plus the default, each built once.
///
/// # Examples
///
/// ```
/// use typhoon_locale::Translations;
///
/// let dir = std::env::temp_dir().join(format!("typhoon-locale-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("fr_FR.csv"), "\"school\",\"école\"\n")?;
/// let translations = Translations::load_csv(&dir, None)?;
/// std::fs::remove_dir_all(&dir)?;
///
/// // Accept-Language: fr-FR, en;q=0.5
/// let locale = translations.get_closest(["fr-FR", "en"]);
/// assert_eq!(locale.code(), "fr_FR");
/// assert_eq!(locale.translate("school"), "école");
/// // Tornado's rule: `fr` does not match `fr_FR`; the default answers.
/// assert_eq!(translations.get_closest(["fr"]).code(), "en_US");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Translations {
    /// Every supported locale, by code.
    locales: BTreeMap<String, Locale>,
    /// The default's code.
    default: String,
    /// The codes loaded from files.
    loaded: BTreeSet<String>,
}

impl Default for Translations {
    /// No translations: only `en_US`.
    fn default() -> Self {
        Self::from_sources(BTreeMap::new())
    }
}

impl Translations {
    /// No translations: only the default, `en_US`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads Tornado's CSV translations from `directory` (Tornado's `load_translations`): a
    /// `LOCALE.csv` per locale (`es_GT.csv`), rows `"source","translation"` with an optional
    /// third column `plural` or `singular` (or `unknown`, or empty). Files and rows Tornado
    /// would skip are logged and skipped.
    ///
    /// `encoding` is `None` (UTF-16 if the first file starts with a UTF-16 BOM, else UTF-8 with
    /// an optional BOM; Tornado keeps that first choice for the later files, and so does this),
    /// or one of `"utf-8"`, `"utf-8-sig"`, `"utf-16"`.
    ///
    /// # Errors
    ///
    /// [`LocaleError::Io`] if the directory or a file cannot be read,
    /// [`LocaleError::UnsupportedEncoding`], [`LocaleError::Decode`] or [`LocaleError::Csv`]
    /// for a file that is not text in its encoding or not CSV.
    pub fn load_csv(
        directory: impl AsRef<Path>,
        encoding: Option<&str>,
    ) -> Result<Self, LocaleError> {
        let tables = csv_table::load(directory.as_ref(), encoding)?;
        let sources = tables
            .into_iter()
            .map(|(code, table)| (code, Source::Csv(table)))
            .collect();
        Ok(Self::from_sources(sources))
    }

    /// Loads gettext catalogs (Tornado's `load_gettext_translations`):
    /// `{directory}/{locale}/LC_MESSAGES/{domain}.mo` for each locale, as `msgfmt` writes them.
    /// A catalog that does not parse is logged and skipped, as in Tornado.
    ///
    /// # Errors
    ///
    /// [`LocaleError::Io`] if the directory cannot be read.
    pub fn load_gettext(directory: impl AsRef<Path>, domain: &str) -> Result<Self, LocaleError> {
        let directory = directory.as_ref();
        let entries = std::fs::read_dir(directory).map_err(|source| LocaleError::Io {
            path: directory.to_owned(),
            source,
        })?;
        let mut sources = BTreeMap::new();
        for entry in entries.filter_map(Result::ok) {
            let Some(lang) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if lang.starts_with('.') {
                continue; // as glob's `*`
            }
            let path = entry
                .path()
                .join("LC_MESSAGES")
                .join(format!("{domain}.mo"));
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            match Catalog::parse(&bytes, &path) {
                Ok(catalog) => {
                    sources.insert(lang, Source::Gettext(catalog));
                }
                Err(error) => {
                    tracing::error!(target: "typhoon::general", "Cannot load translation for '{lang}': {error}");
                }
            }
        }
        Ok(Self::from_sources(sources))
    }

    /// The supported set: the loaded locales and the default.
    fn from_sources(sources: BTreeMap<String, Source>) -> Self {
        let loaded = sources.keys().cloned().collect();
        let mut locales: BTreeMap<String, Locale> = sources
            .into_iter()
            .map(|(code, source)| {
                let locale = Locale::new(&code, source);
                (code, locale)
            })
            .collect();
        locales
            .entry(DEFAULT_LOCALE.to_owned())
            .or_insert_with(|| Locale::new(DEFAULT_LOCALE, Source::Csv(CsvTable::default())));
        tracing::debug!(target: "typhoon::general", "Supported locales: {:?}", locales.keys().collect::<Vec<_>>());
        Self {
            locales,
            default: DEFAULT_LOCALE.to_owned(),
            loaded,
        }
    }

    /// Makes `code` the default (Tornado's `set_default_locale`): the language the
    /// application's own strings are in, supported without a file, and the answer of
    /// [`get_closest`](Self::get_closest) when nothing matches. The old default stays supported
    /// only if it was loaded from a file.
    pub fn set_default_locale(&mut self, code: &str) {
        if self.default != code && !self.loaded.contains(&self.default) {
            self.locales.remove(&self.default);
        }
        self.locales
            .entry(code.to_owned())
            .or_insert_with(|| Locale::new(code, Source::Csv(CsvTable::default())));
        self.default = code.to_owned();
    }

    /// The default locale's code.
    pub fn default_locale(&self) -> &str {
        &self.default
    }

    /// The supported codes, sorted (Tornado's `get_supported_locales`).
    pub fn supported_locales(&self) -> impl Iterator<Item = &str> {
        self.locales.keys().map(String::as_str)
    }

    /// The locale `code` exactly (Tornado's `Locale.get`), or `None` if it is not supported.
    pub fn get(&self, code: &str) -> Option<Locale> {
        self.locales.get(code).cloned()
    }

    /// The best supported locale for `codes`, in order of preference (Tornado's
    /// `Locale.get_closest` and `locale.get`), by Tornado's rules: `-` counts as `_`, a code
    /// of three or more parts is skipped, `ll_CC` matches exactly and then by its language
    /// alone (`fr_CA` finds `fr`, but `fr` does not find `fr_FR`), and with no match the
    /// default.
    pub fn get_closest<I, S>(&self, codes: I) -> Locale
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for code in codes {
            let code = code.as_ref().replace('-', "_");
            if code.is_empty() {
                continue;
            }
            let parts: Vec<&str> = code.split('_').collect();
            let code = match parts.as_slice() {
                [_] => code.clone(),
                [language, region] => {
                    format!("{}_{}", language.to_lowercase(), region.to_uppercase())
                }
                _ => continue,
            };
            if let Some(locale) = self.locales.get(&code) {
                return locale.clone();
            }
            if let Some(locale) = self.locales.get(&parts[0].to_lowercase()) {
                return locale.clone();
            }
        }
        self.locales
            .get(&self.default)
            .cloned()
            .unwrap_or_else(|| Locale::new(&self.default, Source::Csv(CsvTable::default())))
    }
}
