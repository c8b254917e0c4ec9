//! [`StaticFileHandler`]: Tornado's `StaticFileHandler`, files under a root directory with
//! ETags, ranges and `sendfile(2)`.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use typhoon_httputil::{format_timestamp, parse_http_date};

use crate::context::Context;
use crate::context::response::etag_matches;
use crate::error::HTTPError;
use crate::handler::RequestHandler;
use crate::range::{RangeAnswer, parse_request_range, resolve_range};

/// Tornado's `StaticFileHandler.CACHE_MAX_AGE`: ten years, for versioned URLs.
const CACHE_MAX_AGE: u64 = 86400 * 365 * 10;

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
/// # Examples
///
/// ```
/// use typhoon_web::{Application, StaticFileHandler, route};
///
/// let app = Application::new(vec![route(r"/files/(.*)", || StaticFileHandler::new("/srv/files"))]);
/// ```
#[derive(Clone, Debug)]
pub struct StaticFileHandler {
    /// The directory served.
    root: PathBuf,
    /// Served for a directory (`index.html`, say); without it directories are 403.
    default_filename: Option<String>,
}

impl StaticFileHandler {
    /// Serves `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            default_filename: None,
        }
    }

    /// Serves `root`, and `name` for its directories (Tornado's `default_filename`).
    pub fn with_default_filename(root: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        Self {
            default_filename: Some(name.into()),
            ..Self::new(root)
        }
    }

    /// Resolves `relative` inside the root: 403 outside it, 404 if missing.
    ///
    /// # Errors
    ///
    /// 403 for traversal attempts, 404 for missing files.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, HTTPError> {
        let path = self.check_relative(relative)?;
        let forbidden = || {
            HTTPError::with_log_message(403, format!("{relative} is not in root static directory"))
        };
        let root = self
            .root
            .canonicalize()
            .map_err(|_| HTTPError::with_log_message(404, "static root does not exist"))?;
        let canonical = match root.join(path).canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(HTTPError::new(404)),
            Err(_) => return Err(forbidden()),
        };
        if !canonical.starts_with(&root) {
            return Err(forbidden());
        }
        Ok(canonical)
    }

    /// The syntactic checks, without touching the file system: 403 for NUL bytes,
    /// backslashes, absolute paths and `..` components.
    fn check_relative<'a>(&self, relative: &'a str) -> Result<&'a Path, HTTPError> {
        let forbidden = || {
            HTTPError::with_log_message(403, format!("{relative} is not in root static directory"))
        };
        if relative.contains('\0') || relative.contains('\\') {
            return Err(forbidden());
        }
        let path = Path::new(relative);
        if path.is_absolute()
            || path
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(forbidden());
        }
        Ok(path)
    }

    async fn serve(&mut self, cx: &mut Context, include_body: bool) -> Result<(), HTTPError> {
        let relative = cx.path_args().first().cloned().unwrap_or_default();
        // The fast path opens the file in one syscall, confined to the root by the kernel;
        // anything unusual (a directory, a symlink the kernel will not follow beneath the
        // root, an old kernel) takes the portable path below.
        if let Some(opened) = self.open_beneath(&relative)? {
            return self.serve_file(cx, include_body, opened).await;
        }
        let mut path = self.resolve(&relative)?;
        let mut metadata = std::fs::metadata(&path).map_err(|_| HTTPError::new(404))?;
        if metadata.is_dir() {
            let Some(name) = self.default_filename.clone() else {
                return Err(HTTPError::with_log_message(403, "is a directory"));
            };
            let request_path = cx.request().path().to_owned();
            if !request_path.ends_with('/') {
                cx.redirect_with_status(&format!("{request_path}/"), 301)?;
                return Ok(());
            }
            path = self.resolve(
                format!("{}/{name}", relative.trim_end_matches('/')).trim_start_matches('/'),
            )?;
            metadata = std::fs::metadata(&path).map_err(|_| HTTPError::new(404))?;
        }
        if !metadata.is_file() {
            return Err(HTTPError::with_log_message(403, "not a file"));
        }
        let file = std::fs::File::open(&path).map_err(|_| HTTPError::new(404))?;
        self.serve_file(cx, include_body, (file, metadata, path))
            .await
    }

    /// `openat2(RESOLVE_BENEATH)` under the root (opened once per thread): the file, its
    /// metadata and its path, or `None` to take the portable path (directories, symlinks with
    /// absolute targets, kernels without `openat2`).
    ///
    /// # Errors
    ///
    /// 403 for traversal attempts (checked without a syscall), 404 for missing files.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn open_beneath(
        &self,
        relative: &str,
    ) -> Result<Option<(std::fs::File, std::fs::Metadata, PathBuf)>, HTTPError> {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        let path = self.check_relative(relative)?;
        if relative.is_empty() || relative.ends_with('/') {
            return Ok(None);
        }
        let Some(root) = root_fd(&self.root) else {
            return Ok(None);
        };
        let opened = rustix::fs::openat2(
            &*root,
            path,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        );
        match opened {
            Ok(fd) => {
                let file = std::fs::File::from(fd);
                let metadata = file.metadata()?;
                if !metadata.is_file() {
                    return Ok(None);
                }
                Ok(Some((file, metadata, path.to_path_buf())))
            }
            Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => Err(HTTPError::new(404)),
            Err(_) => Ok(None),
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn open_beneath(
        &self,
        relative: &str,
    ) -> Result<Option<(std::fs::File, std::fs::Metadata, PathBuf)>, HTTPError> {
        self.check_relative(relative)?;
        Ok(None)
    }

    /// The headers and body of an opened regular file.
    async fn serve_file(
        &mut self,
        cx: &mut Context,
        include_body: bool,
        (file, metadata, path): (std::fs::File, std::fs::Metadata, PathBuf),
    ) -> Result<(), HTTPError> {
        let size = metadata.len();
        let modified = metadata.modified().unwrap_or(UNIX_EPOCH);
        let mtime = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        let etag = format!("\"{size:x}-{:x}\"", mtime.as_nanos());
        let modified_secs = UNIX_EPOCH + Duration::from_secs(mtime.as_secs());
        cx.set_header("Etag", &etag)?;
        cx.set_header("Last-Modified", format_timestamp(modified_secs))?;
        cx.set_header("Accept-Ranges", "bytes")?;
        if cx
            .request()
            .query()
            .split('&')
            .any(|kv| kv.starts_with("v="))
        {
            cx.set_header(
                "Expires",
                format_timestamp(SystemTime::now() + Duration::from_secs(CACHE_MAX_AGE)),
            )?;
            cx.set_header("Cache-Control", format!("max-age={CACHE_MAX_AGE}"))?;
        }
        let headers = &cx.request().headers;
        let not_modified = match headers.get("If-None-Match") {
            Some(header) => etag_matches(header, &etag),
            None => headers
                .get("If-Modified-Since")
                .and_then(parse_http_date)
                .is_some_and(|since| since >= modified_secs),
        };
        if not_modified {
            cx.set_status(304);
            return Ok(());
        }
        let content_type = mime_guess::from_path(&path)
            .first_raw()
            .unwrap_or("application/octet-stream");
        cx.set_header("Content-Type", content_type)?;
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
        cx.send_file(&file, start, length).await?;
        Ok(())
    }
}

/// The static roots this thread has open (`O_PATH` directory descriptors), by path: opened
/// once, then every request resolves beneath one with a single `openat2`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn root_fd(root: &Path) -> Option<std::rc::Rc<std::os::fd::OwnedFd>> {
    use std::collections::HashMap;
    use std::rc::Rc;
    thread_local! {
        static ROOTS: std::cell::RefCell<HashMap<PathBuf, Rc<std::os::fd::OwnedFd>>> =
            std::cell::RefCell::new(HashMap::new());
    }
    ROOTS.with(|roots| {
        if let Some(fd) = roots.borrow().get(root) {
            return Some(Rc::clone(fd));
        }
        let fd = rustix::fs::open(
            root,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok()?;
        let fd = Rc::new(fd);
        roots
            .borrow_mut()
            .insert(root.to_path_buf(), Rc::clone(&fd));
        Some(fd)
    })
}

impl RequestHandler for StaticFileHandler {
    const ALLOWED_METHODS: &'static [&'static str] = &["GET", "HEAD"];
    const CHECK_XSRF: bool = false;

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx, true).await
    }

    async fn head(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx, false).await
    }
}
