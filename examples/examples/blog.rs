//! Run with: cargo run --release --example blog -- --port=8888 --password=secret
//!
//! Tornado's blog demo, simplified (the app is in `examples/src/blog/`, the pages in
//! `examples/templates/blog/`): entries in SQLite (in memory unless `--db=blog.sqlite`) or in
//! PostgreSQL (`--db=postgres://user@%2Frun%2Fpostgresql/blog`, a Unix socket's directory as the
//! host, or `--db=postgres://user:password@127.0.0.1:5432/blog`; the database must exist, and
//! the blog applies its migrations at start), one author (`--author`, default `demo`) who signs
//! in with `--password` (a random one is made and printed when it is not given), then writes and
//! edits entries at /compose.

use std::path::Path;

use typhoon_examples::blog::{BlogConfig, Db, make_app};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let debug = define(OptionDef::new("debug", false).help("reload templates, show tracebacks"))?;
    let db = define(OptionDef::new("db", ":memory:".to_owned()).help(
        "the SQLite file of the entries (:memory: keeps them in memory), or a postgres:// URL",
    ))?;
    let author = define(OptionDef::new("author", "demo".to_owned()).help("the author's name"))?;
    let password = define(
        OptionDef::new("password", String::new())
            .help("the author's password (a random one is printed if empty)"),
    )?;
    let cookie_secret = define(
        OptionDef::new("cookie_secret", String::new())
            .help("the key that signs the login cookie (random per run if empty)"),
    )?;
    let template_path = define(
        OptionDef::new("template_path", BlogConfig::default_template_path())
            .help("the directory of base.html and the pages"),
    )?;
    let static_path = define(
        OptionDef::new("static_path", BlogConfig::default_static_path())
            .help("the directory of blog.css"),
    )?;
    parse_command_line()?;

    let mut password = password.get();
    if password.is_empty() {
        password = typhoon_examples::random::random_hex(8)?;
        println!(
            "no --password given; sign in as {} with {password}",
            author.get()
        );
    }
    let config = BlogConfig {
        template_path: template_path.get(),
        static_path: static_path.get(),
        cookie_secret: match cookie_secret.get() {
            secret if secret.is_empty() => typhoon_examples::random::random_hex(32)?,
            secret => secret,
        },
        author: author.get(),
        password,
        debug: debug.get(),
        ..BlogConfig::default()
    };
    let db = db.get();
    let db = if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        // The connection and the migrations run on the tokio bridge; the loop awaits them.
        let config: tokio_postgres::Config = db.parse()?;
        IOLoop::current().run_sync(Db::connect_postgres(config))?
    } else {
        Db::open(Path::new(&db))?
    };
    let server = make_app(config, db).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("blog listening on http://{addr}");
    }
    IOLoop::current().start();
    Ok(())
}
