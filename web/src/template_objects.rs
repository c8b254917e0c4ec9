//! What templates see of a request: the `request` object (Tornado's `HTTPServerRequest`)
//! and the `handler` object (Tornado's `RequestHandler`, with its getters), read by
//! the request's template namespace and by UI modules.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Error, ErrorKind, State};
use typhoon_template::Value;

/// What templates see of a request: copied once per namespace, read by the `request` and
/// `handler` objects.
#[derive(Debug)]
pub(crate) struct RequestView {
    /// `method`, `uri`, `path`, `query`, `host`, `host_name`, `remote_ip`, `protocol`,
    /// `version`, `full_url`.
    pub(crate) fields: BTreeMap<&'static str, String>,
    /// The headers, in order, as sent.
    pub(crate) headers: Arc<TemplateHeaders>,
    /// Query arguments, decoded and cleaned, by name.
    pub(crate) query_arguments: Vec<(String, Vec<String>)>,
    /// Body arguments, decoded and cleaned, by name.
    pub(crate) body_arguments: Vec<(String, Vec<String>)>,
    /// The request's cookies.
    pub(crate) cookies: Vec<(String, String)>,
}

impl RequestView {
    /// The values of argument `name` from `query` and/or `body`, query first.
    pub(crate) fn arguments(&self, name: &str, query: bool, body: bool) -> Vec<String> {
        let pick = |args: &[(String, Vec<String>)]| {
            args.iter()
                .find(|(n, _)| n == name)
                .map(|(_, values)| values.clone())
                .unwrap_or_default()
        };
        let mut values = if query {
            pick(&self.query_arguments)
        } else {
            Vec::new()
        };
        if body {
            values.extend(pick(&self.body_arguments));
        }
        values
    }

    /// Arguments by name, as a template map of lists.
    fn arguments_value(&self, query: bool, body: bool) -> Value {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let sources = [(query, &self.query_arguments), (body, &self.body_arguments)];
        for (_, args) in sources.into_iter().filter(|(used, _)| *used) {
            for (name, values) in args {
                map.entry(name.clone())
                    .or_default()
                    .extend(values.iter().cloned());
            }
        }
        serialized(map)
    }
}

/// A serializable value (a map, a list) as a template value.
pub(crate) fn serialized<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// The templates' `request` (Tornado's `HTTPServerRequest`): `request.path`,
/// `request.headers["User-Agent"]`, `request.arguments.q`, `request.cookies.name`, ...
#[derive(Debug)]
pub(crate) struct TemplateRequest(pub(crate) Arc<RequestView>);

impl Object for TemplateRequest {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let view = &self.0;
        let key = key.as_str()?;
        Some(match key {
            "headers" => Value::from_dyn_object(Arc::clone(&view.headers)),
            "arguments" => view.arguments_value(true, true),
            "query_arguments" => view.arguments_value(true, false),
            "body_arguments" => view.arguments_value(false, true),
            "cookies" => serialized(
                view.cookies
                    .iter()
                    .cloned()
                    .collect::<BTreeMap<String, String>>(),
            ),
            field => Value::from(view.fields.get(field)?.clone()),
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let fields = self.0.fields.keys().copied();
        let views = [
            "headers",
            "arguments",
            "query_arguments",
            "body_arguments",
            "cookies",
        ];
        Enumerator::Values(fields.chain(views).map(Value::from).collect())
    }
}

/// The templates' `request.headers`: looked up without regard to case
/// (`request.headers["user-agent"]`), with Tornado's `get(name, default)`.
#[derive(Debug)]
pub(crate) struct TemplateHeaders(pub(crate) Vec<(String, String)>);

impl TemplateHeaders {
    /// The value of `name`; repeated headers joined with `,` as `HTTPHeaders.get` does.
    fn get(&self, name: &str) -> Option<String> {
        let mut values = self
            .0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let first = values.next()?;
        Some(values.fold(first.to_owned(), |mut all, v| {
            all.push(',');
            all.push_str(v);
            all
        }))
    }
}

impl Object for TemplateHeaders {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?).map(Value::from)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut names: Vec<Value> = Vec::new();
        for (name, _) in &self.0 {
            if !names
                .iter()
                .any(|n| n.as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            {
                names.push(Value::from(name.clone()));
            }
        }
        Enumerator::Values(names)
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" => {
                let (name, default): (String, Option<Value>) = minijinja::value::from_args(args)?;
                Ok(self
                    .get(&name)
                    .map(Value::from)
                    .or(default)
                    .unwrap_or_default())
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// The templates' `handler` (Tornado's `handler`, the request handler itself): `request`,
/// `current_user`, `path_args`, `path_kwargs`, `settings`, and the getters
/// `get_argument(name, default)`, `get_arguments`, `get_query_argument`,
/// `get_body_argument`, `get_cookie(name, default)` and `xsrf_form_html()`.
#[derive(Debug)]
pub(crate) struct TemplateHandler {
    /// The request, shared with `request`.
    pub(crate) request: Value,
    /// What the getters read.
    pub(crate) view: Arc<RequestView>,
    /// `current_user`, as templates see it.
    pub(crate) current_user: Value,
    /// `xsrf_form_html()`'s markup.
    pub(crate) xsrf_form_html: Value,
    /// The route's positional captures.
    pub(crate) path_args: Vec<String>,
    /// The route's named captures.
    pub(crate) path_kwargs: BTreeMap<String, String>,
    /// The settings a template may read (none of the secrets).
    pub(crate) settings: Value,
}

impl Object for TemplateHandler {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "request" => self.request.clone(),
            "current_user" => self.current_user.clone(),
            "path_args" => serialized(&self.path_args),
            "path_kwargs" => serialized(&self.path_kwargs),
            "settings" => self.settings.clone(),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "request",
            "current_user",
            "path_args",
            "path_kwargs",
            "settings",
        ])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (query, body) = match method {
            "get_argument" | "get_arguments" => (true, true),
            "get_query_argument" | "get_query_arguments" => (true, false),
            "get_body_argument" | "get_body_arguments" => (false, true),
            "get_cookie" => {
                let (name, default): (String, Option<Value>) = minijinja::value::from_args(args)?;
                let found = self.view.cookies.iter().find(|(n, _)| *n == name);
                return Ok(found
                    .map(|(_, v)| Value::from(v.clone()))
                    .or(default)
                    .unwrap_or_default());
            }
            "xsrf_form_html" => return Ok(self.xsrf_form_html.clone()),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        };
        if method.ends_with('s') {
            let (name,): (String,) = minijinja::value::from_args(args)?;
            return Ok(serialized(self.view.arguments(&name, query, body)));
        }
        let (name, default): (String, Option<Value>) = minijinja::value::from_args(args)?;
        match self.view.arguments(&name, query, body).pop() {
            Some(value) => Ok(Value::from(value)),
            None => default.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("Missing argument {name}"),
                )
            }),
        }
    }
}

/// The last value of argument `name` from the query or the body, as the `handler` object
/// `value` of a template namespace has it (Tornado's `handler.get_argument(name, None)`).
pub(crate) fn handler_argument(value: &Value, name: &str) -> Option<String> {
    let handler = value.downcast_object_ref::<TemplateHandler>()?;
    handler.view.arguments(name, true, true).pop()
}
