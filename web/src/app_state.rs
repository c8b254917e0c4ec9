//! What every request of an application shares ([`AppState`]): settings, templates,
//! `static_url`, the named patterns of `reverse_url` and the application's typed data
//! ([`AppData`]). It sits below both the application, which builds it, and the request's
//! context, which reads it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::{Result, WebError};
use crate::routing::PathPattern;
use crate::settings::Settings;

/// What every request of an application shares, through its context.
pub(crate) struct AppState {
    /// Settings.
    pub(crate) settings: Settings,
    /// The template loader.
    #[cfg(feature = "template")]
    pub(crate) templates: Option<typhoon_template::Loader>,
    /// static_url state.
    pub(crate) static_urls: StaticUrls,
    /// Named patterns for the templates' `reverse_url`.
    pub(crate) named: NamedPatterns,
    /// The application's translations (Tornado's loaded locales).
    #[cfg(feature = "locale")]
    pub(crate) translations: typhoon_locale::Translations,
    /// The UI modules templates call with `module(name, ...)` (Tornado's `ui_modules`).
    #[cfg(feature = "template")]
    pub(crate) ui_modules: Arc<crate::ui_module::ModuleRegistry>,
    /// Shared resources by type (Tornado's attributes on `self.application`, such as
    /// `self.application.db`), set by [`Application::data`](crate::Application::data).
    pub(crate) data: AppData,
}

/// The application's typed data: at most one value per type, set before serving and read by
/// every request (a type map). Empty, it allocates nothing; a lookup is one hash of a
/// `TypeId`.
#[derive(Default)]
pub(crate) struct AppData {
    /// The values, keyed by their type.
    values: HashMap<TypeId, Box<dyn Any>>,
}

impl AppData {
    /// Stores `value`, replacing an earlier value of the same type.
    pub(crate) fn insert<T: 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// The value of type `T`, if one was stored.
    pub(crate) fn get<T: 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }
}

/// Content hashes of static files by relative path (`None`: the file is missing).
type HashCache = Arc<Mutex<HashMap<String, Option<String>>>>;

/// Named route patterns, shared with the templates' `reverse_url` (hence `Arc<Mutex<_>>`).
pub(crate) type NamedPatterns = Arc<Mutex<Vec<(String, Arc<PathPattern>)>>>;

/// `static_url` state, shareable with template functions (`Send + Sync`).
#[derive(Debug, Clone)]
pub(crate) struct StaticUrls {
    /// The static directory.
    path: Option<PathBuf>,
    /// The URL prefix.
    prefix: String,
    /// Content hashes by relative path (not used in debug mode).
    cache: Option<HashCache>,
}

impl StaticUrls {
    /// `static_url` state for the files under `path`, served under `prefix`; `cache` keeps
    /// each file's hash once computed (off in debug mode, where files change).
    pub(crate) fn new(path: Option<PathBuf>, prefix: String, cache: bool) -> Self {
        Self {
            path,
            prefix,
            cache: cache.then(Arc::default),
        }
    }

    /// Tornado's `static_url`: `prefix + path + ?v=<hash>` (no `v` if the file is missing).
    pub(crate) fn static_url(&self, path: &str) -> Result<String> {
        let root = self.path.as_ref().ok_or(WebError::NoStaticPath)?;
        let compute = || -> Option<String> {
            let mut file = std::fs::File::open(root.join(path.trim_start_matches('/'))).ok()?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buf).ok()?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            Some(hex::encode(&hasher.finalize()[..16]))
        };
        let hash = match &self.cache {
            Some(cache) => {
                let cached = cache.lock().ok().and_then(|c| c.get(path).cloned());
                match cached {
                    Some(hash) => hash,
                    None => {
                        let hash = compute();
                        if let Ok(mut c) = cache.lock() {
                            c.insert(path.to_owned(), hash.clone());
                        }
                        hash
                    }
                }
            }
            None => compute(),
        };
        let url = format!("{}{}", self.prefix, path.trim_start_matches('/'));
        Ok(match hash {
            Some(hash) => format!("{url}?v={hash}"),
            None => url,
        })
    }
}

/// `reverse_url` over the named patterns.
pub(crate) fn reverse_named(
    named: &Mutex<Vec<(String, Arc<PathPattern>)>>,
    name: &str,
    args: &[&str],
) -> Result<String> {
    let named = named
        .lock()
        .map_err(|_| WebError::UnknownRoute(name.to_owned()))?;
    let (_, pattern) = named
        .iter()
        .find(|(n, _)| n == name)
        .ok_or_else(|| WebError::UnknownRoute(name.to_owned()))?;
    pattern
        .reverse(args)
        .ok_or_else(|| WebError::CannotReverse {
            name: name.to_owned(),
            given: args.len(),
        })
}

/// Adds `static_url(path)` and `reverse_url(name, *args)` to the loader's globals.
#[cfg(feature = "template")]
pub(crate) fn add_template_globals(
    loader: &mut typhoon_template::Loader,
    static_urls: &StaticUrls,
    named: &NamedPatterns,
) {
    use minijinja::value::Rest;
    use typhoon_template::Value;
    let urls = static_urls.clone();
    loader.add_global(
        "static_url",
        Value::from_function(
            move |path: String| -> std::result::Result<String, minijinja::Error> {
                urls.static_url(&path).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
            },
        ),
    );
    let named = Arc::clone(named);
    loader.add_global(
        "reverse_url",
        Value::from_function(
            move |name: String,
                  args: Rest<String>|
                  -> std::result::Result<String, minijinja::Error> {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                reverse_named(&named, &name, &args).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
            },
        ),
    );
}
