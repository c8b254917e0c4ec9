//! What every request of an application shares ([`AppState`]): settings, templates,
//! `static_url`, the named patterns of `reverse_url` and the application's typed data
//! ([`AppData`]). It sits below both the application, which builds it, and the request's
//! context, which reads it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Result, WebError};
use crate::routing::PathPattern;
use crate::settings::Settings;
use crate::static_urls::StaticUrls;

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

/// Named route patterns, shared with the templates' `reverse_url` (hence `Arc<Mutex<_>>`).
pub(crate) type NamedPatterns = Arc<Mutex<Vec<(String, Arc<PathPattern>)>>>;

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

/// Adds `static_url(path, include_host=false, include_version=true)` and
/// `reverse_url(name, *args)` to the loader's globals. `include_host` reads `request.protocol`
/// and `request.host` from the template's namespace, which `render_string` fills in.
#[cfg(feature = "template")]
pub(crate) fn add_template_globals(
    loader: &mut typhoon_template::Loader,
    static_urls: &StaticUrls,
    named: &NamedPatterns,
) {
    add_static_url_global(loader, static_urls);
    add_reverse_url_global(loader, named);
}

/// Adds (or replaces) the templates' `static_url` global.
#[cfg(feature = "template")]
pub(crate) fn add_static_url_global(
    loader: &mut typhoon_template::Loader,
    static_urls: &StaticUrls,
) {
    use minijinja::value::Kwargs;
    use minijinja::{Error, ErrorKind, State};
    use typhoon_template::Value;
    let urls = static_urls.clone();
    loader.add_global(
        "static_url",
        Value::from_function(
            move |state: &State<'_, '_>,
                  path: String,
                  kwargs: Kwargs|
                  -> std::result::Result<String, Error> {
                let include_host: Option<bool> = kwargs.get("include_host")?;
                let include_version: Option<bool> = kwargs.get("include_version")?;
                kwargs.assert_all_used()?;
                let url = urls
                    .static_url(&path, include_version.unwrap_or(true))
                    .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
                if !include_host.unwrap_or(false) {
                    return Ok(url);
                }
                let request = state.lookup("request").ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        "static_url(include_host=true) needs the request in the namespace",
                    )
                })?;
                let part = |name: &str| -> std::result::Result<String, Error> {
                    let value = request.get_attr(name)?;
                    value.as_str().map(str::to_owned).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("request.{name} is not a string"),
                        )
                    })
                };
                Ok(format!("{}://{}{url}", part("protocol")?, part("host")?))
            },
        ),
    );
}

/// Adds the templates' `reverse_url` global.
#[cfg(feature = "template")]
fn add_reverse_url_global(loader: &mut typhoon_template::Loader, named: &NamedPatterns) {
    use minijinja::value::Rest;
    use typhoon_template::Value;
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
