//! Rendering a 100-row table: `typhoon-template`'s `Loader` against minijinja used directly,
//! to measure what the wrapper (lookup, context conversion, Tornado-compatible escaping) costs.
//!
//! Run with: `cargo bench -p typhoon-template --bench template -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;

const TABLE: &str = r#"<table>
{% for row in rows %}<tr class="{{ loop.cycle('odd', 'even') }}"><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.email }}</td><td>{{ row.score }}</td><td>{% if row.active %}yes{% else %}no{% endif %}</td></tr>
{% endfor %}</table>
"#;

#[derive(Serialize)]
struct Row {
    id: u32,
    name: String,
    email: String,
    score: f64,
    active: bool,
}

#[derive(Serialize)]
struct Ctx {
    rows: Vec<Row>,
}

fn ctx() -> Ctx {
    Ctx {
        rows: (0..100)
            .map(|i| Row {
                id: i,
                name: format!("User <{i}> & \"friends\""),
                email: format!("user{i}@example.com"),
                score: f64::from(i) * 1.5,
                active: i % 3 == 0,
            })
            .collect(),
    }
}

fn bench_table(c: &mut Criterion) {
    let ctx = ctx();
    let loader = typhoon_template::Loader::with_templates([("table.html", TABLE)]);
    let mut env = minijinja::Environment::new();
    // The same whitespace rule as the Loader (Tornado keeps the final newline).
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("valid syntax"),
    );
    env.add_template("table.html", TABLE)
        .expect("template compiles");

    let ours = loader.render("table.html", &ctx).expect("renders");
    let theirs = env
        .get_template("table.html")
        .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
        .expect("renders");
    // Same output except '/' (which minijinja escapes and Tornado does not): none in the data.
    assert!(ours == theirs, "outputs differ:\n{ours}\n{theirs}");

    let mut g = c.benchmark_group("render_table_100");
    g.throughput(Throughput::Bytes(ours.len() as u64));
    g.bench_function("typhoon-template", |b| {
        b.iter(|| loader.render("table.html", black_box(&ctx)))
    });
    g.bench_function("minijinja", |b| {
        b.iter(|| {
            env.get_template("table.html")
                .and_then(|t| t.render(minijinja::value::Serde(black_box(&ctx))))
        })
    });
    g.finish();
}

criterion_group!(benches, bench_table);
criterion_main!(benches);
