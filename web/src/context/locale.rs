//! The request's locale (feature `locale`): Tornado's `RequestHandler.locale`, chosen lazily
//! by the handler's `get_user_locale` and then the browser's `Accept-Language`, among the
//! application's [`Translations`].

use typhoon_locale::{Locale, Translations};

use super::Context;

impl Context {
    /// The request's locale (Tornado's `self.locale`): the handler's
    /// [`get_user_locale`](crate::RequestHandler::get_user_locale) if it gives one, else the
    /// browser's ([`get_browser_locale`](Self::get_browser_locale) with `en_US`). Chosen on
    /// first use and kept for the request; [`set_locale`](Self::set_locale) replaces it.
    pub fn locale(&self) -> Locale {
        self.locale
            .get_or_init(|| {
                (self.locale_loader)(self).unwrap_or_else(|| self.get_browser_locale("en_US"))
            })
            .clone()
    }

    /// Sets the request's locale (Tornado's `self.locale = ...`, e.g. from the user's profile
    /// in `prepare`); `get_user_locale` is then not called.
    pub fn set_locale(&mut self, locale: Locale) {
        self.locale = std::cell::OnceCell::from(locale);
    }

    /// The locale the browser asks for (Tornado's `get_browser_locale`): the
    /// `Accept-Language` entries by their `q` (an invalid or negative `q` counts as 0, and 0
    /// drops the entry), the best supported one by Tornado's matching rules, or the default of
    /// the application's translations. Without the header, the locale `default`.
    pub fn get_browser_locale(&self, default: &str) -> Locale {
        let translations = self.translations();
        let header: Vec<&str> = self.request.headers.get_list("Accept-Language").collect();
        if header.is_empty() {
            return translations.get_closest([default]);
        }
        let mut scored: Vec<(&str, f64)> = header
            .iter()
            .flat_map(|line| line.split(','))
            .filter_map(|language| {
                let mut parts = language.trim().split(';');
                let code = parts.next().unwrap_or("");
                let score = match parts.next().map(str::trim) {
                    Some(q) if q.starts_with("q=") => q[2..]
                        .parse::<f64>()
                        .ok()
                        .filter(|s| *s >= 0.0)
                        .unwrap_or(0.0),
                    _ => 1.0,
                };
                (score > 0.0).then_some((code, score))
            })
            .collect();
        if scored.is_empty() {
            return translations.get_closest([default]);
        }
        // Stable, best first, as Python's sort.
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        translations.get_closest(scored.into_iter().map(|(code, _)| code))
    }

    /// The application's translations ([`Application::translations`](crate::Application::translations)).
    pub fn translations(&self) -> &Translations {
        &self.app.translations
    }

    /// Installs the handler's `get_user_locale`.
    pub(crate) fn set_locale_loader(&mut self, loader: fn(&Context) -> Option<Locale>) {
        self.locale_loader = loader;
    }
}
