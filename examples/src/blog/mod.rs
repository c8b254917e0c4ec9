//! Tornado's blog demo (`demos/blog`), simplified, on `typhoon-web` and SQLite or PostgreSQL.
//!
//! What it shows: template inheritance (`base.html` and a page per route), static files with
//! versioned URLs (`static_url("blog.css")` is `/static/blog.css?v=<hash>`), a signed-cookie
//! login, XSRF-protected forms, `authenticated` routes, and two ways to reach a database from
//! the loop: the default SQLite backend ([`sqlite`]) keeps its blocking driver off the loop, every
//! call on the loop's executor through
//! [`IOLoop::run_in_executor`](typhoon_ioloop::IOLoop::run_in_executor); the PostgreSQL backend
//! ([`postgres`], `--db=postgres://…`) runs tokio-postgres on typhoon-platform's tokio bridge.
//! Both apply their schema's migrations at start (a `schema_migrations` table), and both limit a
//! title to [`MAX_TITLE_CHARS`] characters in the database: a longer one is a constraint
//! violation, answered with a 400 page ("Title Too Long") and nothing written. While PostgreSQL
//! is unreachable the pages that need it answer 503, and the blog recovers once it is back.
//!
//! Departures from Tornado's demo: one fixed author whose name and password come from the
//! configuration (Tornado's has a sign-up form and bcrypt), plain text paragraphs instead of
//! Markdown, no Atom feed, and SQLite (in memory) as the default instead of PostgreSQL, so the
//! demo needs no server.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | the five latest entries |
//! | `GET /entry/<slug>` | one entry (404 if none) |
//! | `GET /archive` | every entry, newest first |
//! | `GET /compose[?id=N]`, `POST /compose` | write or edit an entry (authenticated) |
//! | `GET /auth/login`, `POST /auth/login` | sign in (signed cookie `blogdemo_user`) |
//! | `GET /auth/logout` | sign out |

mod model;
pub mod postgres;
pub mod sqlite;

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::redirects::local_path;
use serde::Serialize;
use typhoon_locale::Translations;
use typhoon_template::Loader;
use typhoon_web::{
    Application, Context, CookieOptions, CurrentUser, HTTPError, ModuleCall, ModuleError,
    RequestHandler, Settings, UIModule, route,
};

pub use model::{DbError, Entry, MAX_TITLE_CHARS, slugify};
pub use postgres::PostgresDb;
pub use sqlite::SqliteDb;

/// The signed cookie holding the author's name.
pub const USER_COOKIE: &str = "blogdemo_user";

/// How many entries the home page shows.
pub const HOME_ENTRIES: usize = 5;

/// The blog's database: SQLite (the zero-setup default) or PostgreSQL. Cheap to clone (clones
/// share the connection).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Db {
    /// SQLite, on the loop's executor.
    Sqlite(SqliteDb),
    /// PostgreSQL, on the tokio bridge.
    Postgres(PostgresDb),
}

impl Db {
    /// Opens (creating if needed) the SQLite database at `path`, or an in-memory one for
    /// `:memory:`, and applies the migrations it lacks.
    ///
    /// # Errors
    ///
    /// SQLite's, if the file cannot be opened or the schema migrated.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        SqliteDb::open(path).map(Self::Sqlite)
    }

    /// An in-memory SQLite database (gone when the last clone is dropped).
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn open_in_memory() -> Result<Self, DbError> {
        Self::open(Path::new(":memory:"))
    }

    /// Connects to PostgreSQL and applies the migrations it lacks ([`PostgresDb::connect`]).
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`] if the server cannot be reached, [`DbError::Postgres`] if a
    /// migration fails.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the call; the migrations' transaction is rolled back.
    pub async fn connect_postgres(config: tokio_postgres::Config) -> Result<Self, DbError> {
        PostgresDb::connect(config).await.map(Self::Postgres)
    }

    /// The `limit` latest entries, newest first (all with `None`).
    ///
    /// # Errors
    ///
    /// The backend's: [`DbError::Unavailable`] while PostgreSQL cannot be reached.
    ///
    /// # Cancel safety
    ///
    /// A statement is never half done: a cancelled call is rolled back or finishes with its
    /// result discarded.
    pub async fn latest(&self, limit: Option<usize>) -> Result<Vec<Entry>, DbError> {
        match self {
            Self::Sqlite(db) => db.latest(limit).await,
            Self::Postgres(db) => db.latest(limit).await,
        }
    }

    /// The entry at `slug`.
    ///
    /// # Errors
    ///
    /// As [`latest`](Self::latest).
    ///
    /// # Cancel safety
    ///
    /// As [`latest`](Self::latest).
    pub async fn entry_by_slug(&self, slug: &str) -> Result<Option<Entry>, DbError> {
        match self {
            Self::Sqlite(db) => db.entry_by_slug(slug).await,
            Self::Postgres(db) => db.entry_by_slug(slug).await,
        }
    }

    /// The entry with `id`.
    ///
    /// # Errors
    ///
    /// As [`latest`](Self::latest).
    ///
    /// # Cancel safety
    ///
    /// As [`latest`](Self::latest).
    pub async fn entry_by_id(&self, id: i64) -> Result<Option<Entry>, DbError> {
        match self {
            Self::Sqlite(db) => db.entry_by_id(id).await,
            Self::Postgres(db) => db.entry_by_id(id).await,
        }
    }

    /// Adds an entry under a new slug made from its title (`-2` appended until unique, as
    /// Tornado's demo), in one transaction; returns the slug.
    ///
    /// # Errors
    ///
    /// [`DbError::TitleTooLong`] for a title over [`MAX_TITLE_CHARS`] characters (nothing is
    /// written), or as [`latest`](Self::latest).
    ///
    /// # Cancel safety
    ///
    /// As [`latest`](Self::latest).
    pub async fn create_entry(
        &self,
        author: &str,
        title: &str,
        body: &str,
    ) -> Result<String, DbError> {
        match self {
            Self::Sqlite(db) => db.create_entry(author, title, body).await,
            Self::Postgres(db) => db.create_entry(author, title, body).await,
        }
    }

    /// Changes an entry's title and text (its slug stays); returns the slug, or `None` if
    /// there is no entry `id`.
    ///
    /// # Errors
    ///
    /// As [`create_entry`](Self::create_entry): the entry is unchanged on an error.
    ///
    /// # Cancel safety
    ///
    /// As [`latest`](Self::latest).
    pub async fn update_entry(
        &self,
        id: i64,
        title: &str,
        body: &str,
    ) -> Result<Option<String>, DbError> {
        match self {
            Self::Sqlite(db) => db.update_entry(id, title, body).await,
            Self::Postgres(db) => db.update_entry(id, title, body).await,
        }
    }
}

/// The page a database error gives, its cause kept for the log: 400 "Title Too Long", 503
/// while the database is unavailable, 500 otherwise ([`DbError::status`]).
fn http_error(error: DbError) -> HTTPError {
    let status = error.status();
    let title_too_long = matches!(error, DbError::TitleTooLong(_));
    let mut http = HTTPError::with_source(status, error);
    if title_too_long {
        http.set_reason("Title Too Long");
    }
    http
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
                    .await
                    .map_err(http_error)?
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
                .await
                .map_err(http_error)?
                .ok_or_else(|| HTTPError::new(404))?,
            None => {
                let author = cx.current_user::<String>().cloned().unwrap_or_default();
                self.blog
                    .db
                    .create_entry(&author, &title, &body)
                    .await
                    .map_err(http_error)?
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
                let entries = self
                    .blog
                    .db
                    .latest(Some(HOME_ENTRIES))
                    .await
                    .map_err(http_error)?;
                cx.render("home.html", Entries { entries })?;
            }
            Page::Archive => {
                let entries = self.blog.db.latest(None).await.map_err(http_error)?;
                cx.render("archive.html", Entries { entries })?;
            }
            Page::Entry => {
                let slug = cx.path_args().first().cloned().unwrap_or_default();
                let entry = self
                    .blog
                    .db
                    .entry_by_slug(&slug)
                    .await
                    .map_err(http_error)?
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
    fn password_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
