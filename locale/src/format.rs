//! Python's `%` formatting with a mapping, for the strings Tornado's locale methods format
//! after translating them (`"%(weekday)s at %(time)s" % {...}`): `%(name)s` and `%(name)d`
//! take the named value, `%%` is a `%`; anything else is kept as it is.

/// `template` with each `%(name)s` / `%(name)d` replaced by the value named in `values`.
pub(crate) fn interpolate(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
            continue;
        }
        let named = rest
            .strip_prefix("%(")
            .and_then(|r| r.split_once(')'))
            .and_then(|(name, after)| {
                let conversion = after.chars().next().filter(|c| matches!(c, 's' | 'd'))?;
                let value = values.iter().find(|(n, _)| *n == name)?.1;
                Some((value, &after[conversion.len_utf8()..]))
            });
        match named {
            Some((value, after)) => {
                out.push_str(value);
                rest = after;
            }
            None => {
                out.push('%');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::interpolate;

    #[test]
    fn named_values_and_percent_signs() {
        let values = [("name", "Ana"), ("n", "3")];
        assert_eq!(
            interpolate("%(name)s liked this", &values),
            "Ana liked this"
        );
        assert_eq!(interpolate("%(n)d items, 100%%", &values), "3 items, 100%");
        assert_eq!(
            interpolate("%(other)s %(name)x %", &values),
            "%(other)s %(name)x %"
        );
        assert_eq!(interpolate("é%(name)sé", &values), "éAnaé");
    }
}
