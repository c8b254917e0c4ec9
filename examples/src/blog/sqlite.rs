//! The blog's SQLite backend, the zero-setup default: one connection behind a mutex, every call
//! on the loop's executor through
//! [`IOLoop::run_in_executor`](typhoon_ioloop::IOLoop::run_in_executor) (a blocking driver must
//! not run on the loop).

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use typhoon_ioloop::IOLoop;

use super::model::{
    DbError, Entry, EntryRow, MAX_TITLE_CHARS, Migration, TITLE_CONSTRAINT, slugify,
};

/// The schema's steps. Version 1 is the schema from before migrations (`IF NOT EXISTS`, so a
/// file made then adopts it); version 2 limits titles with triggers, because SQLite cannot add
/// a CHECK constraint to an existing table without rebuilding it (and the triggers leave
/// existing rows alone).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS entries_published ON entries (published);
",
    },
    Migration {
        version: 2,
        sql: TITLE_TRIGGERS,
    },
];

/// Migration 2: `length` counts characters, as PostgreSQL's `char_length`; `RAISE(ABORT, ..)`
/// fails the statement with `SQLITE_CONSTRAINT_TRIGGER` and the constraint's name.
const TITLE_TRIGGERS: &str = "
CREATE TRIGGER entries_title_length_insert BEFORE INSERT ON entries
WHEN length(NEW.title) > 200
BEGIN SELECT RAISE(ABORT, 'entries_title_length'); END;
CREATE TRIGGER entries_title_length_update BEFORE UPDATE OF title ON entries
WHEN length(NEW.title) > 200
BEGIN SELECT RAISE(ABORT, 'entries_title_length'); END;
";

// The triggers' literal limit is the shared one.
const _: () = assert!(MAX_TITLE_CHARS == 200);

/// The columns of an entry, in the order `entry_row` reads them.
const COLUMNS: &str = "id, author, slug, title, body, published, updated";

/// Reads a row of [`COLUMNS`].
fn entry_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(EntryRow {
        id: row.get(0)?,
        author: row.get(1)?,
        slug: row.get(2)?,
        title: row.get(3)?,
        body: row.get(4)?,
        published: row.get(5)?,
        updated: row.get(6)?,
    }
    .into())
}

/// Applies the migrations not yet recorded, in one transaction (all or none).
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    // IMMEDIATE: two processes opening one file do not both apply a step.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             applied TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
         )",
    )?;
    let current: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            [migration.version],
        )?;
    }
    tx.commit()
}

/// SQLite's error as the blog's: the title triggers' abort becomes [`DbError::TitleTooLong`].
fn db_error(error: rusqlite::Error) -> DbError {
    let title_too_long = matches!(
        &error,
        rusqlite::Error::SqliteFailure(failure, Some(message))
            if failure.code == ErrorCode::ConstraintViolation && message == TITLE_CONSTRAINT
    );
    if title_too_long {
        DbError::TitleTooLong(Box::new(error))
    } else {
        DbError::Sqlite(error)
    }
}

/// The blog's SQLite database: one connection behind a mutex, used only from the loop's
/// executor threads.
///
/// Cheap to clone (clones share the connection). `Send + Sync`: the closures handed to the
/// executor carry a clone to another thread.
#[derive(Clone)]
pub struct SqliteDb {
    /// The connection. One is enough for a demo, and an in-memory database lives in exactly
    /// one connection.
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`,
    /// and applies the migrations it lacks.
    ///
    /// # Errors
    ///
    /// SQLite's, if the file cannot be opened or the schema migrated.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let mut conn = if path.as_os_str() == ":memory:" {
            Connection::open_in_memory()?
        } else {
            Connection::open(path)?
        };
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the current loop's executor and awaits its result.
    ///
    /// # Errors
    ///
    /// `f`'s error ([`DbError::TitleTooLong`] for the title triggers' abort), or
    /// [`DbError::Task`] if the task panicked.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the closure starts cancels it; a closure already running
    /// finishes (a statement is never half done), its result discarded.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let result = IOLoop::current()
            .run_in_executor(move || {
                // A panic in another call cannot leave a statement half done: the connection
                // is still usable.
                let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut conn)
            })
            .await?;
        result.map_err(db_error)
    }

    /// As [`Db::latest`](super::Db::latest).
    pub(crate) async fn latest(&self, limit: Option<usize>) -> Result<Vec<Entry>, DbError> {
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.call(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM entries ORDER BY published DESC, id DESC LIMIT ?1"
            ))?;
            statement.query_map([limit], entry_row)?.collect()
        })
        .await
    }

    /// As [`Db::entry_by_slug`](super::Db::entry_by_slug).
    pub(crate) async fn entry_by_slug(&self, slug: &str) -> Result<Option<Entry>, DbError> {
        let slug = slug.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM entries WHERE slug = ?1"),
                [slug],
                entry_row,
            )
            .optional()
        })
        .await
    }

    /// As [`Db::entry_by_id`](super::Db::entry_by_id).
    pub(crate) async fn entry_by_id(&self, id: i64) -> Result<Option<Entry>, DbError> {
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM entries WHERE id = ?1"),
                [id],
                entry_row,
            )
            .optional()
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
        self.call(move |conn| {
            // Dropped without `commit` on an error: rolled back.
            let tx = conn.transaction()?;
            let mut slug = slugify(&title);
            while tx
                .query_row("SELECT 1 FROM entries WHERE slug = ?1", [&slug], |_| Ok(()))
                .optional()?
                .is_some()
            {
                slug.push_str("-2");
            }
            tx.execute(
                "INSERT INTO entries (author, slug, title, body) VALUES (?1, ?2, ?3, ?4)",
                params![author, slug, title, body],
            )?;
            tx.commit()?;
            Ok(slug)
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
        self.call(move |conn| {
            // One statement: SQLite applies all of it or none.
            conn.query_row(
                "UPDATE entries SET title = ?1, body = ?2, updated = CURRENT_TIMESTAMP \
                 WHERE id = ?3 RETURNING slug",
                params![title, body, id],
                |row| row.get(0),
            )
            .optional()
        })
        .await
    }
}

impl fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteDb").finish_non_exhaustive()
    }
}
