//! [`StaticFileHandler`]: Tornado's `StaticFileHandler`, files under a root directory with
//! ETags, ranges and `sendfile(2)`, customized through [`StaticFileHooks`].

mod hooks;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use typhoon_httputil::{format_timestamp, parse_http_date};

pub use self::hooks::{DefaultStaticFileHooks, StaticFile, StaticFileHooks};
use crate::context::Context;
use crate::context::response::etag_matches;
use crate::error::HTTPError;
use crate::handler::RequestHandler;
use crate::range::{RangeAnswer, parse_request_range, resolve_range};

/// Serves files under a root directory (Tornado's `StaticFileHandler`); the route's first
/// capture is the path relative to the root.
///
/// ETag from size and modification time (no hashing per request), `Last-Modified`, 304 on
/// `If-None-Match`/`If-Modified-Since`, single byte ranges as Tornado answers them (206; 200
/// for a range covering the whole file or a header that is not a single range; 416 with
/// `bytes */size`; numbers of any size), HEAD, `Content-Type` by extension, a ten-year
/// `Cache-Control` for URLs with `?v=`, and 403 for anything outside the root: `..`
/// components, absolute paths, NUL bytes, and symlinks that resolve outside it. Files are
/// never read whole: the body goes with [`Context::send_file`] (`sendfile(2)` on plain TCP;
/// 64 KiB pieces over TLS or gzip).
///
/// What Tornado's subclasses override is the hooks type `H`, [`DefaultStaticFileHooks`]
/// unless [`hooks`](Self::hooks) gives another: see [`StaticFileHooks`].
///
/// # Examples
///
/// ```
/// use typhoon_web::{Application, StaticFileHandler, route};
///
/// let app = Application::new(vec![route(r"/files/(.*)", || StaticFileHandler::new("/srv/files"))]);
/// ```
pub struct StaticFileHandler<H = DefaultStaticFileHooks> {
    /// The directory served.
    root: PathBuf,
    /// Served for a directory (`index.html`, say); without it directories are 403.
    default_filename: Option<String>,
    /// Tornado's overridable methods (shared with the application's `static_url` when it
    /// serves the static routes).
    hooks: Arc<H>,
}

impl<H> Clone for StaticFileHandler<H> {
    fn clone(&self) -> Self {
        Self {
            root: self.root.clone(),
            default_filename: self.default_filename.clone(),
            hooks: Arc::clone(&self.hooks),
        }
    }
}

impl<H> fmt::Debug for StaticFileHandler<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticFileHandler")
            .field("root", &self.root)
            .field("default_filename", &self.default_filename)
            .field("hooks", &std::any::type_name::<H>())
            .finish()
    }
}

impl StaticFileHandler {
    /// Serves `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            default_filename: None,
            hooks: Arc::new(DefaultStaticFileHooks),
        }
    }

    /// Serves `root`, and `name` for its directories (Tornado's `default_filename`).
    pub fn with_default_filename(root: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        Self {
            default_filename: Some(name.into()),
            ..Self::new(root)
        }
    }
}

impl<H: StaticFileHooks> StaticFileHandler<H> {
    /// The same handler with Tornado's overridable methods taken from `hooks` (a subclass of
    /// `StaticFileHandler`, in Tornado).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use typhoon_web::{Application, Context, HTTPError, StaticFileHandler, StaticFileHooks, route};
    ///
    /// struct Frameable;
    /// impl StaticFileHooks for Frameable {
    ///     fn set_extra_headers(&self, cx: &mut Context, _path: &str) -> Result<(), HTTPError> {
    ///         cx.set_header("X-Frame-Options", "SAMEORIGIN")?;
    ///         Ok(())
    ///     }
    /// }
    /// let app = Application::new(vec![route(r"/files/(.*)", || {
    ///     StaticFileHandler::with_default_filename("/srv/files", "index.html").hooks(Frameable)
    /// })]);
    /// # drop(app);
    /// ```
    pub fn hooks<H2: StaticFileHooks>(self, hooks: H2) -> StaticFileHandler<H2> {
        self.shared_hooks(Arc::new(hooks))
    }

    /// [`hooks`](Self::hooks) with hooks already shared (the application's).
    pub(crate) fn shared_hooks<H2: StaticFileHooks>(self, hooks: Arc<H2>) -> StaticFileHandler<H2> {
        StaticFileHandler {
            root: self.root,
            default_filename: self.default_filename,
            hooks,
        }
    }

    /// Resolves `relative` inside the root with the hooks' `get_absolute_path`, following
    /// symlinks: 403 outside it, 404 if missing. Serving also goes through
    /// `validate_absolute_path`; this is the check alone, for code of your own.
    ///
    /// # Errors
    ///
    /// 403 for traversal attempts, 404 for missing files.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, HTTPError> {
        let absolute = self.hooks.get_absolute_path(&self.root, relative)?;
        let forbidden = || {
            HTTPError::with_log_message(403, format!("{relative} is not in root static directory"))
        };
        let root = self
            .root
            .canonicalize()
            .map_err(|_| HTTPError::with_log_message(404, "static root does not exist"))?;
        let canonical = match absolute.canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(HTTPError::new(404)),
            Err(_) => return Err(forbidden()),
        };
        if !canonical.starts_with(&root) {
            return Err(forbidden());
        }
        Ok(canonical)
    }

    /// Tornado's `StaticFileHandler.get`, through the hooks.
    async fn serve(&mut self, cx: &mut Context, include_body: bool) -> Result<(), HTTPError> {
        let captured = cx.path_args().first().cloned().unwrap_or_default();
        let path = self.hooks.parse_url_path(&captured);
        let absolute = self.hooks.get_absolute_path(&self.root, &path)?;
        let validated = self.hooks.validate_absolute_path(
            cx,
            &self.root,
            &absolute,
            self.default_filename.as_deref(),
        )?;
        match validated {
            Some(file) => self.serve_file(cx, include_body, &path, file).await,
            None => Ok(()),
        }
    }

    /// The headers and body of an opened regular file (Tornado's `set_headers`,
    /// `should_return_304` and the rest of `get`).
    async fn serve_file(
        &mut self,
        cx: &mut Context,
        include_body: bool,
        path: &str,
        file: StaticFile,
    ) -> Result<(), HTTPError> {
        let size = file.metadata().len();
        let modified = file.metadata().modified().unwrap_or(UNIX_EPOCH);
        let mtime = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        let etag = format!("\"{size:x}-{:x}\"", mtime.as_nanos());
        let modified_secs = UNIX_EPOCH + Duration::from_secs(mtime.as_secs());
        cx.set_header("Accept-Ranges", "bytes")?;
        cx.set_header("Etag", &etag)?;
        cx.set_header("Last-Modified", format_timestamp(modified_secs))?;
        let content_type = self.hooks.get_content_type(file.path());
        cx.set_header("Content-Type", &content_type)?;
        let cache_time = self
            .hooks
            .get_cache_time(cx, path, modified_secs, &content_type)
            .as_secs();
        if cache_time > 0 {
            cx.set_header(
                "Expires",
                format_timestamp(SystemTime::now() + Duration::from_secs(cache_time)),
            )?;
            cx.set_header("Cache-Control", format!("max-age={cache_time}"))?;
        }
        self.hooks.set_extra_headers(cx, path)?;
        let headers = &cx.request().headers;
        let not_modified = match headers.get("If-None-Match") {
            Some(header) => etag_matches(header, &etag),
            None => headers
                .get("If-Modified-Since")
                .and_then(parse_http_date)
                .is_some_and(|since| since >= modified_secs),
        };
        if not_modified {
            // `finish` drops Content-Type and the other representation headers of a 304.
            cx.set_status(304);
            return Ok(());
        }
        let answer = cx
            .request()
            .headers
            .get("Range")
            .and_then(parse_request_range)
            .map_or(RangeAnswer::Whole, |range| resolve_range(range, size));
        let (start, end) = match answer {
            RangeAnswer::Whole => (0, size),
            RangeAnswer::Partial { start, end } => {
                cx.set_status(206);
                cx.set_header("Content-Range", format!("bytes {start}-{}/{size}", end - 1))?;
                (start, end)
            }
            RangeAnswer::Unsatisfiable => {
                cx.set_status(416);
                cx.set_header("Content-Type", "text/plain")?;
                cx.set_header("Content-Range", format!("bytes */{size}"))?;
                return Ok(());
            }
        };
        let length = end - start;
        cx.set_header("Content-Length", length.to_string())?;
        if !include_body || length == 0 {
            return Ok(());
        }
        cx.send_file(file.file(), start, length).await?;
        Ok(())
    }

    /// The directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl<H: StaticFileHooks> RequestHandler for StaticFileHandler<H> {
    const ALLOWED_METHODS: &'static [&'static str] = &["GET", "HEAD"];
    const CHECK_XSRF: bool = false;

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx, true).await
    }

    async fn head(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx, false).await
    }
}
