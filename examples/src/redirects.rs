//! Where a `next` parameter may send the browser: only to a path on this site.

/// `next` if it is a path on this site, else `/` (no open redirects). A local path starts with
/// one `/` followed by something other than `/` or `\` (`//host` and `/\host` are other
/// sites to a browser), and holds no whitespace or control characters: browsers delete tabs
/// and newlines from URLs, which would turn `/\t/evil.example` into `//evil.example`.
///
/// # Examples
///
/// ```
/// use typhoon_examples::redirects::local_path;
///
/// assert_eq!(local_path("/compose?id=3"), "/compose?id=3");
/// for hostile in ["//evil.example/", "/\\evil.example", "/\t/evil.example", "https://x/", "/a\nb", "", "a"] {
///     assert_eq!(local_path(hostile), "/", "{hostile:?}");
/// }
/// ```
pub fn local_path(next: &str) -> &str {
    let mut chars = next.chars();
    let local = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if local { next } else { "/" }
}
