//! A reader for GNU gettext's compiled catalogs (`.mo` files), with the lookups of Python's
//! `gettext.GNUTranslations` that Tornado's `GettextLocale` calls. Written here rather than
//! taken from the `gettext` crate: that one is unmaintained and depends on a crate flagged by
//! RUSTSEC-2021-0153, and the format is small (a header, two tables of offsets, the strings).

use std::collections::HashMap;
use std::path::Path;

use crate::error::LocaleError;
use crate::plural::Plural;

/// The magic number, as read in the file's own byte order.
const MAGIC: u32 = 0x9504_12de;

/// One catalog: its messages and its plural rule.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    /// `msgid` (with `context\x04` before it for a `msgctxt`) to its translation.
    singular: HashMap<String, String>,
    /// The `msgid` of a plural entry to its forms, `msgstr[0]`, `msgstr[1]`, ...
    plural: HashMap<String, Vec<String>>,
    /// Which form a count takes (`Plural-Forms`; `n != 1` without one).
    rule: Plural,
}

impl Catalog {
    /// Parses the catalog in `bytes` (read from `path`, for errors).
    pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Self, LocaleError> {
        let bad = |reason| LocaleError::Catalog {
            path: path.to_owned(),
            reason,
        };
        let word = |at: usize, big_endian: bool| -> Result<u32, LocaleError> {
            let raw: [u8; 4] = bytes
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad("truncated"))?;
            Ok(if big_endian {
                u32::from_be_bytes(raw)
            } else {
                u32::from_le_bytes(raw)
            })
        };
        let big_endian = match word(0, false)? {
            MAGIC => false,
            m if m.swap_bytes() == MAGIC => true,
            _ => return Err(bad("bad magic number")),
        };
        if word(4, big_endian)? >> 16 > 1 {
            return Err(bad("unknown major revision"));
        }
        let count = word(8, big_endian)? as usize;
        let originals = word(12, big_endian)? as usize;
        let translations = word(16, big_endian)? as usize;
        if count > bytes.len() / 8 {
            return Err(bad("more entries than the file holds"));
        }
        // The string at table entry `index` (a length, then an offset).
        let string = |table: usize, index: usize| -> Result<&[u8], LocaleError> {
            let entry = table
                .checked_add(index * 8)
                .ok_or_else(|| bad("offset out of range"))?;
            let len = word(entry, big_endian)? as usize;
            let offset = word(entry + 4, big_endian)? as usize;
            bytes
                .get(
                    offset
                        ..offset
                            .checked_add(len)
                            .ok_or_else(|| bad("offset out of range"))?,
                )
                .ok_or_else(|| bad("string out of range"))
        };
        let mut raw = Vec::with_capacity(count);
        for index in 0..count {
            raw.push((string(originals, index)?, string(translations, index)?));
        }
        // The header (the translation of the empty msgid) names the charset and plural rule.
        let header = raw
            .iter()
            .find(|(id, _)| id.is_empty())
            .map(|(_, header)| String::from_utf8_lossy(header).into_owned())
            .unwrap_or_default();
        let mut rule = Plural::germanic();
        for line in header.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            if key == "content-type"
                && let Some(charset) = value.split("charset=").nth(1)
            {
                let charset = charset.trim().to_ascii_lowercase();
                if !matches!(charset.as_str(), "utf-8" | "utf8" | "ascii" | "us-ascii") {
                    return Err(bad("only UTF-8 catalogs are supported"));
                }
            } else if key == "plural-forms"
                && let Some(expression) = value.split("plural=").nth(1)
            {
                rule = Plural::parse(expression)?;
            }
        }
        let text = |b: &[u8]| {
            std::str::from_utf8(b)
                .map(str::to_owned)
                .map_err(|_| bad("a string is not UTF-8"))
        };
        let mut catalog = Catalog {
            singular: HashMap::new(),
            plural: HashMap::new(),
            rule,
        };
        for (id, translated) in raw {
            if let Some(nul) = id.iter().position(|&b| b == 0) {
                // `msgid\0msgid_plural` -> `msgstr[0]\0msgstr[1]...`, keyed by the msgid.
                let forms = translated
                    .split(|&b| b == 0)
                    .map(text)
                    .collect::<Result<_, _>>()?;
                catalog.plural.insert(text(&id[..nul])?, forms);
            } else {
                catalog.singular.insert(text(id)?, text(translated)?);
            }
        }
        Ok(catalog)
    }

    /// Python's `gettext(message)`: the translation, the plural entry's form for 1, or the
    /// message itself.
    pub(crate) fn gettext<'a>(&'a self, message: &'a str) -> &'a str {
        if let Some(translated) = self.singular.get(message) {
            return translated;
        }
        self.plural
            .get(message)
            .and_then(|forms| forms.get(self.form(1)))
            .map_or(message, String::as_str)
    }

    /// Python's `ngettext(singular, plural, n)`: the form the catalog's rule picks for `n`, or
    /// without a translation `singular` for 1 and `plural` otherwise. A negative count is
    /// taken as its magnitude.
    pub(crate) fn ngettext<'a>(&'a self, singular: &'a str, plural: &'a str, n: i64) -> &'a str {
        match self
            .plural
            .get(singular)
            .and_then(|forms| forms.get(self.form(n.unsigned_abs())))
        {
            Some(translated) => translated,
            None if n == 1 => singular,
            None => plural,
        }
    }

    /// The index of the plural form for `n`.
    fn form(&self, n: u64) -> usize {
        usize::try_from(self.rule.evaluate(n)).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.mo` file of `entries` (msgid, msgstr; NUL-separated for plurals), little-endian.
    pub(crate) fn mo(entries: &[(&str, &str)]) -> Vec<u8> {
        let n = entries.len();
        let mut out = Vec::new();
        let strings_at = 28 + 16 * n;
        let mut strings = Vec::new();
        let mut originals = Vec::new();
        let mut translations = Vec::new();
        for (id, _) in entries {
            originals.push((id.len(), strings_at + strings.len()));
            strings.extend_from_slice(id.as_bytes());
            strings.push(0);
        }
        for (_, text) in entries {
            translations.push((text.len(), strings_at + strings.len()));
            strings.extend_from_slice(text.as_bytes());
            strings.push(0);
        }
        for value in [MAGIC, 0, n as u32, 28, 28 + 8 * n as u32, 0, 0] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for (len, offset) in originals.iter().chain(&translations) {
            out.extend_from_slice(&(*len as u32).to_le_bytes());
            out.extend_from_slice(&(*offset as u32).to_le_bytes());
        }
        out.extend_from_slice(&strings);
        out
    }

    #[test]
    fn lookups_as_python_gettext() {
        let bytes = mo(&[
            (
                "",
                "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n > 1);\n",
            ),
            ("school", "école"),
            ("club\0clubs", "le club\0les clubs"),
        ]);
        let catalog = Catalog::parse(&bytes, Path::new("t.mo")).expect("parses");
        assert_eq!(catalog.gettext("school"), "école");
        assert_eq!(catalog.gettext("nope"), "nope");
        // French: 0 is singular.
        assert_eq!(catalog.ngettext("club", "clubs", 0), "le club");
        assert_eq!(catalog.ngettext("club", "clubs", 2), "les clubs");
        // A plural entry answers gettext with its form for 1.
        assert_eq!(catalog.gettext("club"), "le club");
        assert_eq!(catalog.ngettext("car", "cars", 1), "car");
        assert_eq!(catalog.ngettext("car", "cars", 0), "cars");
    }

    #[test]
    fn broken_files_are_errors_not_panics() {
        let path = Path::new("t.mo");
        let good = mo(&[("a", "b")]);
        for cut in 0..good.len() {
            let _ = Catalog::parse(&good[..cut], path);
        }
        assert!(Catalog::parse(b"not a catalog at all", path).is_err());
        let mut huge = good;
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Catalog::parse(&huge, path).is_err());
        let latin1 = mo(&[("", "Content-Type: text/plain; charset=ISO-8859-1\n")]);
        assert!(Catalog::parse(&latin1, path).is_err());
    }
}
