//! Request arguments (query, body, files) and reading the request body.

use typhoon_httputil::{Arguments, Files};

use super::Context;
use crate::error::{HTTPError, Result};

impl Context {
    fn query_args(&mut self) -> &Arguments {
        self.query_arguments.get_or_insert_with(|| {
            self.request.query_arguments().unwrap_or_else(|error| {
                tracing::warn!(target: "typhoon::general", %error, "invalid query string");
                Arguments::new()
            })
        })
    }

    fn body_args(&mut self) -> &(Arguments, Files) {
        self.body_arguments.get_or_insert_with(|| {
            Box::new(self.request.body_arguments().unwrap_or_else(|error| {
                tracing::warn!(target: "typhoon::general", %error, "invalid request body");
                (Arguments::new(), Files::new())
            }))
        })
    }

    /// The values of `name` from the query and/or the body, decoded by the handler's
    /// `decode_argument`, control characters replaced, stripped if `strip`.
    fn collect(
        &mut self,
        name: &str,
        from: Sources,
        strip: bool,
    ) -> Result<Vec<String>, HTTPError> {
        // Parse first (mutably), then read the parsed arguments beside `&self` for the
        // decoder.
        if from.query {
            self.query_args();
        }
        if from.body {
            self.body_args();
        }
        let query = from
            .query
            .then_some(self.query_arguments.as_ref())
            .flatten()
            .and_then(|args| args.get(name));
        let body = from
            .body
            .then_some(self.body_arguments.as_deref())
            .flatten()
            .and_then(|(args, _)| args.get(name));
        query
            .into_iter()
            .chain(body)
            .flatten()
            .map(|value| {
                let text = (self.argument_decoder)(self, value, name)?;
                Ok(clean_argument(&text, strip))
            })
            .collect()
    }

    /// Every query and body argument, decoded by the handler's `decode_argument` and
    /// cleaned as [`get_arguments`](Self::get_arguments) does (values that do not decode are
    /// left out), sorted by name: what templates see as `request.query_arguments` and
    /// `request.body_arguments`.
    #[cfg(feature = "template")]
    pub(super) fn decoded_arguments(&mut self) -> [Vec<(String, Vec<String>)>; 2] {
        self.query_args();
        self.body_args();
        let decode = |args: Option<&Arguments>| {
            let mut decoded: Vec<(String, Vec<String>)> = args
                .into_iter()
                .flatten()
                .map(|(name, values)| {
                    let values = values
                        .iter()
                        .filter_map(|value| (self.argument_decoder)(self, value, name).ok())
                        .map(|text| clean_argument(&text, true))
                        .collect();
                    (name.clone(), values)
                })
                .collect();
            decoded.sort_by(|a, b| a.0.cmp(&b.0));
            decoded
        };
        [
            decode(self.query_arguments.as_ref()),
            decode(self.body_arguments.as_deref().map(|(args, _)| args)),
        ]
    }

    /// All values of an argument from the query and the body (query first), stripped of
    /// surrounding whitespace (Tornado's `get_arguments`). Values are decoded by the
    /// handler's [`decode_argument`](crate::RequestHandler::decode_argument) (UTF-8), and
    /// control characters become spaces.
    ///
    /// # Errors
    ///
    /// 400 for a value that does not decode (is not UTF-8).
    pub fn get_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        self.collect(name, Sources::BOTH, true)
    }

    /// [`get_arguments`](Self::get_arguments) with `strip` (Tornado's `strip=` keyword;
    /// `false` keeps surrounding whitespace).
    ///
    /// # Errors
    ///
    /// As [`get_arguments`](Self::get_arguments).
    pub fn get_arguments_with(
        &mut self,
        name: &str,
        strip: bool,
    ) -> Result<Vec<String>, HTTPError> {
        self.collect(name, Sources::BOTH, strip)
    }

    /// An argument's last value from the query or the body (Tornado's `get_argument`),
    /// decoded and stripped as by [`get_arguments`](Self::get_arguments).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent, or when not UTF-8.
    pub fn get_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_argument_with(name, true)
    }

    /// [`get_argument`](Self::get_argument) with `strip` (Tornado's
    /// `get_argument(name, strip=False)`).
    ///
    /// # Errors
    ///
    /// As [`get_argument`](Self::get_argument).
    pub fn get_argument_with(&mut self, name: &str, strip: bool) -> Result<String, HTTPError> {
        self.collect(name, Sources::BOTH, strip)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// An argument's last value, or `default` when absent or invalid.
    pub fn get_argument_or(&mut self, name: &str, default: &str) -> String {
        self.get_argument(name)
            .unwrap_or_else(|_| default.to_owned())
    }

    /// All values of a query argument (Tornado's `get_query_arguments`).
    ///
    /// # Errors
    ///
    /// 400 for a value that is not UTF-8.
    pub fn get_query_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        self.collect(name, Sources::QUERY, true)
    }

    /// A query argument's last value (Tornado's `get_query_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent.
    pub fn get_query_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_query_argument_with(name, true)
    }

    /// [`get_query_argument`](Self::get_query_argument) with `strip`.
    ///
    /// # Errors
    ///
    /// As [`get_query_argument`](Self::get_query_argument).
    pub fn get_query_argument_with(
        &mut self,
        name: &str,
        strip: bool,
    ) -> Result<String, HTTPError> {
        self.collect(name, Sources::QUERY, strip)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// All values of a body argument (Tornado's `get_body_arguments`).
    ///
    /// # Errors
    ///
    /// 400 for a value that is not UTF-8.
    pub fn get_body_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        self.collect(name, Sources::BODY, true)
    }

    /// A body argument's last value (Tornado's `get_body_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent.
    pub fn get_body_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_body_argument_with(name, true)
    }

    /// [`get_body_argument`](Self::get_body_argument) with `strip`.
    ///
    /// # Errors
    ///
    /// As [`get_body_argument`](Self::get_body_argument).
    pub fn get_body_argument_with(&mut self, name: &str, strip: bool) -> Result<String, HTTPError> {
        self.collect(name, Sources::BODY, strip)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// Uploaded files of a multipart body (Tornado's `request.files`).
    pub fn files(&mut self) -> &Files {
        &self.body_args().1
    }

    // ----- body ----------------------------------------------------------------------------

    /// The body limit of this request: [`set_max_body_size`](Self::set_max_body_size)'s,
    /// else the route's, else `Settings::max_body_size`.
    pub fn max_body_size(&self) -> u64 {
        self.max_body_size
            .or_else(|| self.route.as_ref().and_then(|route| route.max_body_size))
            .unwrap_or(self.app.settings.max_body_size)
    }

    /// Raises or lowers this request's body limit (Tornado's
    /// `self.request.connection.set_max_body_size(n)`), over the route's and the
    /// application's. As in Tornado, this matters only for a handler with
    /// [`STREAM_REQUEST_BODY`](crate::RequestHandler::STREAM_REQUEST_BODY), from
    /// [`prepare`](crate::RequestHandler::prepare): its body is read after `prepare`, so the
    /// `Content-Length` check (413 before any byte is read) and the count of streamed bytes
    /// (413 once past it) both use the new limit. Any other handler's body has been read
    /// before `prepare` runs, so there it changes nothing. A body taken with
    /// [`take_body_reader`](Self::take_body_reader) is the handler's to bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, HTTPError, RequestHandler};
    ///
    /// struct Upload;
    /// impl RequestHandler for Upload {
    ///     const STREAM_REQUEST_BODY: bool = true;
    ///     async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         cx.set_max_body_size(10 * 1024 * 1024 * 1024);
    ///         Ok(())
    ///     }
    ///     async fn data_received(&mut self, _cx: &mut Context, chunk: Vec<u8>) -> Result<(), HTTPError> {
    ///         let _ = chunk;
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn set_max_body_size(&mut self, bytes: u64) {
        self.max_body_size = Some(bytes);
    }

    /// 413 from `Content-Length` before any body byte is read.
    pub(crate) fn check_body_size(&self) -> Result<(), HTTPError> {
        let declared = self
            .request
            .headers
            .get("Content-Length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_size()) {
            return Err(HTTPError::with_log_message(413, "Content-Length too long"));
        }
        Ok(())
    }

    /// The next chunk of a streamed body, counted against `max_body_size`.
    pub(crate) async fn next_body_chunk(&mut self) -> Result<Option<Vec<u8>>, HTTPError> {
        let Some(reader) = self.body_reader.as_mut() else {
            return Ok(None);
        };
        let chunk = reader
            .next_chunk()
            .await
            .map_err(|error| HTTPError::with_source(error.status(), error))?;
        if let Some(chunk) = &chunk {
            self.body_bytes += chunk.len() as u64;
            if self.body_bytes > self.max_body_size() {
                self.body_reader = None;
                return Err(HTTPError::with_log_message(413, "body too large"));
            }
        }
        Ok(chunk)
    }

    /// Reads a streamed body whole into `request.body`.
    pub(crate) async fn read_body(&mut self) -> Result<(), HTTPError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.next_body_chunk().await? {
            body.extend_from_slice(&chunk);
        }
        if !body.is_empty() {
            self.request.body = body;
        }
        Ok(())
    }
}

/// Where an argument getter looks.
#[derive(Clone, Copy)]
struct Sources {
    query: bool,
    body: bool,
}

impl Sources {
    const BOTH: Self = Self {
        query: true,
        body: true,
    };
    const QUERY: Self = Self {
        query: true,
        body: false,
    };
    const BODY: Self = Self {
        query: false,
        body: true,
    };
}

/// Tornado's `_remove_control_chars_regex`: these become spaces in arguments; then the value
/// is stripped if `strip`.
fn clean_argument(text: &str, strip: bool) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\u{0}'..='\u{8}' | '\u{e}'..='\u{1f}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if strip {
        cleaned.trim().to_owned()
    } else {
        cleaned
    }
}

/// Tornado's `MissingArgumentError`.
fn missing_argument(name: &str) -> HTTPError {
    HTTPError::with_log_message(400, format!("Missing argument {name}"))
}
