//! Calls to the provider through [`AsyncHTTPClient`](typhoon_httpclient::AsyncHTTPClient):
//! redirects never followed, the provider's timeouts, JSON answers.

use serde_json::{Map, Value};
use typhoon_escape::url_escape;
use typhoon_httpclient::{HTTPRequest, HTTPResponse};

use crate::error::{AuthError, Result};
use crate::provider::OAuth2Provider;

/// `application/x-www-form-urlencoded` of `pairs` (Python's `urlencode`).
pub(crate) fn form_encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&url_escape(k.as_ref(), true));
        out.push('=');
        out.push_str(&url_escape(v.as_ref(), true));
    }
    out
}

impl OAuth2Provider {
    /// A request to the provider: no redirects (a provider endpoint that redirects is a
    /// misconfiguration, and following it opens the server to SSRF), the provider's timeouts
    /// and headers, JSON asked for, any status returned as a response.
    pub(crate) fn request(&self, url: impl Into<String>) -> HTTPRequest {
        let mut request = HTTPRequest::new(url)
            .follow_redirects(false)
            .request_timeout(self.request_timeout)
            .connect_timeout(self.connect_timeout)
            .raise_error(false)
            .header("Accept", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
    }

    /// Fetches `request`, mapping the client's failures to `endpoint`'s errors.
    pub(crate) async fn send(
        &self,
        endpoint: &'static str,
        request: HTTPRequest,
    ) -> Result<HTTPResponse> {
        self.client.fetch(request).await.map_err(|source| {
            tracing::warn!(target: "typhoon::general", provider = %self.name, endpoint,
                error = %source, "identity provider call failed");
            AuthError::from_client(endpoint, source)
        })
    }

    /// Fetches `request` and decodes a 2xx JSON object.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); a non-2xx answer is [`AuthError::Http`] with the response.
    pub(crate) async fn fetch_json(
        &self,
        endpoint: &'static str,
        request: HTTPRequest,
    ) -> Result<Map<String, Value>> {
        let response = self.send(endpoint, request).await?;
        if let Some(source) = response.error() {
            return Err(AuthError::Http { endpoint, source });
        }
        json_object(endpoint, &response.body)
    }
}

/// `body` as a JSON object.
pub(crate) fn json_object(endpoint: &'static str, body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AuthError::MissingField {
            endpoint,
            field: "(object)",
        }),
        Err(source) => Err(AuthError::InvalidJson { endpoint, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encode_quotes_as_urlencode() {
        assert_eq!(
            form_encode(&[("a b", "c&d"), ("redirect_uri", "http://x/y?z=1")]),
            "a+b=c%26d&redirect_uri=http%3A%2F%2Fx%2Fy%3Fz%3D1"
        );
        assert_eq!(form_encode::<&str, &str>(&[]), "");
    }

    #[test]
    fn json_object_rejects_non_objects() {
        assert!(json_object("token", b"{\"a\":1}").is_ok());
        assert!(matches!(
            json_object("token", b"[1]"),
            Err(AuthError::MissingField { .. })
        ));
        assert!(matches!(
            json_object("token", b"<html>"),
            Err(AuthError::InvalidJson { .. })
        ));
    }
}
