//! A live fuzzer: random and mutated requests, pipelined and split at random points, sent to a
//! real `HTTPServer` over loopback. After every case it checks that
//!
//! - nothing panicked (a panic hook counts every panic in the process, caught ones included);
//! - the connection ended in an answer or a close, in bounded time;
//! - no connection is left open and the process's fd count is back where it started;
//! - a valid request on a fresh connection is then answered.
//!
//! It runs for `TYPHOON_LIVE_FUZZ_SECS` seconds (default 3; CI runs 30), from the seed
//! `TYPHOON_LIVE_FUZZ_SEED` (default: random, printed so that a failure can be replayed), and
//! prints how many cases it ran.

mod corpus;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use typhoon_httpserver::{HTTPServer, HTTPServerOptions, HTTPServerRequest, ResponseWriter};
use typhoon_ioloop::{timeout, yield_now};
use typhoon_testing::{connect, open_fds, run_test_with_timeout, status_of};

/// Panics anywhere in this process since the hook was installed.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// Echoes the method, path and body; `/stream...` paths read the body in chunks.
async fn echo(mut request: HTTPServerRequest, mut response: ResponseWriter) {
    let mut body = request.body.clone();
    if let Some(mut reader) = request.body_reader() {
        while let Ok(Some(chunk)) = reader.next_chunk().await {
            body.extend_from_slice(&chunk);
        }
    }
    response
        .write(format!("{} {} {}|", request.method, request.path(), request.query()).as_bytes());
    response.write(&body);
    if request.path().starts_with("/flush") {
        let _ = response.flush().await;
        response.write(b"after flush");
    }
}

/// Pieces requests are built from, beside the corpus.
const TOKENS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"OPTIONS ",
    b"CONNECT ",
    b"PUT ",
    b"/",
    b"/stream",
    b"/flush",
    b"?a=1&b",
    b"*",
    b"http://h",
    b"http://a\xe2\x82\xac",
    b"h:80",
    b" HTTP/1.1",
    b" HTTP/1.0",
    b" HTTP/2.0",
    b"\r\n",
    b"\n",
    b"\r",
    b"Host: h\r\n",
    b"Host: a,b\r\n",
    b"Content-Length: 5\r\n",
    b"Content-Length: 0\r\n",
    b"Content-Length: -1\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Expect: 100-continue\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"Content-Encoding: gzip\r\n",
    b" folded\r\n",
    b"X: \x00\r\n",
    b"X-\xff: y\r\n",
    b"5\r\nhello\r\n",
    b"0\r\n\r\n",
    b"ffffffffffffffffff\r\n",
    b"3;ext=1\r\nabc\r\n",
    b"0\r\nT: x\r\n\r\n",
    b"0\r\nbad\r\n\r\n",
    b"hello",
    b"\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
];

/// One case: the bytes to send, in pieces.
fn make_case(rng: &mut fastrand::Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let pick = |rng: &mut fastrand::Rng| -> Vec<u8> {
        match rng.u8(..4) {
            0 => {
                // Tokens strung together.
                let mut out = Vec::new();
                for _ in 0..rng.usize(1..16) {
                    out.extend_from_slice(TOKENS[rng.usize(..TOKENS.len())]);
                }
                out
            }
            1 => (0..rng.usize(0..64)).map(|_| rng.u8(..)).collect(),
            _ => seeds[rng.usize(..seeds.len())].clone(),
        }
    };
    // Pipelining: one to three messages back to back.
    let mut case = Vec::new();
    for _ in 0..rng.usize(1..4) {
        case.extend(pick(rng));
    }
    // Mutations.
    for _ in 0..rng.usize(0..4) {
        if case.is_empty() {
            break;
        }
        let at = rng.usize(..case.len());
        match rng.u8(..5) {
            0 => case[at] = rng.u8(..),
            1 => case[at] ^= 1 << rng.u8(..8),
            2 => {
                case.remove(at);
            }
            3 => {
                let token = TOKENS[rng.usize(..TOKENS.len())];
                case.splice(at..at, token.iter().copied());
            }
            _ => {
                let end = rng.usize(at..=case.len());
                let piece = case[at..end].to_vec();
                case.splice(end..end, piece);
            }
        }
    }
    case
}

/// Sends `case` split at random points, ends the client's side (sometimes), and reads until
/// the server closes. Returns what the server sent, or `None` if it neither answered nor closed.
async fn send_case(
    addr: std::net::SocketAddr,
    case: &[u8],
    rng: &mut fastrand::Rng,
) -> Option<Vec<u8>> {
    let stream = connect(addr).await;
    let mut rest = case;
    while !rest.is_empty() {
        let n = rng.usize(1..=rest.len().min(64)).min(rest.len());
        if stream.write(&rest[..n]).await.is_err() {
            break;
        }
        rest = &rest[n..];
        if rng.bool() {
            yield_now().await;
        }
    }
    // With the client's side ended, the server must answer what it has and close; without, an
    // incomplete head must still end, by the header timeout.
    if rng.u8(..8) != 0 {
        let _ = stream.shutdown_write();
    }
    let reply = timeout(Duration::from_secs(5), stream.read_until_close()).await;
    reply.ok().map(Result::unwrap_or_default)
}

#[test]
fn live_fuzz() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    let seconds = env_number("TYPHOON_LIVE_FUZZ_SECS").unwrap_or(3);
    let seed = env_number("TYPHOON_LIVE_FUZZ_SEED").unwrap_or_else(|| fastrand::u64(..));
    println!("live fuzz: {seconds} s from seed {seed} (TYPHOON_LIVE_FUZZ_SEED={seed} replays it)");
    let seeds: Vec<Vec<u8>> = corpus::cases()
        .into_iter()
        .map(|(_, bytes, _)| bytes)
        .collect();
    let budget = Duration::from_secs(seconds);
    let cases = run_test_with_timeout(budget + Duration::from_secs(60), async move {
        let options = HTTPServerOptions {
            header_timeout: Duration::from_millis(500),
            idle_connection_timeout: Duration::from_millis(500),
            body_inactivity_timeout: Duration::from_millis(500),
            decompress_request: true,
            stream_request_body: Some(std::rc::Rc::new(|request: &HTTPServerRequest| {
                request.path().starts_with("/stream")
            })),
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(echo, options);
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let baseline = open_fds();
        let mut rng = fastrand::Rng::with_seed(seed);
        let start = Instant::now();
        let mut cases = 0u64;
        while start.elapsed() < budget {
            let case = make_case(&mut rng, &seeds);
            let shown = String::from_utf8_lossy(&case).into_owned();
            let reply = send_case(addr, &case, &mut rng).await;
            cases += 1;
            assert!(
                reply.is_some(),
                "case {cases} (seed {seed}): no answer and no close for {shown:?}"
            );
            assert_eq!(
                PANICS.load(Ordering::SeqCst),
                0,
                "case {cases} (seed {seed}) panicked: {shown:?}"
            );
            timeout(Duration::from_secs(5), server.connections_closed())
                .await
                .unwrap_or_else(|_| {
                    panic!("case {cases} (seed {seed}) left a connection open: {shown:?}")
                });
            assert_eq!(
                open_fds(),
                baseline,
                "case {cases} (seed {seed}) leaked an fd: {shown:?}"
            );
            {
                let stream = connect(addr).await;
                stream
                    .write(b"GET /alive HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                    .await
                    .expect("write");
                let reply = timeout(Duration::from_secs(5), stream.read_until_close())
                    .await
                    .expect("answered")
                    .unwrap_or_default();
                assert_eq!(
                    status_of(&reply),
                    Some(200),
                    "after case {cases} (seed {seed})"
                );
            }
        }
        cases
    });
    println!("live fuzz: {cases} cases in {seconds} s, no panic, no leak");
}
