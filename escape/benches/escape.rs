//! Escape throughput against peer crates: `html-escape` for HTML, `urlencoding` for URLs.
//!
//! Run with: `cargo bench -p typhoon-escape --bench escape -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Mixed text: prose with markup, quotes, non-ASCII and URL-hostile characters.
fn corpus() -> String {
    let unit = "Hello <b>world</b> & \"friends\" — it's 5 > 3, path/a b?c=d&e=é%20 ";
    unit.repeat(64 * 1024 / unit.len())
}

/// Ordinary prose: one character to escape in about 300.
fn prose() -> String {
    let unit = "Tornado is a Python web framework and asynchronous networking library, originally developed at FriendFeed. By using non-blocking network I/O, Tornado can scale to tens of thousands of open connections, making it ideal for long polling, WebSockets & other applications. ";
    unit.repeat(64 * 1024 / unit.len())
}

fn bench_html(c: &mut Criterion) {
    let prose = prose();
    let mut g = c.benchmark_group("xhtml_escape_prose");
    g.throughput(Throughput::Bytes(prose.len() as u64));
    g.bench_function("typhoon", |b| {
        b.iter(|| typhoon_escape::xhtml_escape(black_box(&prose)))
    });
    g.bench_function("html-escape", |b| {
        b.iter(|| html_escape::encode_quoted_attribute(black_box(&prose)).into_owned())
    });
    g.finish();

    let text = corpus();
    let mut g = c.benchmark_group("xhtml_escape");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("typhoon", |b| {
        b.iter(|| typhoon_escape::xhtml_escape(black_box(&text)))
    });
    g.bench_function("html-escape", |b| {
        b.iter(|| html_escape::encode_quoted_attribute(black_box(&text)).into_owned())
    });
    g.finish();
}

fn bench_url(c: &mut Criterion) {
    let text = corpus();
    let mut g = c.benchmark_group("url_escape");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("typhoon", |b| {
        b.iter(|| typhoon_escape::url_escape(black_box(&text), false))
    });
    g.bench_function("urlencoding", |b| {
        b.iter(|| urlencoding::encode(black_box(&text)).into_owned())
    });
    g.finish();
    let encoded = typhoon_escape::url_escape(&text, false);
    let mut g = c.benchmark_group("url_unescape");
    g.throughput(Throughput::Bytes(encoded.len() as u64));
    g.bench_function("typhoon", |b| {
        b.iter(|| typhoon_escape::url_unescape(black_box(&encoded), false))
    });
    g.bench_function("urlencoding", |b| {
        b.iter(|| urlencoding::decode(black_box(&encoded)).map(|s| s.into_owned()))
    });
    g.finish();
}

criterion_group!(benches, bench_html, bench_url);
criterion_main!(benches);
