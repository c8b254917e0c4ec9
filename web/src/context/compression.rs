//! Response compression: Tornado's `GZipContentEncoding`, plus the `deflate` coding.
//!
//! Which coding a client accepts is read from `Accept-Encoding` with its q-values
//! (RFC 9110, section 12.5.3): `gzip;q=0` refuses gzip, where Tornado's substring test would
//! still send it. `deflate` is the zlib format (RFC 9110, section 8.4.1.2), flate2's
//! `ZlibEncoder`.

use std::io::Write;

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};

/// Tornado's compression level (`GZipContentEncoding.GZIP_LEVEL`).
const LEVEL: u32 = 6;

/// A content coding the server can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// `gzip`.
    Gzip,
    /// `deflate` (zlib-wrapped).
    Deflate,
}

impl Coding {
    /// The `Content-Encoding` value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
        }
    }
}

/// The coding to use for a client that sent `accept_encoding`: the acceptable one (q > 0) with
/// the higher q-value, gzip on a tie; `*` stands for a coding not named. `None` when neither is
/// acceptable, or a q-value cannot be read for the one that would be chosen.
pub(crate) fn negotiate(accept_encoding: &str) -> Option<Coding> {
    let mut gzip: Option<f32> = None;
    let mut deflate: Option<f32> = None;
    let mut any: Option<f32> = None;
    for member in accept_encoding.split(',') {
        let mut parts = member.split(';');
        let name = parts.next().unwrap_or("").trim();
        let mut q = 1.0f32;
        for param in parts {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("q") {
                // An unreadable weight: treat the coding as refused rather than guess.
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(0.0);
            }
        }
        let slot = if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if name.eq_ignore_ascii_case("deflate") {
            &mut deflate
        } else if name == "*" {
            &mut any
        } else {
            continue;
        };
        // A coding named twice keeps its highest weight.
        *slot = Some(slot.map_or(q, |old: f32| old.max(q)));
    }
    let gzip = gzip.or(any).unwrap_or(0.0);
    let deflate = deflate.or(any).unwrap_or(0.0);
    if gzip <= 0.0 && deflate <= 0.0 {
        None
    } else if gzip >= deflate {
        Some(Coding::Gzip)
    } else {
        Some(Coding::Deflate)
    }
}

/// Tornado's `GZipContentEncoding._compressible_type`, for the bare media type.
pub(crate) fn compressible_type(ctype: &str) -> bool {
    ctype.starts_with("text/")
        || matches!(
            ctype,
            "application/javascript"
                | "application/x-javascript"
                | "application/xml"
                | "application/atom+xml"
                | "application/json"
                | "application/xhtml+xml"
                | "image/svg+xml"
        )
}

/// A streaming encoder for one response body.
pub(crate) enum Encoder {
    /// gzip.
    Gzip(GzEncoder<Vec<u8>>),
    /// deflate.
    Deflate(ZlibEncoder<Vec<u8>>),
}

impl Encoder {
    /// A new encoder for `coding`.
    pub(crate) fn new(coding: Coding) -> Self {
        match coding {
            Coding::Gzip => Self::Gzip(GzEncoder::new(Vec::new(), Compression::new(LEVEL))),
            Coding::Deflate => Self::Deflate(ZlibEncoder::new(Vec::new(), Compression::new(LEVEL))),
        }
    }

    /// Compresses `data`, flushes, and hands back everything produced so far (a sync flush, so
    /// the client can decode what it has: what a `flush()` of the response promises).
    pub(crate) fn push(&mut self, data: &[u8]) -> Vec<u8> {
        // Writes into a Vec cannot fail.
        match self {
            Self::Gzip(e) => {
                let _ = e.write_all(data);
                let _ = e.flush();
                std::mem::take(e.get_mut())
            }
            Self::Deflate(e) => {
                let _ = e.write_all(data);
                let _ = e.flush();
                std::mem::take(e.get_mut())
            }
        }
    }

    /// Compresses `data` and ends the stream (the gzip trailer, the zlib checksum).
    pub(crate) fn finish(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Gzip(mut e) => {
                let _ = e.write_all(data);
                e.finish().unwrap_or_default()
            }
            Self::Deflate(mut e) => {
                let _ = e.write_all(data);
                e.finish().unwrap_or_default()
            }
        }
    }
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Gzip(_) => "Encoder::Gzip",
            Self::Deflate(_) => "Encoder::Deflate",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_reads_q_values() {
        let cases: &[(&str, Option<Coding>)] = &[
            ("", None),
            ("identity", None),
            ("br", None),
            ("gzip", Some(Coding::Gzip)),
            ("GZIP", Some(Coding::Gzip)),
            ("x-gzip", Some(Coding::Gzip)),
            ("deflate", Some(Coding::Deflate)),
            ("gzip, deflate", Some(Coding::Gzip)),
            ("deflate, gzip, br, zstd", Some(Coding::Gzip)),
            ("gzip;q=0", None),
            ("gzip; q=0.0, deflate", Some(Coding::Deflate)),
            ("gzip;q=0.4, deflate;q=0.5", Some(Coding::Deflate)),
            ("gzip;q=0.5, deflate;q=0.5", Some(Coding::Gzip)),
            ("*", Some(Coding::Gzip)),
            ("*;q=0", None),
            ("*, gzip;q=0", Some(Coding::Deflate)),
            ("deflate;q=0, *", Some(Coding::Gzip)),
            ("gzip;q=banana", None),
            ("gzip;q=2", None),
            ("gzip;q=0, gzip", Some(Coding::Gzip)),
        ];
        for (header, want) in cases {
            assert_eq!(negotiate(header), *want, "{header:?}");
        }
    }

    #[test]
    fn encoders_round_trip_across_flushes() {
        use std::io::Read;
        for coding in [Coding::Gzip, Coding::Deflate] {
            let mut encoder = Encoder::new(coding);
            let mut wire = encoder.push(b"hello, ");
            assert!(!wire.is_empty(), "a flush hands back bytes");
            wire.extend(encoder.push(b"compressed "));
            wire.extend(encoder.finish(b"world"));
            let mut out = String::new();
            match coding {
                Coding::Gzip => flate2::read::GzDecoder::new(&wire[..]).read_to_string(&mut out),
                Coding::Deflate => {
                    flate2::read::ZlibDecoder::new(&wire[..]).read_to_string(&mut out)
                }
            }
            .expect("decodes");
            assert_eq!(out, "hello, compressed world", "{coding:?}");
        }
    }

    #[test]
    fn compressible_types() {
        assert!(compressible_type("text/html"));
        assert!(compressible_type("application/json"));
        assert!(compressible_type("image/svg+xml"));
        assert!(!compressible_type("image/png"));
        assert!(!compressible_type("application/octet-stream"));
    }
}
