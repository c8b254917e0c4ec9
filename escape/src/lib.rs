//! Tornado's `tornado.escape` for Rust: HTML, URL and JSON escaping, `squeeze`, `linkify` and
//! `parse_qs_bytes`, with outputs identical to Tornado 6.6 byte for byte.
//!
//! This is a leaf of the Typhoon workspace: it depends on no other Typhoon crate and does no I/O.
//! `typhoon-httputil` uses it to decode query strings and form bodies for the server and the
//! client, `typhoon-httpclient` to decode credentials in a URL, `typhoon-template`
//! exposes its functions as template filters, and `typhoon-web` uses it for redirects, cookies
//! and JSON responses.
//!
//! Every function mirrors its Tornado namesake, including the corners: `xhtml_unescape` follows
//! Python's `html.unescape` (all 2231 HTML5 named references, the spec's fix-ups for numeric
//! references), `url_unescape` replaces invalid UTF-8 with U+FFFD exactly where Python does, and
//! `linkify` and `squeeze` use Python's Unicode notion of word characters and whitespace. The
//! integration tests compare every function against a corpus of outputs recorded from Tornado
//! itself (`escape/tests/fixtures/`).
//!
//! # Examples
//!
//! ```
//! use typhoon_escape::{linkify, url_escape, url_unescape, xhtml_escape, xhtml_unescape, LinkifyParams};
//!
//! assert_eq!(xhtml_escape("<a href='x'>&</a>"), "&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;");
//! assert_eq!(xhtml_unescape("&eacute;&#x27;&amp"), "é'&");
//!
//! // plus = true is quote_plus (query strings), plus = false is quote (paths).
//! assert_eq!(url_escape("a b/c", true), "a+b%2Fc");
//! assert_eq!(url_escape("a b/c", false), "a%20b/c");
//! assert_eq!(url_unescape("caf%C3%A9+%ff", true), "café \u{fffd}");
//!
//! assert_eq!(
//!     linkify("see www.tornadoweb.org!", &LinkifyParams::default()),
//!     r#"see <a href="http://www.tornadoweb.org">www.tornadoweb.org</a>!"#
//! );
//! ```
//!
//! With the `json` feature (on by default):
//!
//! ```
//! # #[cfg(feature = "json")] {
//! let out = typhoon_escape::json_encode(&serde_json::json!({"html": "</script>", "é": 1.0e16}))?;
//! assert_eq!(out, r#"{"html": "<\/script>", "\u00e9": 1e+16}"#);
//! # }
//! # Ok::<(), typhoon_escape::EscapeError>(())
//! ```
//!
//! # Feature flags
//!
//! | Feature | Default | Enables |
//! |---------|---------|---------|
//! | `json`  | yes     | [`json_encode`] and [`json_decode`], on `serde_json` |
//!
//! # Differences from Tornado
//!
//! Python's duck typing becomes separate functions: `url_escape_bytes` and `url_unescape_bytes`
//! take and give bytes where Tornado takes `bytes` or passes `encoding=None`. Only UTF-8 is
//! offered as the text encoding. `json_decode` rejects `NaN` and `Infinity`, which Python's
//! `json.loads` accepts, and integers outside `i64`/`u64` become floats.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod html;
#[cfg(feature = "json")]
mod json;
mod scan;
#[rustfmt::skip]
mod tables;
mod text;
mod url;

pub use crate::error::{EscapeError, Result};
pub use crate::html::{xhtml_escape, xhtml_escape_to, xhtml_unescape};
#[cfg(feature = "json")]
pub use crate::json::{json_decode, json_encode};
pub use crate::text::{ExtraParams, LinkifyParams, linkify, squeeze};
pub use crate::url::{
    QueryArgs, parse_qs_bytes, parse_qs_fields, url_escape, url_escape_bytes, url_unescape,
    url_unescape_bytes, url_unescape_cow,
};
