//! The namespace of the templates a request renders (Tornado's `get_template_namespace`):
//! `handler`, `request`, `current_user`, `xsrf_form_html`, and with `locale` also `locale`,
//! `_` and `pgettext`, on top of the loader's globals (`static_url`, `reverse_url`).

use std::collections::BTreeMap;
use std::sync::Arc;

use typhoon_template::{Namespace, Value, html_helper};

use super::Context;
use crate::template_objects::{
    RequestView, TemplateHandler, TemplateHeaders, TemplateRequest, serialized,
};

impl Context {
    /// The namespace of the templates this request renders (Tornado's
    /// `get_template_namespace`), which [`render_string`](Self::render_string) and
    /// [`render`](Self::render) put under the render's own context:
    ///
    /// - `current_user`: the [`CurrentUser`](crate::CurrentUser), serialized (none without
    ///   one);
    /// - `request`: `method`, `uri`, `path`, `query`, `host`, `host_name`, `remote_ip`,
    ///   `protocol`, `version`, `full_url`, `headers` (any case: `request.headers["user-agent"]`,
    ///   `request.headers.get("X-Id", "")`), `arguments`, `query_arguments` and
    ///   `body_arguments` (lists by name), `cookies` (values by name);
    /// - `handler`: `request`, `current_user`, `path_args`, `path_kwargs`, `settings` (`debug`,
    ///   `login_url`, `static_url_prefix`, `xsrf_cookies`, `xsrf_cookie_name`) and Tornado's
    ///   getters `handler.get_argument("q", "")`, `get_arguments`, `get_query_argument`,
    ///   `get_body_argument`, `get_cookie` and `xsrf_form_html()`;
    /// - `xsrf_form_html`: the hidden `_xsrf` field, printed or called (`{{ xsrf_form_html() }}`);
    ///   empty without the `xsrf_cookies` setting;
    /// - with the `locale` feature, `locale`, `_` and `pgettext`;
    /// - `module(name, ...)` for the application's UI modules is added by the render itself.
    ///
    /// The loader's globals `static_url` and `reverse_url` come on top, and the handler's
    /// [`get_template_namespace`](crate::RequestHandler::get_template_namespace) adds or
    /// replaces entries last.
    pub fn template_namespace(&mut self) -> Namespace {
        let xsrf = if self.xsrf_enabled() {
            self.xsrf_form_html()
        } else {
            String::new()
        };
        let [query_arguments, body_arguments] = self.decoded_arguments();
        let request = &self.request;
        let fields = BTreeMap::from([
            ("method", request.method.clone()),
            ("uri", request.uri.clone()),
            ("path", request.path().to_owned()),
            ("query", request.query().to_owned()),
            ("host", request.host.clone()),
            ("host_name", request.host_name()),
            ("remote_ip", request.remote_ip.to_string()),
            ("protocol", request.protocol.to_owned()),
            ("version", request.version.as_str().to_owned()),
            ("full_url", request.full_url()),
        ]);
        let headers = request
            .headers
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        let view = Arc::new(RequestView {
            fields,
            headers: Arc::new(TemplateHeaders(headers)),
            query_arguments,
            body_arguments,
            cookies: request.cookies().to_vec(),
        });
        let request = Value::from_object(TemplateRequest(Arc::clone(&view)));
        let current_user = self
            .current_user
            .as_deref()
            .map(crate::CurrentUser::template_value)
            .unwrap_or_default();
        let xsrf_form_html = html_helper(xsrf);
        let settings = &self.app.settings;
        let settings = serialized(BTreeMap::from([
            ("debug", Value::from(settings.debug)),
            ("login_url", Value::from(settings.login_url.clone())),
            (
                "static_url_prefix",
                Value::from(settings.static_url_prefix.clone()),
            ),
            ("xsrf_cookies", Value::from(settings.xsrf_cookies)),
            (
                "xsrf_cookie_name",
                Value::from(settings.xsrf_cookie_name.clone()),
            ),
        ]));
        let handler = TemplateHandler {
            request: request.clone(),
            view,
            current_user: current_user.clone(),
            xsrf_form_html: xsrf_form_html.clone(),
            path_args: self.path_args.clone(),
            path_kwargs: self
                .path_kwargs
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            settings,
        };
        let mut namespace = Namespace::new();
        namespace.insert("current_user", current_user);
        namespace.insert("request", request);
        namespace.insert("xsrf_form_html", xsrf_form_html);
        namespace.insert("handler", Value::from_object(handler));
        #[cfg(feature = "locale")]
        super::template_locale::insert_locale(&mut namespace, &self.locale());
        let hook = self.namespace_hook;
        hook(self, &mut namespace);
        namespace
    }

    /// Installs the handler's `get_template_namespace`.
    pub(crate) fn set_namespace_hook(&mut self, hook: fn(&Context, &mut Namespace)) {
        self.namespace_hook = hook;
    }
}
