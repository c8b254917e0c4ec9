//! [`StaticFileHooks`], the methods of Tornado's `StaticFileHandler` that subclasses
//! override, with Tornado's defaults in the trait ([`DefaultStaticFileHooks`] takes them all),
//! and [`StaticFile`], the file that `validate_absolute_path` opened.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::context::Context;
use crate::error::HTTPError;
use crate::static_urls::{StaticUrlSettings, UrlHooks};

/// The overridable methods of Tornado's `StaticFileHandler`, as a trait whose provided
/// methods are Tornado's defaults. Implement it on a type of your own and override what you
/// need; serve with [`StaticFileHandler::hooks`](crate::StaticFileHandler::hooks), and give it
/// to [`Application::static_hooks`](crate::Application::static_hooks) so that the static
/// routes and `static_url` use it too (Tornado's `static_handler_class` setting).
///
/// Tornado's class methods (`get_absolute_path`, `get_content_version`, `get_version`,
/// `make_static_url`) take `&self` here, so a hooks value can carry configuration (a CDN's
/// host, say); `static_url` calls them without a request, which is why the application keeps
/// its hooks behind an `Arc` and they must be `Send + Sync`. The instance methods get the
/// request's [`Context`] where Tornado's read `self.request`. An override cannot call the
/// default it replaces as `super()`; call [`DefaultStaticFileHooks`]'s instead, as the
/// example does.
///
/// A request for `<prefix>path` goes: [`parse_url_path`](Self::parse_url_path), then
/// [`get_absolute_path`](Self::get_absolute_path), then
/// [`validate_absolute_path`](Self::validate_absolute_path) (which opens the file), then
/// `Etag`, `Last-Modified`, `Accept-Ranges`,
/// [`get_content_type`](Self::get_content_type), [`get_cache_time`](Self::get_cache_time),
/// [`set_extra_headers`](Self::set_extra_headers), and the 304 check, ranges and body.
///
/// # Examples
///
/// Long caching for every file, a header of its own, and `.env` files hidden:
///
/// ```
/// use std::path::Path;
/// use std::time::{Duration, SystemTime};
/// use typhoon_web::{
///     Application, Context, DefaultStaticFileHooks, HTTPError, Settings, StaticFile,
///     StaticFileHooks,
/// };
///
/// struct MyStatic;
/// impl StaticFileHooks for MyStatic {
///     fn get_cache_time(&self, _: &Context, _: &str, _: SystemTime, _: &str) -> Duration {
///         Duration::from_secs(3600)
///     }
///     fn set_extra_headers(&self, cx: &mut Context, _path: &str) -> Result<(), HTTPError> {
///         cx.set_header("X-Content-Type-Options", "nosniff")?;
///         Ok(())
///     }
///     fn validate_absolute_path(
///         &self,
///         cx: &mut Context,
///         root: &Path,
///         absolute_path: &Path,
///         default_filename: Option<&str>,
///     ) -> Result<Option<StaticFile>, HTTPError> {
///         if absolute_path.extension().is_some_and(|e| e == "env") {
///             return Err(HTTPError::new(404));
///         }
///         DefaultStaticFileHooks.validate_absolute_path(cx, root, absolute_path, default_filename)
///     }
/// }
///
/// let settings = Settings { static_path: Some("static".into()), ..Settings::default() };
/// let app = Application::with_settings(vec![], settings).static_hooks(MyStatic);
/// # drop(app);
/// ```
pub trait StaticFileHooks: Send + Sync + 'static {
    /// Tornado's `CACHE_MAX_AGE`: how long [`get_cache_time`](Self::get_cache_time) lets a
    /// versioned URL be cached (ten years).
    const CACHE_MAX_AGE: Duration = Duration::from_secs(86400 * 365 * 10);

    /// Tornado's `MAX_VERSION_CONTENT_SIZE`: the largest file (in bytes) that
    /// [`get_content_version`](Self::get_content_version) hashes (64 MiB). Hashing runs on the
    /// loop, so this bounds how long `static_url` can block it; larger files get no version.
    const MAX_VERSION_CONTENT_SIZE: u64 = 64 * 1024 * 1024;

    /// Tornado's `MAX_CACHED_VERSIONS`: how many versions the application keeps (the least
    /// recently used is dropped first). It only bounds memory if `static_url` is called with
    /// many distinct paths.
    const MAX_CACHED_VERSIONS: usize = 10_000;

    /// Turns the route's capture (the URL path after the prefix) into the path relative to
    /// the root: the inverse of [`make_static_url`](Self::make_static_url). The default keeps
    /// it as it is.
    fn parse_url_path<'a>(&self, url_path: &'a str) -> Cow<'a, str> {
        Cow::Borrowed(url_path)
    }

    /// The location of `path` under `root`, checked as written (Tornado 6.6): 403 for NUL
    /// bytes, backslashes, absolute paths and `..` components, otherwise `root/path`.
    /// Symlinks are checked later, by [`validate_absolute_path`](Self::validate_absolute_path).
    /// `static_url` calls it too, so that no version is computed for a file outside the root.
    ///
    /// # Errors
    ///
    /// 403 for a path that leaves the root as written.
    fn get_absolute_path(&self, root: &Path, path: &str) -> Result<PathBuf, HTTPError> {
        Ok(root.join(check_relative(path)?))
    }

    /// Checks `absolute_path` (from [`get_absolute_path`](Self::get_absolute_path)) and opens
    /// it: the file must resolve inside `root`, symlinks included, and be a regular file. A
    /// directory is 403 without `default_filename`; with it, a URL without a trailing slash is
    /// redirected (301) to one with it, and `default_filename` in the directory is served.
    /// `Ok(None)` means the response is complete (the redirect); stop there.
    ///
    /// The default opens regular files with one `openat2(RESOLVE_BENEATH)` under `root` on
    /// Linux, where the kernel does the checks, and canonicalizes paths otherwise. An
    /// override that adds its own checks and then calls [`DefaultStaticFileHooks`]'s keeps
    /// that; one that opens the file itself returns [`StaticFile::open`].
    ///
    /// # Errors
    ///
    /// 403 outside the root or for anything but a regular file, 404 for a missing file.
    fn validate_absolute_path(
        &self,
        cx: &mut Context,
        root: &Path,
        absolute_path: &Path,
        default_filename: Option<&str>,
    ) -> Result<Option<StaticFile>, HTTPError> {
        default_validate_absolute_path(cx, root, absolute_path, default_filename)
    }

    /// The `Content-Type` of the file at `absolute_path`: by extension, with Tornado's rule for
    /// compressed files (RFC 6713): `.gz` (and `.tgz`, `.svgz`) is `application/gzip`, other
    /// compressions (`.bz2`, `.xz`, `.Z`, `.br`) and unknown types are
    /// `application/octet-stream`.
    fn get_content_type(&self, absolute_path: &Path) -> Cow<'static, str> {
        Cow::Borrowed(guess_content_type(absolute_path))
    }

    /// How long the response may be cached: nonzero (whole seconds) sets `Expires` and
    /// `Cache-Control: max-age`; zero leaves caching to the browser. `path` is the relative
    /// path, `modified` the file's modification time (whole seconds), `mime_type` the
    /// [`get_content_type`](Self::get_content_type). The default is
    /// [`CACHE_MAX_AGE`](Self::CACHE_MAX_AGE) for a request with a `v` argument (a versioned
    /// URL) and zero otherwise.
    fn get_cache_time(
        &self,
        cx: &Context,
        path: &str,
        modified: SystemTime,
        mime_type: &str,
    ) -> Duration {
        let _ = (path, modified, mime_type);
        let versioned = cx
            .request()
            .query()
            .split('&')
            .any(|kv| kv == "v" || kv.starts_with("v="));
        if versioned {
            Self::CACHE_MAX_AGE
        } else {
            Duration::ZERO
        }
    }

    /// Adds headers of your own to every response of the handler (after the caching headers,
    /// so it may also replace them). The default adds none.
    ///
    /// # Errors
    ///
    /// Whatever stops the request; an invalid header value is a 500.
    fn set_extra_headers(&self, cx: &mut Context, path: &str) -> Result<(), HTTPError> {
        let _ = (cx, path);
        Ok(())
    }

    /// The version string of the file at `absolute_path`, for `static_url`'s `?v=`. The
    /// default is the first 32 hex digits of the SHA-256 of its content (Tornado's is the
    /// whole SHA-512).
    ///
    /// # Errors
    ///
    /// Any error reading the file; also one of kind `InvalidInput` for anything but a regular
    /// file (a FIFO or a device would never finish) and `FileTooLarge` beyond
    /// [`MAX_VERSION_CONTENT_SIZE`](Self::MAX_VERSION_CONTENT_SIZE). `static_url` logs it and
    /// gives the URL no version.
    fn get_content_version(&self, absolute_path: &Path) -> std::io::Result<String> {
        sha256_version(absolute_path, Self::MAX_VERSION_CONTENT_SIZE)
    }

    /// The version of the static file `path` (relative to the `static_path` setting), from
    /// the application's cache or [`get_content_version`](Self::get_content_version); `None`
    /// if there is none. Override `get_content_version` rather than this, to keep the cache.
    ///
    /// # Errors
    ///
    /// What [`get_absolute_path`](Self::get_absolute_path) returns: 403 outside the root.
    fn get_version(
        &self,
        settings: &StaticUrlSettings<'_>,
        path: &str,
    ) -> Result<Option<String>, HTTPError> {
        let absolute = self.get_absolute_path(settings.static_path(), path)?;
        Ok(settings.cached_version(&absolute, |p| self.get_content_version(p)))
    }

    /// The URL of the static file `path`, relative to the current host: the
    /// `static_url_prefix` setting, the path, and `?v=<version>` when `include_version` and
    /// the file has a version. Override it (with
    /// [`parse_url_path`](Self::parse_url_path)) for URLs of another shape, a CDN's say.
    ///
    /// # Errors
    ///
    /// What [`get_version`](Self::get_version) returns: 403 outside the root.
    fn make_static_url(
        &self,
        settings: &StaticUrlSettings<'_>,
        path: &str,
        include_version: bool,
    ) -> Result<String, HTTPError> {
        let url = format!("{}{path}", settings.static_url_prefix());
        if !include_version {
            return Ok(url);
        }
        Ok(match self.get_version(settings, path)? {
            Some(version) => format!("{url}?v={version}"),
            None => url,
        })
    }
}

impl<H: StaticFileHooks> UrlHooks for H {
    fn make_url(
        &self,
        settings: &StaticUrlSettings<'_>,
        path: &str,
        include_version: bool,
    ) -> Result<String, HTTPError> {
        self.make_static_url(settings, path, include_version)
    }

    fn max_cached_versions(&self) -> usize {
        H::MAX_CACHED_VERSIONS
    }
}

/// Tornado's `StaticFileHandler` as it comes: every [`StaticFileHooks`] method at its
/// default. Overrides call its methods where Tornado's call `super()`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultStaticFileHooks;

impl StaticFileHooks for DefaultStaticFileHooks {}

/// A static file that [`validate_absolute_path`](StaticFileHooks::validate_absolute_path)
/// opened and checked: the handler sends it as it is, and its metadata gives `Etag`,
/// `Last-Modified` and `Content-Length`. Opening once keeps what is sent the file that was
/// checked.
#[derive(Debug)]
pub struct StaticFile {
    /// The open file.
    file: std::fs::File,
    /// Its metadata, from the open file.
    metadata: std::fs::Metadata,
    /// Its path, for [`get_content_type`](StaticFileHooks::get_content_type).
    path: PathBuf,
}

impl StaticFile {
    /// Opens the file at `path`, which must be a regular file. It checks nothing else:
    /// whether `path` may be served is the caller's decision.
    ///
    /// # Errors
    ///
    /// 404 if it does not exist, 403 if it may not be read or is not a regular file (it is
    /// checked before opening, since opening a FIFO would block), 500 with the cause for any
    /// other failure (an I/O error).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, HTTPError> {
        let path = path.into();
        let not_a_file =
            || HTTPError::with_log_message(403, format!("{} is not a file", path.display()));
        let before = std::fs::metadata(&path).map_err(open_error)?;
        if !before.is_file() {
            return Err(not_a_file());
        }
        let file = std::fs::File::open(&path).map_err(open_error)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(not_a_file());
        }
        Ok(Self {
            file,
            metadata,
            path,
        })
    }

    /// The open file.
    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    /// Its metadata (size and modification time).
    pub fn metadata(&self) -> &std::fs::Metadata {
        &self.metadata
    }

    /// The path it was opened at: under the root, or resolved.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The syntactic checks, without touching the file system: 403 for NUL bytes, backslashes,
/// absolute paths and `..` components.
fn check_relative(relative: &str) -> Result<&Path, HTTPError> {
    let forbidden =
        || HTTPError::with_log_message(403, format!("{relative} is not in root static directory"));
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

/// `validate_absolute_path`'s default: the kernel's check on Linux when it can, the
/// canonical paths otherwise.
fn default_validate_absolute_path(
    cx: &mut Context,
    root: &Path,
    absolute_path: &Path,
    default_filename: Option<&str>,
) -> Result<Option<StaticFile>, HTTPError> {
    // The fast path opens the file in one syscall, confined to the root by the kernel;
    // anything unusual (a directory, a symlink the kernel will not follow beneath the root,
    // a path not under the root as written, an old kernel) takes the portable path below.
    if let Ok(relative) = absolute_path.strip_prefix(root)
        && let Some(file) = open_beneath(root, relative)?
    {
        return Ok(Some(file));
    }
    let forbidden = || {
        HTTPError::with_log_message(
            403,
            format!(
                "{} is not in root static directory",
                absolute_path.display()
            ),
        )
    };
    let canonical_root = root
        .canonicalize()
        .map_err(|_| HTTPError::with_log_message(404, "static root does not exist"))?;
    let resolve = |path: &Path| match path.canonicalize() {
        Ok(p) if p.starts_with(&canonical_root) => Ok(p),
        Ok(_) => Err(forbidden()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(HTTPError::new(404)),
        Err(_) => Err(forbidden()),
    };
    let mut path = resolve(absolute_path)?;
    if path.is_dir() {
        let Some(name) = default_filename else {
            return Err(HTTPError::with_log_message(403, "is a directory"));
        };
        let request_path = cx.request().path().to_owned();
        if !request_path.ends_with('/') {
            // Two initial slashes (or a slash and a backslash) would make the redirect a
            // protocol-relative URL: an open redirect.
            if request_path.starts_with("//") || request_path.starts_with("/\\") {
                return Err(HTTPError::with_log_message(
                    403,
                    "cannot redirect path with two initial slashes",
                ));
            }
            cx.redirect_with_status(&format!("{request_path}/"), 301)?;
            return Ok(None);
        }
        path = resolve(&path.join(name))?;
    }
    StaticFile::open(path).map(Some)
}

/// `openat2(RESOLVE_BENEATH)` of `relative` under `root` (opened once per thread): the file,
/// or `None` to take the portable path (directories, symlinks with absolute targets, kernels
/// without `openat2`).
///
/// # Errors
///
/// 404 for missing files.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_beneath(root: &Path, relative: &Path) -> Result<Option<StaticFile>, HTTPError> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    if relative.as_os_str().is_empty() {
        return Ok(None);
    }
    let Some(root_fd) = root_fd(root) else {
        return Ok(None);
    };
    let opened = rustix::fs::openat2(
        &*root_fd,
        relative,
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
            Ok(Some(StaticFile {
                file,
                metadata,
                path: root.join(relative),
            }))
        }
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => Err(HTTPError::new(404)),
        Err(_) => Ok(None),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open_beneath(_root: &Path, _relative: &Path) -> Result<Option<StaticFile>, HTTPError> {
    Ok(None)
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

/// Tornado's `get_content_type`: Python's `mimetypes.guess_type` with its encodings
/// (compressions) and their short forms, gzip as `application/gzip` and any other
/// compression as `application/octet-stream`; otherwise the type of the extension.
fn guess_content_type(path: &Path) -> &'static str {
    const OCTET_STREAM: &str = "application/octet-stream";
    match path.extension().and_then(|e| e.to_str()) {
        // Python's suffix_map (`.tgz` is `.tar.gz`, ...) and encodings_map, case-sensitive.
        Some("gz" | "tgz" | "taz" | "tz" | "svgz") => "application/gzip",
        Some("Z" | "bz2" | "xz" | "br" | "tbz2" | "txz") => OCTET_STREAM,
        _ => mime_guess::from_path(path)
            .first_raw()
            .unwrap_or(OCTET_STREAM),
    }
}

/// The first 32 hex digits of the SHA-256 of the regular file at `path`, at most `max` bytes.
fn sha256_version(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let too_large = || {
        Error::new(
            ErrorKind::FileTooLarge,
            format!("content is larger than {max} bytes"),
        )
    };
    // Checked before opening: opening a FIFO with no writer blocks.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if metadata.len() > max {
        return Err(too_large());
    }
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > max {
            return Err(too_large());
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(&hasher.finalize()[..16]))
}

/// The answer to a static file that cannot be opened: 404 if it is missing, 403 if it may not
/// be read, else 500 keeping the cause.
fn open_error(error: std::io::Error) -> HTTPError {
    match error.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => HTTPError::new(404),
        std::io::ErrorKind::PermissionDenied => HTTPError::with_source(403, error),
        _ => HTTPError::with_source(500, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tornado's `StaticFileTest.test_static_compressed_files`, and the short forms.
    #[test]
    fn content_type_of_compressed_files() {
        for (name, expected) in [
            ("sample.xml.gz", "application/gzip"),
            ("sample.xml.bz2", "application/octet-stream"),
            ("sample.xml", "text/xml"),
            ("a.tgz", "application/gzip"),
            ("a.svgz", "application/gzip"),
            ("a.tar.xz", "application/octet-stream"),
            ("a.br", "application/octet-stream"),
            ("noextension", "application/octet-stream"),
            ("a.txt", "text/plain"),
        ] {
            assert_eq!(guess_content_type(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn absolute_path_checked_as_written() {
        let hooks = DefaultStaticFileHooks;
        let root = Path::new("/srv/static");
        assert_eq!(
            hooks
                .get_absolute_path(root, "a/b.txt")
                .map_err(|e| e.status()),
            Ok(PathBuf::from("/srv/static/a/b.txt"))
        );
        for bad in ["../x", "a/../../x", "/etc/passwd", "a\\b", "a\0b"] {
            let err = hooks.get_absolute_path(root, bad).err().map(|e| e.status());
            assert_eq!(err, Some(403), "{bad}");
        }
    }

    /// Tornado's `StaticFileVersionPathTest.test_max_size`, `test_directory`, `test_fifo`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn version_limits() {
        let dir = std::env::temp_dir().join(format!("typhoon-version-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let file = dir.join("inside.txt");
        std::fs::write(&file, "inside").expect("write");
        assert_eq!(sha256_version(&file, 6).map(|v| v.len()).ok(), Some(32));
        let err = sha256_version(&file, 5).err().map(|e| e.kind());
        assert_eq!(err, Some(std::io::ErrorKind::FileTooLarge));
        let err = sha256_version(&dir, 100).err().map(|e| e.kind());
        assert_eq!(err, Some(std::io::ErrorKind::InvalidInput));
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        if rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .is_ok()
        {
            let err = sha256_version(&fifo, 100).err().map(|e| e.kind());
            assert_eq!(err, Some(std::io::ErrorKind::InvalidInput));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
