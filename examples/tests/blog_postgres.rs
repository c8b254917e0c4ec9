//! The `blog` example on a real PostgreSQL, through the tokio bridge: create, edit and list over
//! the server's Unix socket, a constraint violation answered with a clear 400 page and nothing
//! written, and the database going away mid-run (503, then recovery once it is back).
//!
//! The cluster is `.ci/postgres.sh`'s (a throwaway `initdb` in a temp dir, started with
//! `pg_ctl`), named by environment variables:
//!
//! - `TYPHOON_TEST_POSTGRES_URL`: a URL of a database on it to connect to as a user who may
//!   create databases (each test makes its own, so they run in parallel);
//! - `TYPHOON_TEST_PG_STOP` and `TYPHOON_TEST_PG_START`: shell commands that stop the cluster
//!   and start it again, waiting until it is down or accepts connections (`pg_ctl -w`).
//!
//! Without them every test says it is skipped, on stderr past the harness's capture, and
//! returns; `.ci/run` always sets them.

mod cookie_client;

use std::cell::Cell;
use std::io::Write;
use std::process::Command;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use cookie_client::CookieClient;
use tokio_postgres::{Config, NoTls};
use typhoon_examples::blog::{BlogConfig, Db, DbError, MAX_TITLE_CHARS, make_app};
use typhoon_ioloop::IOLoop;
use typhoon_platform::run_on_tokio;
use typhoon_testing::{AsyncHTTPTestServer, run_test_with_timeout};

const PASSWORD: &str = "correct horse";

/// The outage test stops the one cluster: it holds this for writing, the others for reading.
static CLUSTER: RwLock<()> = RwLock::new(());

/// A deadline for each test, generous for a cluster restart on a loaded 2-core machine.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The cluster the environment names.
#[derive(Clone)]
struct Cluster {
    /// A database to connect to while creating the test's own.
    admin: Config,
    /// Stops the cluster.
    stop: String,
    /// Starts it again.
    start: String,
}

/// The cluster, or `None` (the skip said) when the environment does not name one.
fn cluster(test: &str) -> Option<Cluster> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let (Some(url), Some(stop), Some(start)) = (
        var("TYPHOON_TEST_POSTGRES_URL"),
        var("TYPHOON_TEST_PG_STOP"),
        var("TYPHOON_TEST_PG_START"),
    ) else {
        // Past the test harness's capture of `eprintln!`, so the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: set TYPHOON_TEST_POSTGRES_URL, TYPHOON_TEST_PG_STOP and \
             TYPHOON_TEST_PG_START (.ci/postgres.sh does) to run it against a PostgreSQL cluster"
        );
        return None;
    };
    let admin = url
        .parse()
        .expect("TYPHOON_TEST_POSTGRES_URL is a PostgreSQL URL");
    Some(Cluster { admin, stop, start })
}

/// Runs `sql` on the cluster's admin database.
async fn admin(cluster: &Cluster, sql: String) -> Result<(), tokio_postgres::Error> {
    let config = cluster.admin.clone();
    run_on_tokio(async move {
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(connection);
        client.batch_execute(&sql).await
    })
    .await
    .expect("the bridge runs the call")
}

/// A new, empty database for `test`, and the config that names it.
async fn fresh_database(cluster: &Cluster, test: &str) -> (String, Config) {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "typhoon_{test}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    admin(cluster, format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("CREATE DATABASE");
    let mut config = cluster.admin.clone();
    config.dbname(&name);
    (name, config)
}

/// Drops the test's database (the blog's connection with it).
async fn drop_database(cluster: &Cluster, name: &str) {
    admin(cluster, format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .expect("DROP DATABASE");
}

/// The blog over `db`, on a free port.
fn serve(db: Db) -> AsyncHTTPTestServer {
    let config = BlogConfig {
        password: PASSWORD.to_owned(),
        ..BlogConfig::default()
    };
    AsyncHTTPTestServer::new(make_app(config, db))
}

/// Signs in as the demo author.
async fn sign_in(client: &CookieClient<'_>) {
    assert_eq!(client.get("/auth/login").await.code, 200);
    let done = client
        .post_xsrf(
            "/auth/login",
            &[("name", "demo"), ("password", PASSWORD), ("next", "/")],
        )
        .await;
    assert_eq!(done.code, 302, "{}", done.text());
}

/// Posts the compose form; the response.
async fn compose(
    client: &CookieClient<'_>,
    fields: &[(&str, &str)],
) -> typhoon_httpclient::HTTPResponse {
    client.post_xsrf("/compose", fields).await
}

/// Publishes an entry and returns where it went.
async fn publish(client: &CookieClient<'_>, title: &str, body: &str) -> String {
    let posted = compose(client, &[("title", title), ("body", body)]).await;
    assert_eq!(posted.code, 302, "{}", posted.text());
    posted
        .headers
        .get("Location")
        .expect("a Location")
        .to_owned()
}

/// Runs a cluster command (`sh -c`) on the executor, so the loop keeps serving meanwhile.
async fn run_command(command: &str) {
    let command = command.to_owned();
    let status = IOLoop::current()
        .run_in_executor(move || Command::new("sh").arg("-c").arg(&command).status())
        .await
        .expect("the executor runs the command")
        .expect("sh runs");
    assert!(status.success(), "the cluster command failed: {status}");
}

#[test]
fn create_edit_list_over_a_socket_with_migrations_at_start() {
    let Some(cluster) = cluster("create_edit_list") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(PoisonError::into_inner);
    run_test_with_timeout(TEST_TIMEOUT, async move {
        let (name, config) = fresh_database(&cluster, "create_edit_list").await;
        let db = Db::connect_postgres(config.clone())
            .await
            .expect("connect and migrate");
        let server = serve(db.clone());
        let client = CookieClient::new(&server);
        assert!(client.get("/").await.text().contains("No entries yet."));
        sign_in(&client).await;

        let title = "Hello <PostgreSQL> & friends";
        let location = publish(&client, title, "First.\n\nSecond, über UTF-8.").await;
        assert_eq!(location, "/entry/hello-postgresql-friends");
        let again = publish(&client, title, "again").await;
        assert_eq!(again, format!("{location}-2"));
        for n in 0..5 {
            publish(&client, &format!("Entry {n}"), "text").await;
        }

        let page = client.get(&location).await;
        assert_eq!(page.code, 200);
        let html = page.text().into_owned();
        assert!(
            html.contains("Hello &lt;PostgreSQL&gt; &amp; friends"),
            "{html}"
        );
        assert!(html.contains("<p>Second, über UTF-8.</p>"), "{html}");
        // Only the five latest are at home, newest first; the archive has all seven.
        let home = client.get("/").await.text().into_owned();
        assert!(
            home.contains("Entry 4") && home.contains("Entry 0"),
            "{home}"
        );
        assert!(!home.contains("PostgreSQL"));
        let archive = client.get("/archive").await.text().into_owned();
        let newer = archive.find(&again).expect("the second entry is listed");
        let older = archive
            .find(&format!("{location}\""))
            .expect("the first entry is listed");
        assert!(newer < older, "newest first");

        // Edit: the slug stays, the text changes.
        let start = html.find("/compose?id=").expect("an edit link");
        let edit: String = html[start..].chars().take_while(|&c| c != '"').collect();
        let id = edit.trim_start_matches("/compose?id=").to_owned();
        assert!(client.get(&edit).await.text().contains("über UTF-8"));
        let saved = compose(
            &client,
            &[("id", &id), ("title", "Edited"), ("body", "new text")],
        )
        .await;
        assert_eq!(saved.code, 302);
        assert_eq!(saved.headers.get("Location"), Some(location.as_str()));
        let page = client.get(&location).await.text().into_owned();
        assert!(
            page.contains("Edited") && page.contains("new text"),
            "{page}"
        );
        let missing = compose(&client, &[("id", "99999"), ("title", "t"), ("body", "b")]).await;
        assert_eq!(missing.code, 404);

        // The entries as the database has them, dates in SQLite's format.
        let entries = db.latest(None).await.expect("latest");
        assert_eq!(entries.len(), 7);
        let edited = db
            .entry_by_slug("hello-postgresql-friends")
            .await
            .expect("select")
            .expect("the entry");
        assert_eq!(edited.title, "Edited");
        assert_eq!(edited.published.len(), "YYYY-MM-DD HH:MM:SS".len());

        // A restart applies no migration twice and keeps the entries.
        let restarted = Db::connect_postgres(config)
            .await
            .expect("migrations again");
        assert_eq!(restarted.latest(None).await.expect("latest").len(), 7);
        drop(server);
        drop((db, restarted));
        drop_database(&cluster, &name).await;
    });
}

#[test]
fn title_too_long_is_a_clear_400_and_nothing_is_written() {
    let Some(cluster) = cluster("title_too_long") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(PoisonError::into_inner);
    run_test_with_timeout(TEST_TIMEOUT, async move {
        let (name, config) = fresh_database(&cluster, "title_too_long").await;
        let db = Db::connect_postgres(config).await.expect("connect");
        let server = serve(db.clone());
        let client = CookieClient::new(&server);
        sign_in(&client).await;

        // The limit is in characters, not bytes: 200 two-byte characters fit.
        let longest = "é".repeat(MAX_TITLE_CHARS);
        let location = publish(&client, &longest, "fits").await;

        let too_long = "x".repeat(MAX_TITLE_CHARS + 1);
        let refused = compose(&client, &[("title", &too_long), ("body", "lost")]).await;
        assert_eq!(refused.code, 400);
        assert_eq!(refused.reason, "Title Too Long");
        assert!(
            refused.text().contains("Title Too Long"),
            "{}",
            refused.text()
        );
        // Nothing half-written: no entry, no slug taken.
        let archive = client.get("/archive").await.text().into_owned();
        assert!(!archive.contains(&too_long));
        assert_eq!(db.latest(None).await.expect("latest").len(), 1);
        assert!(db.entry_by_slug("x").await.expect("select").is_none());
        assert!(matches!(
            db.create_entry("demo", &too_long, "b").await,
            Err(DbError::TitleTooLong(_))
        ));

        // An edit that breaks the constraint leaves the entry as it was.
        let entry = db
            .entry_by_slug(location.trim_start_matches("/entry/"))
            .await
            .expect("select")
            .expect("the entry");
        let id = entry.id.to_string();
        let refused = compose(
            &client,
            &[("id", &id), ("title", &too_long), ("body", "changed")],
        )
        .await;
        assert_eq!(refused.code, 400);
        let unchanged = db.entry_by_id(entry.id).await.expect("select");
        assert_eq!(unchanged, Some(entry));
        // The connection is still good after the failed statements.
        assert_eq!(client.get(&location).await.code, 200);
        drop(server);
        drop(db);
        drop_database(&cluster, &name).await;
    });
}

/// Starts the cluster again if the outage test fails while it is stopped, so that the
/// other tests (waiting for the lock) find it up.
struct Restart {
    /// The start command.
    start: String,
    /// Whether the test stopped the cluster and has not started it again.
    stopped: Rc<Cell<bool>>,
}

impl Drop for Restart {
    fn drop(&mut self) {
        if self.stopped.get() {
            let _ = Command::new("sh").arg("-c").arg(&self.start).status();
        }
    }
}

#[test]
fn database_going_away_is_503_and_the_blog_recovers() {
    let Some(cluster) = cluster("outage") else {
        return;
    };
    let _exclusive = CLUSTER.write().unwrap_or_else(PoisonError::into_inner);
    let restart = Restart {
        start: cluster.start.clone(),
        stopped: Rc::new(Cell::new(false)),
    };
    let flag = Rc::clone(&restart.stopped);
    run_test_with_timeout(TEST_TIMEOUT, async move {
        let (name, config) = fresh_database(&cluster, "outage").await;
        let db = Db::connect_postgres(config).await.expect("connect");
        let server = serve(db.clone());
        let client = CookieClient::new(&server);
        sign_in(&client).await;
        let location = publish(&client, "Before the outage", "kept").await;
        assert_eq!(client.get(&location).await.code, 200);

        flag.set(true);
        run_command(&cluster.stop).await;
        // Every page that needs the database: 503, the cause kept in the log.
        for path in ["/", location.as_str(), "/archive"] {
            let down = client.get(path).await;
            assert_eq!(down.code, 503, "{path}: {}", down.text());
        }
        assert!(matches!(
            db.latest(None).await,
            Err(DbError::Unavailable(_))
        ));
        let posted = compose(&client, &[("title", "During"), ("body", "b")]).await;
        assert_eq!(posted.code, 503);
        // The server itself still answers what needs no database.
        assert_eq!(client.get("/auth/login").await.code, 200);

        run_command(&cluster.start).await;
        flag.set(false);
        // `pg_ctl -w` returned once the cluster accepts connections; the blog connects again
        // on its next call. Poll, bounded, in case the socket lags.
        let deadline = Instant::now() + Duration::from_secs(30);
        let page = loop {
            let page = client.get(&location).await;
            if page.code != 503 || Instant::now() > deadline {
                break page;
            }
            typhoon_ioloop::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(page.code, 200, "{}", page.text());
        assert!(page.text().contains("Before the outage"));
        publish(&client, "After the outage", "written").await;
        assert_eq!(db.latest(None).await.expect("latest").len(), 2);
        drop(server);
        drop(db);
        drop_database(&cluster, &name).await;
    });
    drop(restart);
}
