//! Head parsing and chunked decoding throughput, and the overhead of Typhoon's layer over raw
//! `httparse` on the same bytes.
//!
//! Run: `cargo bench -p typhoon-httputil --bench parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::mem::MaybeUninit;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typhoon_httputil::h1::{
    Chunk, ChunkedDecoder, Limits, RequestHead, parse_request_head, request_framing,
};

/// A typical browser navigation request (Firefox-like), 500-odd bytes.
const BROWSER: &[u8] = b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_3; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n\r\n";

/// The smallest valid HTTP/1.1 request.
const MINIMAL: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

fn raw_httparse(buf: &[u8]) -> usize {
    let mut headers = [MaybeUninit::<httparse::Header<'_>>::uninit(); 100];
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(buf, &mut headers) {
        Ok(httparse::Status::Complete(n)) => n + req.headers.len(),
        _ => 0,
    }
}

fn head(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, input) in [("browser", BROWSER), ("minimal", MINIMAL)] {
        let mut group = c.benchmark_group(format!("head/{name}"));
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function("httparse", |b| b.iter(|| raw_httparse(black_box(input))));
        let mut head = RequestHead::new();
        group.bench_function("typhoon", |b| {
            b.iter(|| parse_request_head(black_box(input), &limits, &mut head))
        });
        group.bench_function("typhoon+framing", |b| {
            b.iter(|| {
                let n = parse_request_head(black_box(input), &limits, &mut head);
                (n, request_framing(&head, limits.max_body_size))
            })
        });
        group.finish();
    }
}

fn chunked(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("chunked");
    for (name, chunk_size, chunks) in [("16KiB-chunks", 16 * 1024, 64), ("64B-chunks", 64, 4096)] {
        let mut body = Vec::new();
        for _ in 0..chunks {
            body.extend_from_slice(format!("{chunk_size:x}\r\n").as_bytes());
            body.extend(std::iter::repeat_n(b'x', chunk_size));
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut d = ChunkedDecoder::new(&limits);
                let mut input = black_box(&body[..]);
                let mut total = 0;
                loop {
                    match d.decode(input) {
                        Ok((n, Chunk::Data(data))) => {
                            total += data.len();
                            input = &input[n..];
                        }
                        Ok((_, Chunk::NeedMore | Chunk::Done)) | Err(_) => break total,
                    }
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, head, chunked);
criterion_main!(benches);
