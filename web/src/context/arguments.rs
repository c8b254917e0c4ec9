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

    fn collect(values: Option<&Vec<Vec<u8>>>) -> Result<Vec<String>, HTTPError> {
        values
            .map(|values| values.iter().map(|v| clean_argument(v)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// All values of an argument from the query and the body (query first), stripped of
    /// surrounding whitespace (Tornado's `get_arguments`).
    ///
    /// # Errors
    ///
    /// 400 for a value that is not UTF-8.
    pub fn get_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        let mut values = Self::collect(self.query_args().get(name))?;
        values.extend(Self::collect(self.body_args().0.get(name))?);
        Ok(values)
    }

    /// An argument's last value from the query or the body (Tornado's `get_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent, or when not UTF-8.
    pub fn get_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_arguments(name)?
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
        Self::collect(self.query_args().get(name))
    }

    /// A query argument's last value (Tornado's `get_query_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent.
    pub fn get_query_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_query_arguments(name)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// All values of a body argument (Tornado's `get_body_arguments`).
    ///
    /// # Errors
    ///
    /// 400 for a value that is not UTF-8.
    pub fn get_body_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        Self::collect(self.body_args().0.get(name))
    }

    /// A body argument's last value (Tornado's `get_body_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent.
    pub fn get_body_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_body_arguments(name)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// Uploaded files of a multipart body (Tornado's `request.files`).
    pub fn files(&mut self) -> &Files {
        &self.body_args().1
    }

    // ----- body ----------------------------------------------------------------------------

    /// The body limit of this request.
    fn max_body_size(&self) -> u64 {
        self.route
            .as_ref()
            .and_then(|route| route.max_body_size)
            .unwrap_or(self.app.settings.max_body_size)
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

/// Tornado's `_remove_control_chars_regex`: these become spaces in arguments.
fn clean_argument(value: &[u8]) -> Result<String, HTTPError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| HTTPError::with_log_message(400, "invalid unicode in argument"))?;
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
    Ok(cleaned.trim().to_owned())
}

/// Tornado's `MissingArgumentError`.
fn missing_argument(name: &str) -> HTTPError {
    HTTPError::with_log_message(400, format!("Missing argument {name}"))
}
