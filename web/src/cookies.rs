//! Cookies: `Set-Cookie` formatting as Python's `http.cookies` does it, Tornado's v2 signed
//! values (HMAC-SHA256) and its masked XSRF tokens.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use typhoon_httputil::format_timestamp;

use crate::error::{Result, WebError};

/// The attributes of a cookie set with [`Context::set_cookie`](crate::Context::set_cookie)
/// (Tornado's `set_cookie` keyword arguments); `Default` gives `Path=/` and nothing else.
#[derive(Clone, Debug)]
pub struct CookieOptions {
    /// `Domain`.
    pub domain: Option<String>,
    /// `expires`, as an absolute time.
    pub expires: Option<SystemTime>,
    /// `expires`, in days from now (Tornado's `expires_days`); wins over `expires`.
    pub expires_days: Option<f64>,
    /// `Path` (default `/`; `None` leaves it out).
    pub path: Option<String>,
    /// `Max-Age`, in seconds.
    pub max_age: Option<u64>,
    /// `HttpOnly`.
    pub httponly: bool,
    /// `Secure`.
    pub secure: bool,
    /// `SameSite` (`Strict`, `Lax` or `None`).
    pub samesite: Option<String>,
}

impl Default for CookieOptions {
    fn default() -> Self {
        Self {
            domain: None,
            expires: None,
            expires_days: None,
            path: Some("/".to_owned()),
            max_age: None,
            httponly: false,
            secure: false,
            samesite: None,
        }
    }
}

/// Python's `http.cookies._LegalChars`: values made only of these are not quoted.
fn is_legal_cookie_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~:".contains(c)
}

/// Python's `http.cookies._quote`.
fn quote_cookie_value(value: &str) -> String {
    if value.chars().all(is_legal_cookie_char) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\054"),
            ';' => out.push_str("\\073"),
            '\u{7f}'..='\u{ff}' => {
                let _ = write!(out, "\\{:03o}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `Set-Cookie` value as Tornado (through Python's `Morsel`) writes it.
///
/// # Errors
///
/// [`WebError::InvalidCookie`] for control characters or spaces in the name or value.
pub fn format_set_cookie(name: &str, value: &str, options: &CookieOptions) -> Result<String> {
    let bad = |s: &str| s.chars().any(|c| c <= '\u{20}');
    if bad(name) || bad(value) || name.is_empty() || !name.chars().all(is_legal_cookie_char) {
        return Err(WebError::InvalidCookie(format!("{name}={value}")));
    }
    let mut out = format!("{name}={}", quote_cookie_value(value));
    if let Some(domain) = &options.domain {
        let _ = write!(out, "; Domain={domain}");
    }
    let expires = match options.expires_days {
        Some(days) => Some(
            Duration::try_from_secs_f64(days.max(0.0) * 86400.0)
                .ok()
                .and_then(|after| SystemTime::now().checked_add(after))
                // Beyond what a date can say: the last second of year 9999.
                .unwrap_or(SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799))
                .min(SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799)),
        ),
        None => options.expires,
    };
    if let Some(expires) = expires {
        let _ = write!(out, "; expires={}", format_timestamp(expires));
    }
    if options.httponly {
        out.push_str("; HttpOnly");
    }
    if let Some(max_age) = options.max_age {
        let _ = write!(out, "; Max-Age={max_age}");
    }
    if let Some(path) = &options.path {
        let _ = write!(out, "; Path={path}");
    }
    if let Some(samesite) = &options.samesite {
        let _ = write!(out, "; SameSite={samesite}");
    }
    if options.secure {
        out.push_str("; Secure");
    }
    if out.contains(['\r', '\n']) {
        return Err(WebError::InvalidCookie(name.to_owned()));
    }
    Ok(out)
}

/// HMAC-SHA256 of `data` with `secret`, in lowercase hex (Tornado's `_create_signature_v2`).
fn signature_v2(secret: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("invariant: HMAC takes any key");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Seconds since the epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Signs `value` under `name` in Tornado's v2 format (`create_signed_value` with
/// `version=2`): `2|1:0|10:<timestamp>|<len>:<name>|<len>:<base64 value>|<hex hmac-sha256>`.
///
/// # Examples
///
/// ```
/// use typhoon_web::cookies::{create_signed_value, decode_signed_value};
///
/// let signed = create_signed_value(b"secret", "user", b"ben", 1_300_000_000);
/// assert!(signed.starts_with("2|1:0|10:1300000000|4:user|4:YmVu|"));
/// let now = 1_300_000_000 + 60;
/// assert_eq!(decode_signed_value(b"secret", "user", &signed, 31.0, now).as_deref(), Some(&b"ben"[..]));
/// assert_eq!(decode_signed_value(b"other", "user", &signed, 31.0, now), None);
/// ```
pub fn create_signed_value(secret: &[u8], name: &str, value: &[u8], timestamp: u64) -> String {
    create_signed_value_versioned(secret, 0, name, value, timestamp)
}

/// As [`create_signed_value`], recording `key_version` (Tornado's `key_version` argument with a
/// dict `cookie_secret`): the verifier picks the key by this number, so keys can be rotated
/// while cookies signed with older ones stay valid.
///
/// # Examples
///
/// A value Tornado 6.6 made with `cookie_secret={1: "old-secret", 2: "new-secret"}` and
/// `key_version=2`:
///
/// ```
/// use std::collections::BTreeMap;
/// use typhoon_web::cookies::{create_signed_value_versioned, decode_signed_value_versioned};
///
/// let tornado = "2|1:2|10:1700000000|4:user|4:YmVu|aa99d94a91bc31262eab1a1a5f4caea869dcd9bdc663bac362130c437d3262cb";
/// assert_eq!(create_signed_value_versioned(b"new-secret", 2, "user", b"ben", 1_700_000_000), tornado);
/// let keys = BTreeMap::from([(1, "old-secret".to_owned()), (2, "new-secret".to_owned())]);
/// let now = 1_700_000_060;
/// assert_eq!(decode_signed_value_versioned(&keys, "user", tornado, 31.0, now).as_deref(), Some(&b"ben"[..]));
/// ```
pub fn create_signed_value_versioned(
    secret: &[u8],
    key_version: u32,
    name: &str,
    value: &[u8],
    timestamp: u64,
) -> String {
    let field = |s: &str| format!("{}:{s}", s.len());
    let timestamp = timestamp.to_string();
    let mut to_sign = String::from("2|");
    for part in [
        field(&key_version.to_string()),
        field(&timestamp),
        field(name),
        field(&STANDARD.encode(value)),
    ] {
        to_sign.push_str(&part);
        to_sign.push('|');
    }
    let signature = signature_v2(secret, to_sign.as_bytes());
    to_sign + &signature
}

/// Verifies a v2 signed value against versioned keys (Tornado's dict `cookie_secret`): the
/// key is the one numbered by the value's key version; an unknown version fails.
pub fn decode_signed_value_versioned(
    keys: &std::collections::BTreeMap<u32, String>,
    name: &str,
    value: &str,
    max_age_days: f64,
    now: u64,
) -> Option<Vec<u8>> {
    decode_v2(
        |version| {
            let version: u32 = std::str::from_utf8(version).ok()?.parse().ok()?;
            keys.get(&version).map(String::as_bytes)
        },
        name,
        value,
        max_age_days,
        now,
    )
}

/// Verifies and decodes a v2 signed value (Tornado's `decode_signed_value`): `None` if the
/// signature, the name or the format is wrong, or the timestamp is older than `max_age_days`
/// before `now` (seconds since the epoch).
///
/// With a single secret the key version field is not checked, as in Tornado.
pub fn decode_signed_value(
    secret: &[u8],
    name: &str,
    value: &str,
    max_age_days: f64,
    now: u64,
) -> Option<Vec<u8>> {
    decode_v2(|_| Some(secret), name, value, max_age_days, now)
}

/// Tornado's `_decode_signed_value_v2`, with the key chosen by the value's key version.
fn decode_v2<'k>(
    key_for: impl Fn(&[u8]) -> Option<&'k [u8]>,
    name: &str,
    value: &str,
    max_age_days: f64,
    now: u64,
) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let rest = bytes.strip_prefix(b"2|")?;
    fn field(s: &[u8]) -> Option<(&[u8], &[u8])> {
        let colon = s.iter().position(|&c| c == b':')?;
        let n: usize = std::str::from_utf8(&s[..colon]).ok()?.parse().ok()?;
        let rest = &s[colon + 1..];
        let value = rest.get(..n)?;
        if rest.get(n) != Some(&b'|') {
            return None;
        }
        Some((value, &rest[n + 1..]))
    }
    let (key_version, rest) = field(rest)?;
    let (timestamp, rest) = field(rest)?;
    let (name_field, rest) = field(rest)?;
    let (value_field, passed) = field(rest)?;
    let secret = key_for(key_version)?;
    let signed = &bytes[..bytes.len() - passed.len()];
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(signed);
    let passed = hex::decode(passed).ok()?;
    mac.verify_slice(&passed).ok()?;
    if name_field != name.as_bytes() {
        return None;
    }
    let timestamp: u64 = std::str::from_utf8(timestamp).ok()?.parse().ok()?;
    if (timestamp as f64) < now as f64 - max_age_days * 86400.0 {
        return None;
    }
    STANDARD.decode(value_field).ok()
}

/// XORs `data` with the 4-byte `mask` repeated (Tornado's `_websocket_mask`).
fn mask_bytes(mask: &[u8], data: &[u8]) -> Vec<u8> {
    data.iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % mask.len().max(1)])
        .collect()
}

/// Fills `out` with random bytes from the kernel (`/dev/urandom`), falling back to a
/// time-and-address seeded generator only if that device cannot be read.
pub(crate) fn random_bytes(out: &mut [u8]) {
    use std::io::Read;
    if let Ok(mut file) = std::fs::File::open("/dev/urandom")
        && file.read_exact(out).is_ok()
    {
        return;
    }
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (out.as_ptr() as u64);
    for b in out.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *b = seed as u8;
    }
}

/// Encodes an XSRF token in Tornado's masked v2 form: `2|<mask hex>|<masked token hex>|<ts>`.
pub fn encode_xsrf_token(token: &[u8], timestamp: u64) -> String {
    let mut mask = [0u8; 4];
    random_bytes(&mut mask);
    format!(
        "2|{}|{}|{timestamp}",
        hex::encode(mask),
        hex::encode(mask_bytes(&mask, token))
    )
}

/// Decodes an XSRF token or cookie (Tornado's `_decode_xsrf_token`): the v2 masked form, or a
/// v1 hex token. Returns the raw token and its timestamp.
pub fn decode_xsrf_token(text: &str) -> Option<(Vec<u8>, u64)> {
    let first = text.split('|').next()?;
    let versioned = !first.is_empty()
        && !first.starts_with('0')
        && first.bytes().all(|c| c.is_ascii_digit())
        && text.contains('|');
    if versioned {
        if first != "2" {
            return None;
        }
        let parts: Vec<&str> = text.split('|').collect();
        let [_, mask, masked, timestamp] = parts.as_slice() else {
            return None;
        };
        let mask = hex::decode(mask).ok()?;
        let token = mask_bytes(&mask, &hex::decode(masked).ok()?);
        Some((token, timestamp.parse().ok()?))
    } else {
        let token = hex::decode(text).unwrap_or_else(|_| text.as_bytes().to_vec());
        Some((token, unix_now()))
    }
}

/// Constant-time equality.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_days_beyond_any_date_is_capped_not_a_panic() {
        for days in [f64::MAX, f64::INFINITY, 1e300] {
            let options = CookieOptions {
                expires_days: Some(days),
                ..CookieOptions::default()
            };
            let cookie = format_set_cookie("a", "b", &options).expect("formats");
            assert!(
                cookie.contains("expires=Fri, 31 Dec 9999 23:59:59 GMT"),
                "{cookie}"
            );
        }
    }

    #[test]
    fn cookie_quoting() {
        assert_eq!(quote_cookie_value("abc"), "abc");
        assert_eq!(quote_cookie_value("a=b"), "\"a=b\"");
        assert_eq!(quote_cookie_value("a;b,c\"d"), "\"a\\073b\\054c\\\"d\"");
    }

    #[test]
    fn xsrf_roundtrip() {
        let token = [7u8; 16];
        let encoded = encode_xsrf_token(&token, 1234);
        assert_eq!(decode_xsrf_token(&encoded), Some((token.to_vec(), 1234)));
    }
}
