//! The request-head parser and framing over arbitrary bytes, whole and split in two: never a
//! panic, the split never changes the outcome, and a complete head never consumes more than given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use typhoon_httputil::h1::{Limits, RequestHead, parse_request_head, request_framing};

fn outcome(data: &[u8], limits: &Limits, head: &mut RequestHead) -> Option<Result<usize, u16>> {
    match parse_request_head(data, limits, head) {
        Ok(Some(n)) => {
            assert!(n <= data.len());
            match request_framing(head, limits.max_body_size) {
                Ok(_) => Some(Ok(n)),
                Err(e) => Some(Err(e.status())),
            }
        }
        Ok(None) => None,
        Err(e) => Some(Err(e.status())),
    }
}

fuzz_target!(|data: &[u8]| {
    // Small limits so the fuzzer reaches the 414/431 paths with short inputs.
    let limits = Limits {
        max_header_size: 512,
        max_headers: 8,
        max_uri_len: 128,
        ..Limits::default()
    };
    let mut head = RequestHead::new();
    let whole = outcome(data, &limits, &mut head);
    if data.is_empty() {
        return;
    }
    // A connection re-parses the growing buffer, so a decision on a prefix must be final: a
    // complete head there is the same head in the whole, and a prefix rejected (with whatever
    // status it earned first) means the whole is rejected too.
    let cut = usize::from(data[0]) % data.len();
    match outcome(&data[..cut], &limits, &mut head) {
        Some(Ok(n)) => assert_eq!(whole, Some(Ok(n)), "prefix of {cut} bytes was complete"),
        Some(Err(_)) => assert!(matches!(whole, Some(Err(_))), "prefix of {cut} bytes rejected"),
        None => {}
    }
});
