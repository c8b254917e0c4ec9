//! A client that keeps cookies between requests (a browser's cookie jar, reduced to one site),
//! for the tests of the chat and blog examples.
#![allow(dead_code)] // each test crate uses a part of it

use std::cell::RefCell;
use std::collections::BTreeMap;

use typhoon_httpclient::{HTTPRequest, HTTPResponse};
use typhoon_testing::AsyncHTTPTestServer;

/// Fetches from one test server, sending back the cookies it set.
pub(crate) struct CookieClient<'a> {
    server: &'a AsyncHTTPTestServer,
    cookies: RefCell<BTreeMap<String, String>>,
}

impl<'a> CookieClient<'a> {
    pub(crate) fn new(server: &'a AsyncHTTPTestServer) -> Self {
        Self {
            server,
            cookies: RefCell::new(BTreeMap::new()),
        }
    }

    /// A cookie's value, as the server last set it.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.borrow().get(name).cloned()
    }

    /// The `Cookie` header value of the jar.
    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The XSRF token to send with a form: the `_xsrf` cookie (a masked token itself).
    pub(crate) fn xsrf(&self) -> String {
        self.cookie("_xsrf")
            .expect("an _xsrf cookie: GET a page with a form first")
    }

    /// A request for `path` without the jar's cookies, not following redirects, not raising
    /// on non-2xx.
    pub(crate) fn bare_request(&self, path: &str) -> HTTPRequest {
        self.server
            .request(path)
            .follow_redirects(false)
            .raise_error(false)
    }

    /// A request for `path` with the jar's cookies, not following redirects, not raising on
    /// non-2xx.
    pub(crate) fn request(&self, path: &str) -> HTTPRequest {
        let request = self.bare_request(path);
        let cookies = self.cookie_header();
        if cookies.is_empty() {
            request
        } else {
            request.header("Cookie", &cookies)
        }
    }

    /// Fetches `request` and keeps the cookies the answer sets (an empty value deletes).
    pub(crate) async fn fetch(&self, request: HTTPRequest) -> HTTPResponse {
        let response = self.server.fetch_request(request).await.expect("fetch");
        let mut jar = self.cookies.borrow_mut();
        for header in response.headers.get_list("Set-Cookie") {
            let pair = header.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                // Kept as sent (quoted or not), as a browser sends it back.
                if value.is_empty() || value == "\"\"" {
                    jar.remove(name.trim());
                } else {
                    jar.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        response
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> HTTPResponse {
        self.fetch(self.request(path)).await
    }

    /// `POST path` with `fields` form-encoded (add `_xsrf` yourself).
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> HTTPResponse {
        let request = self
            .request(path)
            .method("POST")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(fields));
        self.fetch(request).await
    }

    /// `POST path` with `fields` and the XSRF token.
    pub(crate) async fn post_xsrf(&self, path: &str, fields: &[(&str, &str)]) -> HTTPResponse {
        let token = self.xsrf();
        let mut all = vec![("_xsrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

/// `application/x-www-form-urlencoded` of `fields`.
pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                typhoon_escape::url_escape(name, true),
                typhoon_escape::url_escape(value, true)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
