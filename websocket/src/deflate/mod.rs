//! permessage-deflate (RFC 7692): negotiating it in the opening handshake
//! ([`server_negotiate`], [`client_offer`], [`client_accept`]) and the per-connection
//! compressor and decompressor ([`Deflater`], [`Inflater`]) that the
//! [`Encoder`](crate::Encoder) and [`Decoder`](crate::Decoder) use.
//!
//! # Memory
//!
//! zlib's state is `(1 << (window_bits + 2)) + 128 KiB` for compression (memLevel 8, which
//! flate2 does not let us change: 256 KiB at 15 bits) and `1 << window_bits` plus about 7 KiB
//! for decompression. A side that keeps its context (context takeover) keeps that state for the
//! connection's life, allocated on its first message. A side without context takeover carries
//! nothing between messages, so it borrows a state from its thread's pool for one message and
//! gives it back: an idle connection holds no zlib memory.
//!
//! That is why [`DeflateOptions::default`] differs from Tornado: it asks for
//! `server_no_context_takeover` and `client_no_context_takeover` (a server may require both even
//! when the client did not offer them, RFC 7692 §7.1.1), with 15-bit windows. Connections then
//! cost the same few KiB idle with compression as without (Tornado's defaults, context takeover
//! with 15-bit windows, cost 165 KiB each), and each message is compressed on its own, which
//! loses the gain of repeating earlier messages. For a few connections exchanging many similar
//! messages, set both to `false` (Tornado's behaviour), and smaller `*_max_window_bits` to
//! bound the memory that then stays with each connection.
//!
//! # Example
//!
//! ```
//! use typhoon_websocket::deflate::{DeflateOptions, client_accept, client_offer, server_negotiate};
//! use typhoon_websocket::Role;
//!
//! let options = DeflateOptions::default();
//! let offer = client_offer(&options);
//! let (server_params, response) = server_negotiate(&[offer.as_str()], &options).unwrap();
//! let client_params = client_accept(&response, &options).unwrap();
//! assert_eq!(server_params, client_params);
//! let (_deflater, _inflater) = server_params.codec(Role::Server, options.compression_level);
//! ```

mod codec;
mod negotiate;
mod pool;

pub use codec::{Deflater, Inflater};
pub use negotiate::{DeflateOptions, DeflateParams, client_accept, client_offer, server_negotiate};
