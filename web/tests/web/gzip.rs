//! Response compression: gzip, deflate and `Accept-Encoding` weights.

use std::io::Read;

use typhoon_web::{Context, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::util::{fetch, get, run, serve};

struct Big;
impl RequestHandler for Big {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let n: usize = cx.get_argument_or("n", "2000").parse()?;
        if cx.get_argument_or("vary", "") == "1" {
            cx.set_header("Vary", "Custom")?;
        }
        cx.write("x".repeat(n));
        if cx.get_argument_or("stream", "") == "1" {
            cx.flush().await?;
            cx.write("y".repeat(n));
        }
        Ok(())
    }
}

/// Everything a decoder yields, as text.
fn decoded(mut decoder: impl Read) -> String {
    let mut out = String::new();
    decoder.read_to_string(&mut out).expect("decodes");
    out
}

pub(crate) fn gunzip(data: &[u8]) -> String {
    decoded(flate2::read::GzDecoder::new(data))
}

#[test]
fn gzip() {
    run(async {
        let settings = Settings {
            compress_response: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || Big)], settings));
        let gz = [("Accept-Encoding", "gzip")];
        let r = fetch(addr, "GET", "/", &gz, b"").await;
        assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(gunzip(&r.body), "x".repeat(2000));
        assert!(r.body.len() < 100);
        // gzip not requested
        let r = get(addr, "/").await;
        assert!(r.header("Content-Encoding").is_none());
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
        // small bodies are not compressed
        let r = fetch(addr, "GET", "/?n=10", &gz, b"").await;
        assert!(r.header("Content-Encoding").is_none());
        // vary already present
        let r = fetch(addr, "GET", "/?vary=1", &gz, b"").await;
        assert_eq!(r.header("Vary").as_deref(), Some("Custom, Accept-Encoding"));
        // streamed (flushed) responses are compressed as a stream
        let r = fetch(addr, "GET", "/?stream=1&n=1500", &gz, b"").await;
        assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
        assert_eq!(gunzip(&r.body), "x".repeat(1500) + &"y".repeat(1500));
    });
}

fn inflate(data: &[u8]) -> String {
    decoded(flate2::read::ZlibDecoder::new(data))
}

#[test]
fn deflate_and_accept_encoding_weights() {
    run(async {
        let settings = Settings {
            compress_response: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || Big)], settings));
        let coding = |accept: &'static str, path: &'static str| async move {
            let r = fetch(addr, "GET", path, &[("Accept-Encoding", accept)], b"").await;
            (r.header("Content-Encoding"), r)
        };
        let (encoding, r) = coding("deflate", "/").await;
        assert_eq!(encoding.as_deref(), Some("deflate"));
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(inflate(&r.body), "x".repeat(2000));
        let length: usize = r
            .header("Content-Length")
            .expect("length")
            .parse()
            .expect("n");
        assert_eq!(length, r.body.len());
        // Streamed through flushes: each piece decodes as it comes.
        let (encoding, r) = coding("deflate", "/?stream=1&n=1500").await;
        assert_eq!(encoding.as_deref(), Some("deflate"));
        assert_eq!(inflate(&r.body), "x".repeat(1500) + &"y".repeat(1500));
        // What curl --compressed and browsers send: gzip wins the tie.
        let (encoding, r) = coding("deflate, gzip, br, zstd", "/").await;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert_eq!(gunzip(&r.body), "x".repeat(2000));
        // Weights are read: the higher one wins, q=0 refuses.
        let (encoding, _) = coding("gzip;q=0.4, deflate;q=0.5", "/").await;
        assert_eq!(encoding.as_deref(), Some("deflate"));
        let (encoding, r) = coding("gzip;q=0", "/").await;
        assert_eq!(encoding, None);
        assert_eq!(r.text(), "x".repeat(2000));
        let (encoding, _) = coding("*;q=0", "/").await;
        assert_eq!(encoding, None);
        let (encoding, _) = coding("identity", "/").await;
        assert_eq!(encoding, None);
    });
}
