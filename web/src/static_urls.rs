//! `static_url`'s state and types: [`StaticUrlSettings`], what a hooks type's
//! `make_static_url` sees (Tornado passes `settings`), [`StaticUrlOptions`], the keyword
//! arguments of `static_url`, and the application's cache of content versions.
//!
//! This module names no hooks type: the application hands it one as a [`UrlHooks`], which
//! every [`StaticFileHooks`](crate::StaticFileHooks) type is.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{HTTPError, WebError};

/// The keyword arguments of Tornado's `static_url(path, include_host=None,
/// include_version=True)`, for [`Context::static_url_with`](crate::Context::static_url_with).
///
/// # Examples
///
/// ```
/// use typhoon_web::StaticUrlOptions;
///
/// let absolute = StaticUrlOptions { include_host: true, ..Default::default() };
/// assert!(absolute.include_version);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticUrlOptions {
    /// Prefix the URL with the request's `protocol://host` (default `false`: relative to the
    /// current host).
    pub include_host: bool,
    /// Append the content version, `?v=<version>` by default (default `true`). Passed to
    /// [`make_static_url`](crate::StaticFileHooks::make_static_url), which may ignore it.
    pub include_version: bool,
}

impl Default for StaticUrlOptions {
    fn default() -> Self {
        Self {
            include_host: false,
            include_version: true,
        }
    }
}

/// What [`make_static_url`](crate::StaticFileHooks::make_static_url) and
/// [`get_version`](crate::StaticFileHooks::get_version) see of the application (Tornado passes
/// them the `settings` dictionary): the `static_path` and `static_url_prefix` settings, and
/// the application's cache of content versions.
pub struct StaticUrlSettings<'a> {
    /// The `static_path` setting.
    static_path: &'a Path,
    /// The `static_url_prefix` setting.
    static_url_prefix: &'a str,
    /// The versions computed so far; `None` in debug mode, where files change.
    cache: Option<&'a VersionCache>,
    /// The hooks type's `MAX_CACHED_VERSIONS`.
    max_cached_versions: usize,
}

impl fmt::Debug for StaticUrlSettings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticUrlSettings")
            .field("static_path", &self.static_path)
            .field("static_url_prefix", &self.static_url_prefix)
            .field("cached", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> StaticUrlSettings<'a> {
    /// The `static_path` setting: the directory served under the prefix.
    pub fn static_path(&self) -> &'a Path {
        self.static_path
    }

    /// The `static_url_prefix` setting (default `/static/`).
    pub fn static_url_prefix(&self) -> &'a str {
        self.static_url_prefix
    }

    /// The version of the file at `absolute_path` from the application's cache, or from
    /// `compute` the first time (Tornado's `_get_cached_version`). Outside debug mode each
    /// path is computed once and kept, up to the hooks type's `MAX_CACHED_VERSIONS` entries
    /// (the least recently used is dropped first); in debug mode it is computed every time.
    /// A failure is logged on `typhoon::general` and cached as no version.
    pub fn cached_version(
        &self,
        absolute_path: &Path,
        compute: impl FnOnce(&Path) -> std::io::Result<String>,
    ) -> Option<String> {
        let compute = || match compute(absolute_path) {
            Ok(version) => Some(version),
            Err(error) => {
                tracing::error!(
                    target: "typhoon::general",
                    path = %absolute_path.display(),
                    error = &error as &dyn std::error::Error,
                    "could not open static file"
                );
                None
            }
        };
        let Some(cache) = self.cache else {
            return compute().filter(|v| !v.is_empty());
        };
        if let Some(version) = cache.get(absolute_path) {
            return version;
        }
        let version = compute().filter(|v| !v.is_empty());
        cache.insert(
            absolute_path.to_path_buf(),
            version.clone(),
            self.max_cached_versions,
        );
        version
    }
}

/// What `static_url` needs of a hooks type, in a shape that can sit behind `dyn` (hooks
/// traits have constants, and so cannot). Every `StaticFileHooks` type implements it.
pub(crate) trait UrlHooks: Send + Sync {
    /// The hooks' `make_static_url`.
    fn make_url(
        &self,
        settings: &StaticUrlSettings<'_>,
        path: &str,
        include_version: bool,
    ) -> Result<String, HTTPError>;

    /// The hooks type's `MAX_CACHED_VERSIONS`.
    fn max_cached_versions(&self) -> usize;
}

/// Content versions by absolute path, with a use count for least-recently-used eviction.
#[derive(Default)]
pub(crate) struct VersionCache {
    /// The entries and the clock.
    inner: Mutex<VersionEntries>,
}

/// The entries of a [`VersionCache`].
#[derive(Default)]
struct VersionEntries {
    /// Version (or none) and the tick of the last use, by absolute path.
    entries: HashMap<PathBuf, (Option<String>, u64)>,
    /// Incremented on every use.
    tick: u64,
}

impl VersionCache {
    /// The cached version of `path` (outer `None`: not cached), marked as used.
    fn get(&self, path: &Path) -> Option<Option<String>> {
        let mut inner = self.inner.lock().ok()?;
        inner.tick += 1;
        let tick = inner.tick;
        let (version, used) = inner.entries.get_mut(path)?;
        *used = tick;
        Some(version.clone())
    }

    /// Caches `version` for `path`, dropping the least recently used entries beyond `max`.
    fn insert(&self, path: PathBuf, version: Option<String>, max: usize) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        while !inner.entries.is_empty() && inner.entries.len() >= max {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(path, _)| path.clone());
            match oldest {
                Some(oldest) => inner.entries.remove(&oldest),
                None => break,
            };
        }
        if max == 0 {
            return;
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.entries.insert(path, (version, tick));
    }

    /// How many versions are cached.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().map_or(0, |inner| inner.entries.len())
    }
}

/// `static_url` state, shareable with template functions (`Send + Sync`).
#[derive(Clone)]
pub(crate) struct StaticUrls {
    /// The static directory.
    path: Option<PathBuf>,
    /// The URL prefix.
    prefix: String,
    /// Content versions by absolute path (not used in debug mode).
    cache: Option<Arc<VersionCache>>,
    /// The hooks that make the URLs (Tornado's `static_handler_class.make_static_url`).
    hooks: Arc<dyn UrlHooks>,
}

impl fmt::Debug for StaticUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticUrls")
            .field("path", &self.path)
            .field("prefix", &self.prefix)
            .field("cached", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl StaticUrls {
    /// `static_url` state for the files under `path`, served under `prefix`, with URLs made by
    /// `hooks`; `cache` keeps each file's version once computed (off in debug mode, where
    /// files change).
    pub(crate) fn new(
        path: Option<PathBuf>,
        prefix: String,
        cache: bool,
        hooks: Arc<dyn UrlHooks>,
    ) -> Self {
        Self {
            path,
            prefix,
            cache: cache.then(Arc::default),
            hooks,
        }
    }

    /// The same state with URLs made by `hooks`, and an empty cache.
    pub(crate) fn with_hooks(&self, hooks: Arc<dyn UrlHooks>) -> Self {
        Self {
            path: self.path.clone(),
            prefix: self.prefix.clone(),
            cache: self.cache.as_ref().map(|_| Arc::default()),
            hooks,
        }
    }

    /// Tornado's `static_url` without the host: the hooks' `make_static_url`
    /// (`prefix + path + ?v=<version>` by default).
    pub(crate) fn static_url(
        &self,
        path: &str,
        include_version: bool,
    ) -> Result<String, HTTPError> {
        let root = self
            .path
            .as_deref()
            .ok_or_else(|| HTTPError::from(WebError::NoStaticPath))?;
        let settings = StaticUrlSettings {
            static_path: root,
            static_url_prefix: &self.prefix,
            cache: self.cache.as_deref(),
            max_cached_versions: self.hooks.max_cached_versions(),
        };
        self.hooks.make_url(&settings, path, include_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<'a>(cache: &'a VersionCache, max: usize) -> StaticUrlSettings<'a> {
        StaticUrlSettings {
            static_path: Path::new("/srv"),
            static_url_prefix: "/static/",
            cache: Some(cache),
            max_cached_versions: max,
        }
    }

    /// Tornado's `StaticFileVersionPathTest.test_cache_limit`: with room for two, "a" used
    /// more recently than "b" when "c" arrives, so only "b" is read again.
    #[test]
    fn cache_limit() {
        let cache = VersionCache::default();
        let settings = settings(&cache, 2);
        let mut reads = Vec::new();
        for name in ["a", "b", "a", "c", "a", "b"] {
            let version = settings.cached_version(Path::new(name), |path| {
                reads.push(path.display().to_string());
                Ok(format!("v-{name}"))
            });
            assert_eq!(version, Some(format!("v-{name}")));
        }
        assert_eq!(reads, ["a", "b", "c", "b"]);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn failures_are_cached_as_no_version() {
        let cache = VersionCache::default();
        let settings = settings(&cache, 10);
        let mut calls = 0;
        for _ in 0..2 {
            let version = settings.cached_version(Path::new("missing"), |_| {
                calls += 1;
                Err(std::io::ErrorKind::NotFound.into())
            });
            assert_eq!(version, None);
        }
        assert_eq!(calls, 1);
    }

    #[test]
    fn no_cache_in_debug_mode() {
        let unused = VersionCache::default();
        let settings = StaticUrlSettings {
            cache: None,
            ..settings(&unused, 10)
        };
        let mut calls = 0;
        for _ in 0..2 {
            settings.cached_version(Path::new("a"), |_| {
                calls += 1;
                Ok("1".to_owned())
            });
        }
        assert_eq!(calls, 2);
    }
}
