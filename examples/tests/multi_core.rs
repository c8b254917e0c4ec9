//! The `multi_core` example: two loops on one port. Every request on a new connection
//! succeeds and names a loop in range; over many connections both loops answer (the kernel
//! hashes each connection to a socket, so a run of only one loop is possible but has odds of
//! 2^-63 at 64 connections; more are tried before failing).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use typhoon_examples::multi_core::{default_loops, start};
use typhoon_testing::{raw_request, run_test_with_timeout};

#[test]
fn two_loops_share_the_port() {
    let server = start(2, 0, "127.0.0.1").expect("start");
    let addr = server.local_addr();
    assert_eq!(server.loops(), 2);
    let seen = run_test_with_timeout(Duration::from_secs(30), async move {
        let mut seen = BTreeSet::new();
        for i in 0..512 {
            let reply = raw_request(
                addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            let text = String::from_utf8_lossy(&reply).into_owned();
            assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
            let (_, body) = text.split_once("\r\n\r\n").expect("a body");
            let who: Value = serde_json::from_str(body).expect("JSON");
            assert_eq!(who["loops"], 2);
            let id = who["loop"].as_u64().expect("a loop id");
            assert!(id < 2, "{who}");
            assert_eq!(who["thread"], format!("typhoon-loop-{id}"));
            seen.insert(id);
            if i >= 63 && seen.len() == 2 {
                break;
            }
        }
        seen
    });
    server.stop();
    assert_eq!(seen.len(), 2, "only loop(s) {seen:?} answered");
}

#[test]
fn at_least_one_loop() {
    assert!(default_loops() >= 1);
    let server = start(0, 0, "127.0.0.1").expect("start");
    assert_eq!(server.loops(), 1);
    server.stop();
}
