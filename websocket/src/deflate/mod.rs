//! permessage-deflate (RFC 7692): negotiating it in the opening handshake
//! ([`server_negotiate`], [`client_offer`], [`client_accept`]) and the per-connection
//! compressor and decompressor ([`Deflater`], [`Inflater`]) that the
//! [`Encoder`](crate::Encoder) and [`Decoder`](crate::Decoder) use.
//!
//! # Memory
//!
//! zlib's state is `(1 << (window_bits + 2)) + 128 KiB` for compression (memLevel 8, which
//! flate2 does not let us change) and `1 << window_bits` plus about 7 KiB for decompression.
//! Both are allocated on the first message, not at negotiation, so an idle connection costs
//! nothing; with `*_no_context_takeover` the state is reset (not freed) between messages.
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

pub use codec::{Deflater, Inflater};
pub use negotiate::{DeflateOptions, DeflateParams, client_accept, client_offer, server_negotiate};
