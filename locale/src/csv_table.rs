//! Tornado's CSV translations (`locale.load_translations`): one `LOCALE.csv` per locale, rows of
//! `source, translation[, plural]`, read as Python's `csv.reader` reads them (the excel dialect,
//! fields stripped), in UTF-8 or UTF-16 chosen by the byte-order mark.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::LocaleError;

/// One locale's rows, by plural indicator (Tornado's `translations[locale][plural]`).
#[derive(Debug, Clone, Default)]
pub(crate) struct CsvTable {
    /// Rows without an indicator, or `unknown`.
    pub(crate) unknown: HashMap<String, String>,
    /// `singular` rows.
    pub(crate) singular: HashMap<String, String>,
    /// `plural` rows.
    pub(crate) plural: HashMap<String, String>,
}

impl CsvTable {
    /// Whether the file had no row at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.unknown.is_empty() && self.singular.is_empty() && self.plural.is_empty()
    }
}

/// How a CSV file's bytes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// UTF-8 as it is.
    Utf8,
    /// UTF-8 with an optional BOM (Python's `utf-8-sig`).
    Utf8Sig,
    /// UTF-16 with a BOM giving the byte order (little-endian without one, as Python on x86).
    Utf16,
}

impl Encoding {
    fn named(name: &str) -> Result<Self, LocaleError> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "utf-8-sig" | "utf8-sig" => Ok(Encoding::Utf8Sig),
            "utf-16" | "utf16" => Ok(Encoding::Utf16),
            _ => Err(LocaleError::UnsupportedEncoding(name.to_owned())),
        }
    }

    /// Tornado's detection: a UTF-16 BOM means UTF-16, anything else UTF-8 with an optional BOM.
    fn detect(bytes: &[u8]) -> Self {
        if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
            Encoding::Utf16
        } else {
            Encoding::Utf8Sig
        }
    }

    /// Python's name for it.
    fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Sig => "utf-8-sig",
            Encoding::Utf16 => "utf-16",
        }
    }

    fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Encoding::Utf8 => String::from_utf8(bytes.to_vec()).ok(),
            Encoding::Utf8Sig => {
                let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
                String::from_utf8(bytes.to_vec()).ok()
            }
            Encoding::Utf16 => {
                let (big_endian, body) = match bytes {
                    [0xfe, 0xff, body @ ..] => (true, body),
                    [0xff, 0xfe, body @ ..] => (false, body),
                    body => (false, body),
                };
                if body.len() % 2 != 0 {
                    return None;
                }
                let units: Vec<u16> = body
                    .chunks_exact(2)
                    .map(|pair| {
                        let pair = [pair[0], pair[1]];
                        if big_endian {
                            u16::from_be_bytes(pair)
                        } else {
                            u16::from_le_bytes(pair)
                        }
                    })
                    .collect();
                String::from_utf16(&units).ok()
            }
        }
    }
}

/// Whether `name` is a locale code Tornado accepts for a CSV file (`[a-z]+(_[A-Z]+)?`).
fn is_locale_name(name: &str) -> bool {
    let (language, region) = match name.split_once('_') {
        Some((language, region)) => (language, Some(region)),
        None => (name, None),
    };
    !language.is_empty()
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Reads every `LOCALE.csv` in `directory` (Tornado's `load_translations`). With no
/// `encoding`, each file's BOM chooses, and (Tornado's quirk, kept) the first file's choice then
/// holds for the files after it.
pub(crate) fn load(
    directory: &Path,
    encoding: Option<&str>,
) -> Result<BTreeMap<String, CsvTable>, LocaleError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| LocaleError::Io { path, source }
    };
    let mut encoding = encoding.map(Encoding::named).transpose()?;
    let mut names: Vec<_> = std::fs::read_dir(directory)
        .map_err(io(directory))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .collect();
    // Tornado reads in directory order; sorted here, so the encoding quirk is deterministic.
    names.sort();
    let mut locales = BTreeMap::new();
    for path in names {
        let Some(locale) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if !is_locale_name(locale) {
            tracing::error!(target: "typhoon::general", "Unrecognized locale {locale:?} (path: {})", path.display());
            continue;
        }
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let chosen = *encoding.get_or_insert_with(|| Encoding::detect(&bytes));
        let text = chosen.decode(&bytes).ok_or_else(|| LocaleError::Decode {
            path: path.clone(),
            encoding: chosen.name(),
        })?;
        locales.insert(locale.to_owned(), parse(&text, &path)?);
    }
    Ok(locales)
}

/// The rows of one file.
fn parse(text: &str, path: &Path) -> Result<CsvTable, LocaleError> {
    let mut table = CsvTable::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|source| LocaleError::Csv {
            path: path.to_owned(),
            source,
        })?;
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        if fields.len() < 2 {
            continue;
        }
        let rows = match fields.get(2).copied().filter(|p| !p.is_empty()) {
            None | Some("unknown") => &mut table.unknown,
            Some("singular") => &mut table.singular,
            Some("plural") => &mut table.plural,
            Some(other) => {
                tracing::error!(target: "typhoon::general", "Unrecognized plural indicator {other:?} in {} line {}", path.display(), line + 1);
                continue;
            }
        };
        rows.insert(fields[0].to_owned(), fields[1].to_owned());
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_names_as_tornado_matches_them() {
        for good in ["fr", "fr_FR", "zh_CN", "es_LA"] {
            assert!(is_locale_name(good), "{good}");
        }
        for bad in ["", "FR", "fr_fr", "fr-FR", "fr_", "_FR", "fr_FR_x", "fr1"] {
            assert!(!is_locale_name(bad), "{bad}");
        }
    }

    #[test]
    fn rows_by_plural_indicator() {
        let text = "\"school\",\"école\"\n\n\"one\"\n\"%(name)s liked this\",\"A %(name)s les gustó esto\",\"plural\"\n\
                    \"%(name)s liked this\",\"A %(name)s le gustó esto\",\"singular\"\n a , b ,unknown\nx,y,bogus\n";
        let table = parse(text, Path::new("es_LA.csv")).expect("parses");
        assert_eq!(
            table.unknown.get("school").map(String::as_str),
            Some("école")
        );
        assert_eq!(table.unknown.get("a").map(String::as_str), Some("b"));
        assert_eq!(
            table.plural.get("%(name)s liked this").map(String::as_str),
            Some("A %(name)s les gustó esto")
        );
        assert_eq!(table.singular.len(), 1);
        assert!(
            !table.unknown.contains_key("x"),
            "an unknown indicator skips the row"
        );
    }

    #[test]
    fn utf16_in_either_byte_order() {
        let text = "\"school\",\"école\"";
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        for bytes in [le, be] {
            assert_eq!(Encoding::detect(&bytes), Encoding::Utf16);
            assert_eq!(Encoding::Utf16.decode(&bytes).as_deref(), Some(text));
        }
        assert_eq!(Encoding::Utf16.decode(&[0xff, 0xfe, 0x41]), None);
    }
}
