//! Tornado's blog demo (`demos/blog`), simplified, on `typhoon-web` and SQLite.
//!
//! What it shows: template inheritance (`base.html` and a page per route), static files with
//! versioned URLs (`static_url("blog.css")` is `/static/blog.css?v=<hash>`), a signed-cookie
//! login, XSRF-protected forms, `authenticated` routes, and a blocking database driver kept off
//! the loop: every SQLite call runs on the loop's executor through
//! [`IOLoop::run_in_executor`](typhoon_ioloop::IOLoop::run_in_executor).
//!
//! Departures from Tornado's demo: one fixed author whose name and password come from the
//! configuration (Tornado's has a sign-up form and bcrypt), plain text paragraphs instead of
//! Markdown, no Atom feed, SQLite (in memory by default) instead of PostgreSQL.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | the five latest entries |
//! | `GET /entry/<slug>` | one entry (404 if none) |
//! | `GET /archive` | every entry, newest first |
//! | `GET /compose[?id=N]`, `POST /compose` | write or edit an entry (authenticated) |
//! | `GET /auth/login`, `POST /auth/login` | sign in (signed cookie `blogdemo_user`) |
//! | `GET /auth/logout` | sign out |

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use crate::redirects::local_path;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use typhoon_ioloop::{IOLoop, LoopError};
use typhoon_locale::Translations;
use typhoon_template::Loader;
use typhoon_web::{
    Application, Context, CookieOptions, CurrentUser, HTTPError, ModuleCall, ModuleError,
    RequestHandler, Settings, UIModule, route,
};

/// The signed cookie holding the author's name.
pub const USER_COOKIE: &str = "blogdemo_user";

/// How many entries the home page shows.
pub const HOME_ENTRIES: usize = 5;

/// The schema, created when missing.
const SCHEMA: &str = "
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
";

/// The columns of an [`Entry`], in the order `Entry::from_row` reads them.
const COLUMNS: &str = "id, author, slug, title, body, published, updated";

/// What can go wrong with the blog's database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite failed.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// The executor task failed (it panicked, or the loop is gone).
    #[error("database task failed")]
    Task(#[from] LoopError),
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

impl Entry {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let body: String = row.get(4)?;
        Ok(Self {
            id: row.get(0)?,
            author: row.get(1)?,
            slug: row.get(2)?,
            title: row.get(3)?,
            paragraphs: paragraphs(&body),
            body,
            published: row.get(5)?,
            updated: row.get(6)?,
        })
    }
}

/// Splits `text` at blank lines into trimmed, non-empty paragraphs.
fn paragraphs(text: &str) -> Vec<String> {
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

/// The blog's database: one SQLite connection behind a mutex, used only from the loop's
/// executor threads (a blocking driver must not run on the loop).
///
/// Cheap to clone (clones share the connection). `Send + Sync`: the closures handed to the
/// executor carry a clone to another thread.
#[derive(Clone)]
pub struct Db {
    /// The connection. One is enough for a demo, and an in-memory database lives in exactly
    /// one connection.
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`,
    /// and creates the schema.
    ///
    /// # Errors
    ///
    /// SQLite's, if the file cannot be opened or the schema created.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let conn = if path.as_os_str() == ":memory:" {
            Connection::open_in_memory()?
        } else {
            Connection::open(path)?
        };
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// An in-memory database (gone when the last clone is dropped).
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn open_in_memory() -> Result<Self, DbError> {
        Self::open(Path::new(":memory:"))
    }

    /// Runs `f` with the connection on the current loop's executor and awaits its result.
    ///
    /// # Errors
    ///
    /// `f`'s error, or [`DbError::Task`] if the task panicked.
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
        Ok(result?)
    }

    /// The `limit` latest entries, newest first (all with `None`).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn latest(&self, limit: Option<usize>) -> Result<Vec<Entry>, DbError> {
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.call(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM entries ORDER BY published DESC, id DESC LIMIT ?1"
            ))?;
            statement.query_map([limit], Entry::from_row)?.collect()
        })
        .await
    }

    /// The entry at `slug`.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn entry_by_slug(&self, slug: &str) -> Result<Option<Entry>, DbError> {
        let slug = slug.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM entries WHERE slug = ?1"),
                [slug],
                Entry::from_row,
            )
            .optional()
        })
        .await
    }

    /// The entry with `id`.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn entry_by_id(&self, id: i64) -> Result<Option<Entry>, DbError> {
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM entries WHERE id = ?1"),
                [id],
                Entry::from_row,
            )
            .optional()
        })
        .await
    }

    /// Adds an entry under a new slug made from its title (`-2` appended until unique, as
    /// Tornado's demo); returns the slug.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn create_entry(
        &self,
        author: &str,
        title: &str,
        body: &str,
    ) -> Result<String, DbError> {
        let (author, title, body) = (author.to_owned(), title.to_owned(), body.to_owned());
        self.call(move |conn| {
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

    /// Changes an entry's title and text (its slug stays); returns the slug, or `None` if
    /// there is no entry `id`.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn update_entry(
        &self,
        id: i64,
        title: &str,
        body: &str,
    ) -> Result<Option<String>, DbError> {
        let (title, body) = (title.to_owned(), body.to_owned());
        self.call(move |conn| {
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

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// The blog application's configuration.
#[derive(Clone)]
pub struct BlogConfig {
    /// The blog's title (the templates' `blog_title`).
    pub title: String,
    /// The templates (`base.html` and the pages).
    pub template_path: PathBuf,
    /// The static files (`blog.css`).
    pub static_path: PathBuf,
    /// The key that signs the login cookie.
    pub cookie_secret: String,
    /// The one author's name.
    pub author: String,
    /// The author's password.
    pub password: String,
    /// Debug mode (templates reloaded, static hashes not cached, tracebacks in 500 pages).
    pub debug: bool,
    /// Tornado's CSV translations (`fr_FR.csv`, `es_ES.csv`), chosen by `Accept-Language`;
    /// `None` for English only.
    pub translations_path: Option<PathBuf>,
}

impl BlogConfig {
    /// The templates shipped with the examples: `examples/templates/blog`.
    pub fn default_template_path() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/blog"))
    }

    /// The translations shipped with the examples: `examples/translations/blog` (French and
    /// Spanish).
    pub fn default_translations_path() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/translations/blog"))
    }

    /// The static files shipped with the examples: `examples/static/blog`.
    pub fn default_static_path() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static/blog"))
    }
}

impl Default for BlogConfig {
    /// The shipped templates and static files, author `demo` with an empty password (which
    /// never signs in: set one), Tornado's placeholder secret, no debug.
    fn default() -> Self {
        Self {
            title: "Typhoon Blog".to_owned(),
            template_path: Self::default_template_path(),
            static_path: Self::default_static_path(),
            cookie_secret: "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__".to_owned(),
            author: "demo".to_owned(),
            password: String::new(),
            debug: false,
            translations_path: Some(Self::default_translations_path()),
        }
    }
}

impl fmt::Debug for BlogConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlogConfig")
            .field("title", &self.title)
            .field("template_path", &self.template_path)
            .field("static_path", &self.static_path)
            .field("author", &self.author)
            .field("debug", &self.debug)
            .field("translations_path", &self.translations_path)
            .finish_non_exhaustive()
    }
}

/// What every handler shares.
#[derive(Debug)]
struct Blog {
    /// The entries.
    db: Db,
    /// The one author.
    author: String,
    /// The author's password.
    password: String,
}

/// The application of the `blog` example over `db`.
pub fn make_app(config: BlogConfig, db: Db) -> Application {
    let mut loader = Loader::new(&config.template_path);
    loader.add_global("blog_title", config.title.as_str());
    let settings = Settings {
        debug: config.debug,
        cookie_secret: Some(config.cookie_secret),
        xsrf_cookies: true,
        login_url: Some("/auth/login".to_owned()),
        static_path: Some(config.static_path),
        templates: Some(loader),
        ..Settings::default()
    };
    let blog = Rc::new(Blog {
        db,
        author: config.author,
        password: config.password,
    });
    let handler = |page: Page| {
        let blog = Rc::clone(&blog);
        move || BlogHandler {
            blog: Rc::clone(&blog),
            page,
        }
    };
    // Tornado's `load_translations`: a directory that cannot be read leaves the blog in
    // English, with the reason logged.
    let translations = config
        .translations_path
        .as_ref()
        .map(|path| {
            Translations::load_csv(path, None).unwrap_or_else(|error| {
                tracing::error!(target: "typhoon::application", "cannot load translations: {error}");
                Translations::new()
            })
        })
        .unwrap_or_default();
    Application::with_settings(
        vec![
            route("/", handler(Page::Home)),
            route("/archive", handler(Page::Archive)),
            route("/entry/([^/]+)", handler(Page::Entry)),
            route("/compose", handler(Page::Compose))
                .authenticated()
                .max_body_size(1024 * 1024),
            route("/auth/login", handler(Page::Login)),
            route("/auth/logout", handler(Page::Logout)),
        ],
        settings,
    )
    .translations(translations)
    .ui_module("Entry", || EntryModule)
}

/// Tornado's `EntryModule`: one entry, as the home page and the entry page show it
/// (`{{ module("Entry", entry) }}`), from `modules/entry.html`.
#[derive(Debug)]
pub struct EntryModule;

impl UIModule for EntryModule {
    fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError> {
        let entry: typhoon_template::Value = call.arg(0)?;
        call.render_string("modules/entry.html", typhoon_template::context! { entry })
    }
}

/// Which page a [`BlogHandler`] serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/`: the latest entries.
    Home,
    /// `/archive`: every entry.
    Archive,
    /// `/entry/<slug>`: one entry.
    Entry,
    /// `/compose`: write or edit (authenticated).
    Compose,
    /// `/auth/login`.
    Login,
    /// `/auth/logout`.
    Logout,
}

/// The blog's handler (Tornado's demo has a `BaseHandler` and one subclass per page; here one
/// handler matches on its [`Page`]).
#[derive(Debug)]
pub struct BlogHandler {
    /// The database and the author.
    blog: Rc<Blog>,
    /// The page this route serves.
    page: Page,
}

/// A template context of entries.
#[derive(Serialize)]
struct Entries {
    /// The entries.
    entries: Vec<Entry>,
}

/// The entry page's context.
#[derive(Serialize)]
struct EntryPage {
    /// The entry.
    entry: Entry,
}

/// The compose form's context.
#[derive(Serialize)]
struct ComposePage {
    /// The entry being edited, if any.
    entry: Option<Entry>,
}

/// The login form's context.
#[derive(Serialize)]
struct LoginPage<'a> {
    /// Where to go after signing in.
    next: &'a str,
    /// Why the last attempt failed.
    error: Option<&'a str>,
}

/// Compares in time independent of where the inputs differ (for the password).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The optional `id` argument: `None` when absent or empty, 400 when not a number.
fn id_argument(cx: &mut Context) -> Result<Option<i64>, HTTPError> {
    let id = cx.get_argument_or("id", "");
    if id.is_empty() {
        return Ok(None);
    }
    id.parse()
        .map(Some)
        .map_err(|_| HTTPError::with_log_message(400, "id is not a number"))
}

impl BlogHandler {
    async fn compose_form(&self, cx: &mut Context) -> Result<(), HTTPError> {
        let entry = match id_argument(cx)? {
            Some(id) => Some(
                self.blog
                    .db
                    .entry_by_id(id)
                    .await?
                    .ok_or_else(|| HTTPError::new(404))?,
            ),
            None => None,
        };
        cx.render("compose.html", ComposePage { entry })?;
        Ok(())
    }

    async fn compose(&self, cx: &mut Context) -> Result<(), HTTPError> {
        let id = id_argument(cx)?;
        let title = cx.get_argument("title")?;
        let body = cx.get_argument("body")?;
        if title.is_empty() {
            return Err(HTTPError::with_log_message(400, "empty title"));
        }
        let slug = match id {
            Some(id) => self
                .blog
                .db
                .update_entry(id, &title, &body)
                .await?
                .ok_or_else(|| HTTPError::new(404))?,
            None => {
                let author = cx.current_user::<String>().cloned().unwrap_or_default();
                self.blog.db.create_entry(&author, &title, &body).await?
            }
        };
        cx.redirect(&format!("/entry/{slug}"))?;
        Ok(())
    }

    async fn login(&self, cx: &mut Context) -> Result<(), HTTPError> {
        let name = cx.get_argument_or("name", "");
        let password = cx.get_argument_or("password", "");
        let next = cx.get_argument_or("next", "/");
        let next = local_path(&next);
        let valid = !self.blog.password.is_empty()
            && constant_time_eq(name.as_bytes(), self.blog.author.as_bytes())
            && constant_time_eq(password.as_bytes(), self.blog.password.as_bytes());
        if !valid {
            cx.set_status(403);
            let page = LoginPage {
                next,
                error: Some("Wrong name or password."),
            };
            cx.render("login.html", page)?;
            return Ok(());
        }
        let options = CookieOptions {
            expires_days: Some(30.0),
            httponly: true,
            samesite: Some("Lax".to_owned()),
            ..CookieOptions::default()
        };
        cx.set_signed_cookie_with(USER_COOKIE, &self.blog.author, &options)?;
        cx.redirect(next)?;
        Ok(())
    }
}

impl RequestHandler for BlogHandler {
    const ALLOWED_METHODS: &'static [&'static str] = &["GET", "POST"];

    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        // Only a successful login sets this cookie, and it is signed with the blog's secret.
        Ok(cx.get_signed_cookie(USER_COOKIE).map(CurrentUser::new))
    }

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        match self.page {
            Page::Home => {
                let entries = self.blog.db.latest(Some(HOME_ENTRIES)).await?;
                cx.render("home.html", Entries { entries })?;
            }
            Page::Archive => {
                let entries = self.blog.db.latest(None).await?;
                cx.render("archive.html", Entries { entries })?;
            }
            Page::Entry => {
                let slug = cx.path_args().first().cloned().unwrap_or_default();
                let entry = self
                    .blog
                    .db
                    .entry_by_slug(&slug)
                    .await?
                    .ok_or_else(|| HTTPError::new(404))?;
                cx.render("entry.html", EntryPage { entry })?;
            }
            Page::Compose => self.compose_form(cx).await?,
            Page::Login => {
                let next = cx.get_argument_or("next", "/");
                let next = local_path(&next);
                cx.render("login.html", LoginPage { next, error: None })?;
            }
            Page::Logout => {
                cx.clear_cookie(USER_COOKIE, &CookieOptions::default())?;
                let next = cx.get_argument_or("next", "/");
                cx.redirect(local_path(&next))?;
            }
        }
        Ok(())
    }

    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        match self.page {
            Page::Compose => self.compose(cx).await,
            Page::Login => self.login(cx).await,
            _ => Err(HTTPError::new(405)),
        }
    }
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
    fn password_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
