//! The `Sec-WebSocket-Extensions` negotiation of permessage-deflate (RFC 7692 §5, §7).

use crate::error::ProtocolError;

/// The extension's token.
const NAME: &str = "permessage-deflate";

/// What an endpoint is willing to use: Tornado's `get_compression_options()`, plus window
/// sizes.
///
/// Window bits are 8..=15 (a window of `1 << bits` bytes); smaller windows use less memory
/// per connection and compress less (see the [module docs](super#memory)). Values outside
/// 8..=15 are clamped into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateOptions {
    /// zlib level, 0 (store) to 9 (best); Tornado's and zlib's default is 6.
    pub compression_level: u32,
    /// The largest window the server may compress with (15).
    pub server_max_window_bits: u8,
    /// The largest window the client may compress with (15).
    pub client_max_window_bits: u8,
    /// Ask (client) or require (server) that the server resets its compressor after every
    /// message (default true: no zlib memory per idle connection; see the
    /// [module docs](super#memory)).
    pub server_no_context_takeover: bool,
    /// Ask (client) or require (server) that the client resets its compressor after every
    /// message (default true, for the same reason).
    pub client_no_context_takeover: bool,
}

impl Default for DeflateOptions {
    fn default() -> Self {
        Self {
            compression_level: 6,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
        }
    }
}

/// What the handshake agreed; both ends compute the same value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor (and the client its decompressor) after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor (and the server its decompressor) after every message.
    pub client_no_context_takeover: bool,
    /// The server compresses with at most this window (8..=15).
    pub server_max_window_bits: u8,
    /// The client compresses with at most this window (8..=15).
    pub client_max_window_bits: u8,
}

/// One parameter of an offer or response: name and value (unquoted), if any.
type Param<'a> = (&'a str, Option<&'a str>);

/// Splits a header value into elements at commas outside quoted strings, and each element into
/// its `;`-separated parts, trimmed. `None` if a quoted string is unterminated.
fn split_elements(value: &str) -> Option<Vec<Vec<&str>>> {
    let mut elements = Vec::new();
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ';' | ',' => {
                parts.push(value[start..i].trim());
                start = i + 1;
                if c == ',' {
                    elements.push(std::mem::take(&mut parts));
                }
            }
            _ => {}
        }
    }
    if quoted {
        return None;
    }
    parts.push(value[start..].trim());
    elements.push(parts);
    // Empty list elements (`a, , b`) are allowed by RFC 7230 §7 and mean nothing.
    elements.retain(|parts| !(parts.len() == 1 && parts[0].is_empty()));
    Some(elements)
}

/// Whether `s` is an RFC 7230 token.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses one element's parts into the extension name and its parameters; `None` if malformed.
fn parse_element<'a>(parts: &[&'a str]) -> Option<(&'a str, Vec<Param<'a>>)> {
    let (name, rest) = parts.split_first()?;
    if !is_token(name) {
        return None;
    }
    let mut params = Vec::with_capacity(rest.len());
    for part in rest {
        let (key, value) = match part.split_once('=') {
            None => (*part, None),
            Some((key, value)) => {
                let value = value.trim();
                let value = match value.strip_prefix('"') {
                    // Our parameters' values are tokens, so a quoted one has no escapes.
                    Some(inner) => inner.strip_suffix('"').filter(|v| is_token(v))?,
                    None if is_token(value) => value,
                    None => return None,
                };
                (key.trim_end(), Some(value))
            }
        };
        if !is_token(key) {
            return None;
        }
        params.push((key, value));
    }
    Some((name, params))
}

/// Window bits as RFC 7692 §7.1.2.1 writes them: 8..=15, decimal, no leading zeros.
fn parse_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

/// The parameters of one permessage-deflate element, checked for duplicates and values.
#[derive(Debug, Default)]
struct Parsed {
    /// `server_no_context_takeover` was present.
    server_no_context_takeover: bool,
    /// `client_no_context_takeover` was present.
    client_no_context_takeover: bool,
    /// `server_max_window_bits=N`.
    server_max_window_bits: Option<u8>,
    /// `client_max_window_bits`: absent, valueless (`Some(None)`) or with a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// Why a parameter list was refused: the offending parameter's name.
struct BadParam(String);

/// Checks `params`; `allow_valueless_client_bits` is true for offers (RFC 7692 §7.1.2.2).
fn parse_params(
    params: &[Param<'_>],
    allow_valueless_client_bits: bool,
) -> Result<Parsed, BadParam> {
    let mut parsed = Parsed::default();
    for &(key, value) in params {
        let bad = || BadParam(key.to_owned());
        if key.eq_ignore_ascii_case("server_no_context_takeover") {
            if parsed.server_no_context_takeover || value.is_some() {
                return Err(bad());
            }
            parsed.server_no_context_takeover = true;
        } else if key.eq_ignore_ascii_case("client_no_context_takeover") {
            if parsed.client_no_context_takeover || value.is_some() {
                return Err(bad());
            }
            parsed.client_no_context_takeover = true;
        } else if key.eq_ignore_ascii_case("server_max_window_bits") {
            let bits = value.and_then(parse_bits).ok_or_else(bad)?;
            if parsed.server_max_window_bits.replace(bits).is_some() {
                return Err(bad());
            }
        } else if key.eq_ignore_ascii_case("client_max_window_bits") {
            let bits = match value {
                None if allow_valueless_client_bits => None,
                None => return Err(bad()),
                Some(v) => Some(parse_bits(v).ok_or_else(bad)?),
            };
            if parsed.client_max_window_bits.replace(bits).is_some() {
                return Err(bad());
            }
        } else {
            return Err(bad());
        }
    }
    Ok(parsed)
}

/// Clamps configured window bits into 8..=15.
fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(8, 15)
}

/// Server: picks the first acceptable `permessage-deflate` offer among the
/// `Sec-WebSocket-Extensions` header values (each may list several comma-separated offers, with
/// `;` parameters and quoted values), and returns the agreed parameters and the response header
/// value. `None` means no offer was acceptable: run uncompressed.
///
/// An offer with an unknown parameter, an invalid value (window bits are 8..=15 without leading
/// zeros; a valueless `client_max_window_bits` is allowed), a duplicate parameter or bad syntax is
/// declined, never an error (RFC 7692 §7). So is an offer of `server_max_window_bits=8`, which
/// zlib cannot compress with. Header values that fail to split (an unterminated quote) are
/// skipped whole.
///
/// The agreement: each `*_no_context_takeover` if the offer or `options` asks for it; the
/// server's window is the smaller of the offer's and `options.server_max_window_bits` (at
/// least 9); the client's is the smaller of the offer's and `options.client_max_window_bits`
/// (at least 9) if the offer has `client_max_window_bits`, else 15 (the response may not
/// restrict it then).
/// The response echoes the offered parameters with the agreed values, plus what `options` adds.
///
/// # Examples
///
/// ```
/// use typhoon_websocket::deflate::{DeflateOptions, server_negotiate};
/// // Tornado's options: context takeover both ways.
/// let tornado = DeflateOptions {
///     server_no_context_takeover: false,
///     client_no_context_takeover: false,
///     ..DeflateOptions::default()
/// };
/// let (params, response) = server_negotiate(
///     &["permessage-deflate; foo=bar, permessage-deflate; server_max_window_bits=10"],
///     &tornado,
/// )
/// .unwrap();
/// assert_eq!(params.server_max_window_bits, 10);
/// assert_eq!(response, "permessage-deflate; server_max_window_bits=10");
/// // The defaults also require both sides to reset after every message.
/// let (_, response) = server_negotiate(&["permessage-deflate"], &DeflateOptions::default()).unwrap();
/// assert_eq!(
///     response,
///     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
/// );
/// ```
pub fn server_negotiate(
    offers: &[&str],
    options: &DeflateOptions,
) -> Option<(DeflateParams, String)> {
    offers
        .iter()
        .filter_map(|value| split_elements(value))
        .flatten()
        .find_map(|parts| {
            let (name, params) = parse_element(&parts)?;
            if !name.eq_ignore_ascii_case(NAME) {
                return None;
            }
            let offer = parse_params(&params, true).ok()?;
            accept_offer(&offer, options)
        })
}

/// The agreement and response for one well-formed offer, or `None` to decline it.
fn accept_offer(offer: &Parsed, options: &DeflateOptions) -> Option<(DeflateParams, String)> {
    // We compress with the server's window; zlib's raw deflate cannot use 8.
    let ours = clamp_bits(options.server_max_window_bits).max(9);
    let server_bits = match offer.server_max_window_bits {
        Some(8) => return None,
        Some(offered) => offered.min(ours),
        None => ours,
    };
    let client_bits = match offer.client_max_window_bits {
        // Our own choice is at least 9: zlib-based clients cannot compress with 8 bits. A
        // client that offers 8 itself gets 8.
        Some(hint) => hint
            .unwrap_or(15)
            .min(clamp_bits(options.client_max_window_bits).max(9)),
        None => 15,
    };
    let params = DeflateParams {
        server_no_context_takeover: offer.server_no_context_takeover
            || options.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || options.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    };
    let mut response = String::from(NAME);
    if params.server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if params.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    if offer.server_max_window_bits.is_some() || server_bits < 15 {
        response.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    if matches!(offer.client_max_window_bits, Some(Some(_))) || client_bits < 15 {
        response.push_str(&format!("; client_max_window_bits={client_bits}"));
    }
    Some((params, response))
}

/// Client: the `Sec-WebSocket-Extensions` offer for `options`.
///
/// It always offers `client_max_window_bits` (valueless when
/// `options.client_max_window_bits` is 15), so the server may shrink the client's window.
///
/// # Examples
///
/// ```
/// use typhoon_websocket::deflate::{DeflateOptions, client_offer};
/// assert_eq!(
///     client_offer(&DeflateOptions::default()),
///     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
///      client_max_window_bits"
/// );
/// ```
pub fn client_offer(options: &DeflateOptions) -> String {
    let mut offer = String::from(NAME);
    if options.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if options.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    let server_bits = clamp_bits(options.server_max_window_bits);
    if server_bits < 15 {
        offer.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    match client_offer_bits(options) {
        15 => offer.push_str("; client_max_window_bits"),
        bits => offer.push_str(&format!("; client_max_window_bits={bits}")),
    }
    offer
}

/// The client window [`client_offer`] offers: we compress with it, so at least 9.
fn client_offer_bits(options: &DeflateOptions) -> u8 {
    clamp_bits(options.client_max_window_bits).max(9)
}

/// Client: checks the server's `Sec-WebSocket-Extensions` response to
/// [`client_offer(options)`](client_offer) and returns the agreed parameters.
///
/// # Errors
///
/// Each fails the connection (RFC 7692 §7): [`ProtocolError::MalformedExtensionHeader`] if the
/// value does not parse; [`ProtocolError::UnexpectedExtension`] for an extension other than
/// permessage-deflate or more than one; [`ProtocolError::InvalidExtensionParam`] for an unknown,
/// duplicate or valueless-where-a-value-is-needed parameter, or a window larger than offered;
/// [`ProtocolError::MissingExtensionParam`] if the server did not answer
/// `server_no_context_takeover` or `server_max_window_bits` that were offered;
/// [`ProtocolError::UnsupportedWindowBits`] if it asks the client to compress with 8 bits.
///
/// # Examples
///
/// ```
/// use typhoon_websocket::deflate::{DeflateOptions, client_accept};
/// let options = DeflateOptions {
///     server_no_context_takeover: false,
///     client_no_context_takeover: false,
///     ..DeflateOptions::default()
/// };
/// let params = client_accept("permessage-deflate; client_max_window_bits=10", &options).unwrap();
/// assert_eq!(params.client_max_window_bits, 10);
/// assert!(client_accept("permessage-deflate; foo", &options).is_err());
/// ```
pub fn client_accept(
    response: &str,
    options: &DeflateOptions,
) -> Result<DeflateParams, ProtocolError> {
    let elements = split_elements(response).ok_or(ProtocolError::MalformedExtensionHeader)?;
    let [parts] = elements.as_slice() else {
        return Err(ProtocolError::UnexpectedExtension(
            response.trim().to_owned(),
        ));
    };
    let (name, params) = parse_element(parts).ok_or(ProtocolError::MalformedExtensionHeader)?;
    if !name.eq_ignore_ascii_case(NAME) {
        return Err(ProtocolError::UnexpectedExtension(name.to_owned()));
    }
    let answer = parse_params(&params, false)
        .map_err(|BadParam(name)| ProtocolError::InvalidExtensionParam(name))?;
    if options.server_no_context_takeover && !answer.server_no_context_takeover {
        return Err(ProtocolError::MissingExtensionParam(
            "server_no_context_takeover",
        ));
    }
    let offered_server_bits = clamp_bits(options.server_max_window_bits);
    let server_bits = match answer.server_max_window_bits {
        Some(bits) if bits > offered_server_bits => {
            return Err(ProtocolError::InvalidExtensionParam(
                "server_max_window_bits".into(),
            ));
        }
        Some(bits) => bits,
        None if offered_server_bits < 15 => {
            return Err(ProtocolError::MissingExtensionParam(
                "server_max_window_bits",
            ));
        }
        None => 15,
    };
    let offered_client_bits = client_offer_bits(options);
    let client_bits = match answer.client_max_window_bits.flatten() {
        Some(8) => return Err(ProtocolError::UnsupportedWindowBits(8)),
        Some(bits) if bits > offered_client_bits => {
            return Err(ProtocolError::InvalidExtensionParam(
                "client_max_window_bits".into(),
            ));
        }
        Some(bits) => bits,
        None => offered_client_bits,
    };
    Ok(DeflateParams {
        server_no_context_takeover: answer.server_no_context_takeover,
        client_no_context_takeover: answer.client_no_context_takeover
            || options.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_respects_quotes() {
        let elements = split_elements(r#"a; x="1,2", b ;y , , c"#).unwrap();
        assert_eq!(
            elements,
            vec![vec!["a", r#"x="1,2""#], vec!["b", "y"], vec!["c"]]
        );
        assert_eq!(split_elements(r#"a; x="1"#), None);
    }

    #[test]
    fn window_bits_values() {
        for (text, bits) in [
            ("8", Some(8)),
            ("9", Some(9)),
            ("10", Some(10)),
            ("15", Some(15)),
        ] {
            assert_eq!(parse_bits(text), bits);
        }
        for text in ["7", "16", "09", "010", "", "1", "-9", "+9", " 9"] {
            assert_eq!(parse_bits(text), None, "{text}");
        }
    }

    #[test]
    fn quoted_value_accepted() {
        let (params, _) = server_negotiate(
            &[r#"permessage-deflate; server_max_window_bits="12""#],
            &DeflateOptions::default(),
        )
        .unwrap();
        assert_eq!(params.server_max_window_bits, 12);
    }
}
