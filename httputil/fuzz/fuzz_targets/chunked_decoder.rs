//! The chunked decoder over arbitrary bytes, fed whole and one byte at a time: never a panic,
//! the same body, the same consumed count and the same error either way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use typhoon_httputil::h1::{Chunk, ChunkedDecoder, Limits};

/// Body, bytes consumed when done (None if not done), and the error status if any.
fn decode(data: &[u8], step: usize, limits: &Limits) -> (Vec<u8>, Option<usize>, Option<u16>) {
    let mut d = ChunkedDecoder::new(limits);
    let mut body = Vec::new();
    let mut fed = 0;
    let mut consumed = 0;
    while fed < data.len() {
        fed = (fed + step).min(data.len());
        loop {
            match d.decode(&data[consumed..fed]) {
                Ok((n, chunk)) => {
                    consumed += n;
                    match chunk {
                        Chunk::Data(bytes) => {
                            assert!(!bytes.is_empty());
                            body.extend_from_slice(bytes);
                        }
                        Chunk::NeedMore => {
                            assert_eq!(consumed, fed);
                            break;
                        }
                        Chunk::Done => return (body, Some(consumed), None),
                    }
                }
                Err(e) => return (body, None, Some(e.status())),
            }
        }
    }
    (body, None, None)
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_body_size: 4096,
        max_chunk_line_len: 64,
        max_chunk_extensions_size: 256,
        max_trailer_size: 256,
        ..Limits::default()
    };
    let whole = decode(data, usize::MAX / 2, &limits);
    let bytewise = decode(data, 1, &limits);
    // Data delivered before an error may differ in how much of it arrived; the verdict may not.
    assert_eq!(whole.1, bytewise.1);
    assert_eq!(whole.2, bytewise.2);
    if whole.2.is_none() {
        assert_eq!(whole.0, bytewise.0);
    }
    assert!(whole.0.len() as u64 <= limits.max_body_size);
});
