//! Cross-origin resource sharing as a setting ([`Cors`]).

use typhoon_httpserver::{HTTPServerRequest, ResponseWriter};

/// CORS settings: which origins may call the application, with which methods and headers.
/// Answers preflight requests (`OPTIONS` with `Access-Control-Request-Method`) itself with 204,
/// and adds `Access-Control-Allow-Origin` (and `Vary: Origin`) to answers for allowed origins.
///
/// # Examples
///
/// ```
/// use typhoon_web::{Cors, Settings};
///
/// let settings = Settings {
///     cors: Some(Cors {
///         allowed_origins: vec!["https://app.example".into()],
///         allow_credentials: true,
///         ..Cors::default()
///     }),
///     ..Settings::default()
/// };
/// ```
#[derive(Clone, Debug)]
pub struct Cors {
    /// Allowed origins, exactly as browsers send them; `"*"` allows any.
    pub allowed_origins: Vec<String>,
    /// Methods a preflight allows.
    pub allowed_methods: Vec<String>,
    /// Request headers a preflight allows (`*` for any).
    pub allowed_headers: Vec<String>,
    /// Response headers scripts may read.
    pub expose_headers: Vec<String>,
    /// `Access-Control-Allow-Credentials: true` (the origin is then echoed, never `*`).
    pub allow_credentials: bool,
    /// How long a preflight may be cached, in seconds.
    pub max_age: Option<u64>,
}

impl Default for Cors {
    fn default() -> Self {
        Self {
            allowed_origins: vec!["*".to_owned()],
            allowed_methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .map(String::from)
                .to_vec(),
            allowed_headers: vec!["Content-Type".to_owned(), "X-XSRFToken".to_owned()],
            expose_headers: Vec::new(),
            allow_credentials: false,
            max_age: Some(600),
        }
    }
}

impl Cors {
    fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == "*" || o == origin)
    }

    /// Adds the CORS headers for `request` to `writer`; returns `true` when the request was a
    /// preflight that is now answered.
    pub(crate) fn apply(&self, request: &HTTPServerRequest, writer: &mut ResponseWriter) -> bool {
        let Some(origin) = request.headers.get("Origin") else {
            return false;
        };
        let preflight = request.method == "OPTIONS"
            && request.headers.contains("Access-Control-Request-Method");
        if !self.origin_allowed(origin) {
            if preflight {
                writer.set_status(403);
                return true;
            }
            return false;
        }
        let any = self.allowed_origins.iter().any(|o| o == "*") && !self.allow_credentials;
        let _ = writer.set_header(
            "Access-Control-Allow-Origin",
            if any { "*" } else { origin },
        );
        if !any {
            let _ = writer.add_header("Vary", "Origin");
        }
        if self.allow_credentials {
            let _ = writer.set_header("Access-Control-Allow-Credentials", "true");
        }
        if !preflight {
            if !self.expose_headers.is_empty() {
                let _ = writer.set_header(
                    "Access-Control-Expose-Headers",
                    &self.expose_headers.join(", "),
                );
            }
            return false;
        }
        let method = request
            .headers
            .get("Access-Control-Request-Method")
            .unwrap_or("");
        if !self
            .allowed_methods
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
        {
            writer.set_status(403);
            return true;
        }
        writer.set_status(204);
        let _ = writer.set_header(
            "Access-Control-Allow-Methods",
            &self.allowed_methods.join(", "),
        );
        let headers = if self.allowed_headers.iter().any(|h| h == "*") {
            request
                .headers
                .get("Access-Control-Request-Headers")
                .unwrap_or("")
                .to_owned()
        } else {
            self.allowed_headers.join(", ")
        };
        if !headers.is_empty() {
            let _ = writer.set_header("Access-Control-Allow-Headers", &headers);
        }
        if let Some(max_age) = self.max_age {
            let _ = writer.set_header("Access-Control-Max-Age", &max_age.to_string());
        }
        true
    }
}
