//! The blog's PostgreSQL backend (Tornado's demo runs on PostgreSQL through aiopg): tokio-postgres
//! through typhoon-platform's tokio bridge.
//!
//! The client and its connection task live on the bridge's tokio runtime; each call is one
//! [`run_on_tokio`] future that takes the connection, runs its statements and hands the result
//! back to Typhoon's loop. One connection, behind a lock taken on the runtime, serves every call
//! in turn, as the SQLite backend's: enough for a demo, and a transaction never shares its
//! connection (a pool such as deadpool-postgres is the production shape).
//!
//! The connection is made lazily and again after it dies, so the blog answers 503 while the
//! server is down ([`DbError::Unavailable`]) and recovers by itself once it is back.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls, Row};
use typhoon_platform::run_on_tokio;

use super::model::{
    DbError, Entry, EntryRow, MAX_TITLE_CHARS, Migration, TITLE_CONSTRAINT, slugify,
};

/// The schema's steps, applied in order at start.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
CREATE TABLE entries (
    id BIGSERIAL PRIMARY KEY,
    author TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX entries_published ON entries (published);
",
    },
    Migration {
        version: 2,
        sql: "ALTER TABLE entries ADD CONSTRAINT entries_title_length \
              CHECK (char_length(title) <= 200);",
    },
];

// The constraint's literal limit is the shared one.
const _: () = assert!(MAX_TITLE_CHARS == 200);

/// Any advisory lock key, the same in every process: two blogs starting on one database apply
/// each migration once.
const MIGRATION_LOCK: i64 = 0x0074_7970_686f_6f6e; // "typhoon" in ASCII

/// The columns of an entry, in the order `entry_row` reads them, dates as SQLite has them.
const COLUMNS: &str = "id, author, slug, title, body, \
    to_char(published, 'YYYY-MM-DD HH24:MI:SS'), to_char(updated, 'YYYY-MM-DD HH24:MI:SS')";

/// How long a connection attempt may take when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A boxed future borrowing the connection, as a call's statements are.
type Statements<'c, T> =
    Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + Send + 'c>>;

/// Reads a row of [`COLUMNS`].
fn entry_row(row: &Row) -> Result<Entry, tokio_postgres::Error> {
    Ok(EntryRow {
        id: row.try_get(0)?,
        author: row.try_get(1)?,
        slug: row.try_get(2)?,
        title: row.try_get(3)?,
        body: row.try_get(4)?,
        published: row.try_get(5)?,
        updated: row.try_get(6)?,
    }
    .into())
}

/// Applies the migrations not yet recorded, in one transaction (all or none).
async fn migrate(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY,
             applied TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
         )",
    )
    .await?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&migration.version],
        )
        .await?;
    }
    tx.commit().await
}

/// Why a call on the runtime failed.
enum Failure {
    /// No connection could be made.
    Connect(tokio_postgres::Error),
    /// A statement failed; `closed` if the connection was lost with it.
    Query {
        /// The statement's error.
        error: tokio_postgres::Error,
        /// Whether the connection is gone.
        closed: bool,
    },
}

/// Whether `error` says the server is going away or cannot be reached: class 08 (connection
/// exception), 57P01-57P03 (admin or crash shutdown, cannot connect now), or an I/O error on
/// the socket (which can arrive before the client sees its connection closed).
fn is_unavailable(error: &tokio_postgres::Error) -> bool {
    let state = error.code().is_some_and(|state| {
        let code = state.code();
        code.starts_with("08") || code.starts_with("57P0")
    });
    state || std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>())
}

/// The failure as the blog's error.
fn db_error(failure: Failure) -> DbError {
    match failure {
        Failure::Connect(error) => DbError::Unavailable(error),
        Failure::Query { error, closed } if closed || error.is_closed() => {
            DbError::Unavailable(error)
        }
        Failure::Query { error, .. } if is_unavailable(&error) => DbError::Unavailable(error),
        Failure::Query { error, .. }
            if error.code() == Some(&SqlState::CHECK_VIOLATION)
                && error.as_db_error().and_then(|db| db.constraint()) == Some(TITLE_CONSTRAINT) =>
        {
            DbError::TitleTooLong(Box::new(error))
        }
        Failure::Query { error, .. } => DbError::Postgres(error),
    }
}

/// Connects, with the connection's task spawned on the current (the bridge's) runtime.
async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(target: "typhoon::general", error = %error, "postgresql connection lost");
        }
    });
    Ok(client)
}

/// What the clones of a [`PostgresDb`] share.
struct Shared {
    /// Where to connect (again).
    config: Config,
    /// The connection, `None` before the first call and after it died; locked on the
    /// runtime for a whole call, so a transaction has it to itself.
    client: Mutex<Option<Client>>,
}

/// The blog's PostgreSQL database. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct PostgresDb {
    /// The configuration and the connection.
    shared: Arc<Shared>,
}

impl PostgresDb {
    /// Connects to the database `config` names and applies the migrations it lacks (each
    /// once, in one transaction), on the process's default tokio bridge. A URL parses into a
    /// [`Config`]: `"postgres://user@%2Frun%2Fpostgresql/blog".parse()` (a Unix socket's
    /// directory as the host) or `"host=127.0.0.1 port=5432 dbname=blog".parse()`.
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`] if the server cannot be reached, [`DbError::Postgres`] if a
    /// migration fails.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the call; the migrations' transaction is rolled back.
    pub async fn connect(mut config: Config) -> Result<Self, DbError> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let db = Self {
            shared: Arc::new(Shared {
                config,
                client: Mutex::new(None),
            }),
        };
        db.call(|client| Box::pin(migrate(client))).await?;
        Ok(db)
    }

    /// Runs `statements` with the connection (connecting first if there is none, or it died)
    /// on the bridge's runtime, and awaits the result on Typhoon's loop.
    ///
    /// # Errors
    ///
    /// As [`db_error`] classifies: [`DbError::Unavailable`] if no connection can be made or it
    /// was lost, [`DbError::TitleTooLong`] for the title's constraint, [`DbError::Postgres`]
    /// otherwise; [`DbError::Bridge`] if the bridge failed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the call at its next await on the runtime; an open
    /// transaction is rolled back.
    async fn call<T, F>(&self, statements: F) -> Result<T, DbError>
    where
        F: for<'c> FnOnce(&'c mut Client) -> Statements<'c, T> + Send + 'static,
        T: Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        let outcome = run_on_tokio(async move {
            let mut slot = shared.client.lock().await;
            let client = match slot.take() {
                Some(client) if !client.is_closed() => slot.insert(client),
                _ => slot.insert(connect(&shared.config).await.map_err(Failure::Connect)?),
            };
            let result = statements(client).await;
            let closed = client.is_closed();
            if closed {
                // Connect again next time.
                *slot = None;
            }
            result.map_err(|error| Failure::Query { error, closed })
        })
        .await?;
        outcome.map_err(db_error)
    }

    /// As [`Db::latest`](super::Db::latest).
    pub(crate) async fn latest(&self, limit: Option<usize>) -> Result<Vec<Entry>, DbError> {
        // LIMIT NULL is no limit.
        let limit = limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.call(move |client| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {COLUMNS} FROM entries ORDER BY published DESC, id DESC LIMIT $1"
                );
                let rows = client.query(&sql, &[&limit]).await?;
                rows.iter().map(entry_row).collect()
            })
        })
        .await
    }

    /// As [`Db::entry_by_slug`](super::Db::entry_by_slug).
    pub(crate) async fn entry_by_slug(&self, slug: &str) -> Result<Option<Entry>, DbError> {
        let slug = slug.to_owned();
        self.call(move |client| {
            Box::pin(async move {
                let sql = format!("SELECT {COLUMNS} FROM entries WHERE slug = $1");
                let row = client.query_opt(&sql, &[&slug]).await?;
                row.as_ref().map(entry_row).transpose()
            })
        })
        .await
    }

    /// As [`Db::entry_by_id`](super::Db::entry_by_id).
    pub(crate) async fn entry_by_id(&self, id: i64) -> Result<Option<Entry>, DbError> {
        self.call(move |client| {
            Box::pin(async move {
                let sql = format!("SELECT {COLUMNS} FROM entries WHERE id = $1");
                let row = client.query_opt(&sql, &[&id]).await?;
                row.as_ref().map(entry_row).transpose()
            })
        })
        .await
    }

    /// As [`Db::create_entry`](super::Db::create_entry).
    pub(crate) async fn create_entry(
        &self,
        author: &str,
        title: &str,
        body: &str,
    ) -> Result<String, DbError> {
        let (author, title, body) = (author.to_owned(), title.to_owned(), body.to_owned());
        self.call(move |client| {
            Box::pin(async move {
                // Dropped without `commit` on an error: rolled back.
                let tx = client.transaction().await?;
                let mut slug = slugify(&title);
                while tx
                    .query_opt("SELECT 1 FROM entries WHERE slug = $1", &[&slug])
                    .await?
                    .is_some()
                {
                    slug.push_str("-2");
                }
                tx.execute(
                    "INSERT INTO entries (author, slug, title, body) VALUES ($1, $2, $3, $4)",
                    &[&author, &slug, &title, &body],
                )
                .await?;
                tx.commit().await?;
                Ok(slug)
            })
        })
        .await
    }

    /// As [`Db::update_entry`](super::Db::update_entry).
    pub(crate) async fn update_entry(
        &self,
        id: i64,
        title: &str,
        body: &str,
    ) -> Result<Option<String>, DbError> {
        let (title, body) = (title.to_owned(), body.to_owned());
        self.call(move |client| {
            Box::pin(async move {
                // One statement: PostgreSQL applies all of it or none.
                let row = client
                    .query_opt(
                        "UPDATE entries SET title = $1, body = $2, \
                         updated = (now() AT TIME ZONE 'UTC') WHERE id = $3 RETURNING slug",
                        &[&title, &body, &id],
                    )
                    .await?;
                row.map(|row| row.try_get(0)).transpose()
            })
        })
        .await
    }
}

impl fmt::Debug for PostgresDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresDb")
            .field("dbname", &self.shared.config.get_dbname())
            .finish_non_exhaustive()
    }
}
