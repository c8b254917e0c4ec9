//! A gzip bomb costs the client no more memory than `max_body_size` and one inflate step.
//!
//! The only test of its binary: it measures the process's peak resident memory, which tests
//! running beside it would disturb.

mod util;

use std::io::Write;
use std::sync::Arc;

use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, HTTPRequest};
use typhoon_testing::run_test;
use util::raw_server;

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    let kib: u64 = line
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("a number of kB");
    kib * 1024
}

/// Resets the peak resident size (`VmHWM`) to the current one (Linux 4.0+).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM through clear_refs");
}

#[test]
fn gzip_bomb_peak_memory_stays_within_the_limit() {
    // 64 MiB of zeros: about 64 KiB on the wire, 16 MiB of it per 16 KiB read.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let piece = vec![0u8; 64 * 1024];
    for _ in 0..1024 {
        encoder.write_all(&piece).expect("in memory");
    }
    let bomb = Arc::new(encoder.finish().expect("in memory"));
    let served = Arc::clone(&bomb);
    let base = raw_server(move |stream| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            served.len()
        );
        let _ = stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(&served));
    });
    run_test(async move {
        const LIMIT: u64 = 1 << 20;
        // Room for what is not the decoded body: the stream's read buffer, the inflater's
        // window and 32 KiB step, the server thread's stack, allocator slack.
        const SLACK: u64 = 4 << 20;
        let client = AsyncHTTPClient::new();
        let request = HTTPRequest::new(format!("{base}/bomb")).max_body_size(LIMIT);
        reset_peak();
        let before = status_bytes("VmRSS");
        let result = client.fetch(request).await;
        let peak = status_bytes("VmHWM").saturating_sub(before);
        assert!(
            matches!(result, Err(HTTPClientError::BodyTooLarge { limit: LIMIT })),
            "{result:?}"
        );
        assert!(
            peak <= LIMIT + SLACK,
            "the fetch raised the resident size by {} KiB (limit {} KiB + {} KiB slack)",
            peak / 1024,
            LIMIT / 1024,
            SLACK / 1024
        );
    });
}
