//! What both of the blog's database backends share: the [`Entry`] they return, the [`DbError`]
//! they fail with, the title limit their schemas enforce, and the slug and paragraph rules.

use serde::Serialize;
use typhoon_ioloop::LoopError;
use typhoon_platform::BridgeError;

/// The longest title, in characters, that the database accepts: a CHECK constraint in
/// PostgreSQL, triggers in SQLite. The database is the one authority: the handler does not
/// check it first, so a longer title is a constraint violation, answered with a 400 page.
pub const MAX_TITLE_CHARS: usize = 200;

/// The name of the constraint (PostgreSQL) or of the triggers' error (SQLite) that limits a
/// title's length, by which a backend tells that violation from other failures.
pub(crate) const TITLE_CONSTRAINT: &str = "entries_title_length";

/// One step of a schema: applied once, in order, recorded in the table `schema_migrations`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Its number; the steps are applied in increasing order, each once.
    pub(crate) version: i64,
    /// The statements, run in the transaction that records the version.
    pub(crate) sql: &'static str,
}

/// What can go wrong with the blog's database.
///
/// The PostgreSQL variants hold `tokio_postgres::Error`, a foreign type in a public variant:
/// acceptable in this unpublished examples crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite failed.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// The executor task failed (it panicked, or the loop is gone).
    #[error("database task failed")]
    Task(#[from] LoopError),
    /// A PostgreSQL statement failed (the server is reachable).
    #[error("database error")]
    Postgres(#[source] tokio_postgres::Error),
    /// PostgreSQL cannot be reached: the connection failed or was lost (the server stopped, a
    /// network error). The next call connects again.
    #[error("the database is unavailable")]
    Unavailable(#[source] tokio_postgres::Error),
    /// The call could not run on the tokio bridge.
    #[error("the database call failed on the tokio bridge")]
    Bridge(#[from] BridgeError),
    /// The title is longer than [`MAX_TITLE_CHARS`]: the database's constraint refused it, and
    /// the transaction wrote nothing.
    #[error("title longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl DbError {
    /// The HTTP status a request that met this error answers: 400 for a title too long, 503
    /// while the database is unavailable, 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::TitleTooLong(_) => 400,
            Self::Unavailable(_) => 503,
            _ => 500,
        }
    }
}

/// A blog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Row id.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// The URL name, unique: `/entry/<slug>`.
    pub slug: String,
    /// The title.
    pub title: String,
    /// The text; blank lines separate paragraphs.
    pub body: String,
    /// When it was written (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub published: String,
    /// When it was last changed.
    pub updated: String,
    /// `body` split into paragraphs, for the templates.
    pub paragraphs: Vec<String>,
}

/// An entry's columns, as both backends read them.
#[derive(Debug)]
pub(crate) struct EntryRow {
    /// `id`.
    pub(crate) id: i64,
    /// `author`.
    pub(crate) author: String,
    /// `slug`.
    pub(crate) slug: String,
    /// `title`.
    pub(crate) title: String,
    /// `body`.
    pub(crate) body: String,
    /// `published`, as `YYYY-MM-DD HH:MM:SS`.
    pub(crate) published: String,
    /// `updated`, as `YYYY-MM-DD HH:MM:SS`.
    pub(crate) updated: String,
}

impl From<EntryRow> for Entry {
    fn from(row: EntryRow) -> Self {
        Self {
            id: row.id,
            author: row.author,
            slug: row.slug,
            title: row.title,
            paragraphs: paragraphs(&row.body),
            body: row.body,
            published: row.published,
            updated: row.updated,
        }
    }
}

/// Splits `text` at blank lines into trimmed, non-empty paragraphs.
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Tornado's demo's slug: lowercase ASCII letters and digits, other runs become `-`; `entry`
/// when nothing is left.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        slug.push_str("entry");
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_paragraphs() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Ünïcode & <b>tags</b> 2 "), "n-code-b-tags-b-2");
        assert_eq!(slugify("!!!"), "entry");
        assert_eq!(paragraphs("a\nb\r\n\r\n\n\nc  "), ["a\nb", "c"]);
    }

    #[test]
    fn statuses() {
        let long = DbError::TitleTooLong("too long".into());
        assert_eq!(long.status(), 400);
        assert_eq!(DbError::Task(LoopError::Cancelled).status(), 500);
    }
}
