//! A handler's overridable hooks: `compute_etag` (Tornado's `CacheTest`), `decode_argument`
//! (`test_decode_argument`), `check_xsrf_cookie`, and the getters' `strip`.

use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::util::{fetch, get, run, serve};

/// Tornado's `CacheTest.EtagHandler`: the body is its own `Etag`; `/etag/none` sends none.
struct EtagHandler;
impl RequestHandler for EtagHandler {
    fn compute_etag(_cx: &Context, body: &[u8]) -> Option<typhoon_web::Etag> {
        let body = std::str::from_utf8(body).ok()?;
        (body != "none").then(|| body.into())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let etag = cx.path_args()[0].clone();
        cx.write(etag);
        Ok(())
    }
}

/// `CacheTest._test_etag`: the status for `computed` against `If-None-Match: etags`.
async fn etag_status(addr: std::net::SocketAddr, computed: &str, etags: &str) -> u16 {
    let path = format!("/etag/{}", typhoon_escape::url_escape(computed, false));
    let r = fetch(addr, "GET", &path, &[("If-None-Match", etags)], b"").await;
    if r.status == 200 {
        assert_eq!(r.header("Etag").as_deref(), Some(computed));
    }
    r.status
}

#[test]
fn cache_test_compute_etag() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/etag/(.*)", || EtagHandler)]));
        assert_eq!(etag_status(addr, "\"xyzzy\"", "*").await, 304);
        assert_eq!(etag_status(addr, "\"xyzzy\"", "\"xyzzy\"").await, 304);
        assert_eq!(
            etag_status(addr, "\"xyzzy1\"", "\"xyzzy1\", \"xyzzy2\"").await,
            304
        );
        assert_eq!(etag_status(addr, "\"xyzzy\"", "\"xyzzy1\"").await, 200);
        assert_eq!(etag_status(addr, "\"xyzzy\"", "W/\"xyzzy\"").await, 304);
        let r = fetch(addr, "GET", "/etag/none", &[("If-None-Match", "*")], b"").await;
        assert_eq!(
            (r.status, r.header("Etag")),
            (200, None),
            "None disables it"
        );
    });
}

#[test]
fn compute_etag_default_is_sha1() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || crate::Hello)]));
        let r = get(addr, "/").await;
        assert_eq!(
            r.header("Etag"),
            Some(Context::sha1_etag(b"Hello, world").to_string())
        );
    });
}

/// Tornado's `DecodeArgHandler`: `?encoding=latin1` decodes the arguments as Latin-1.
struct DecodeArgHandler;
impl RequestHandler for DecodeArgHandler {
    fn decode_argument(cx: &Context, value: &[u8], name: &str) -> Result<String, HTTPError> {
        let latin1 = name != "encoding" && cx.request().query().contains("encoding=latin1");
        if latin1 {
            return Ok(value.iter().map(|&byte| char::from(byte)).collect());
        }
        String::from_utf8(value.to_vec())
            .map_err(|_| HTTPError::with_log_message(400, "Invalid unicode"))
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let value = cx.get_argument("foo")?;
        cx.write(value);
        Ok(())
    }
}

#[test]
fn request_handler_test_decode_argument() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/decode_arg", || {
            DecodeArgHandler
        })]));
        for url in [
            "/decode_arg?foo=%C3%A9&encoding=utf-8",
            "/decode_arg?foo=%E9&encoding=latin1",
        ] {
            let r = get(addr, url).await;
            assert_eq!((r.status, r.text().as_str()), (200, "é"), "{url}");
        }
        let r = get(addr, "/decode_arg?foo=%E9&encoding=utf-8").await;
        assert_eq!(r.status, 400, "not UTF-8");
    });
}

/// `?foo=` with and without `strip`, from the query, the body or both.
struct Strip;
impl RequestHandler for Strip {
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let values = [
            cx.get_argument("foo")?,
            cx.get_argument_with("foo", false)?,
            cx.get_query_argument_with("foo", false)?,
            cx.get_body_argument_with("foo", false)?,
            cx.get_arguments_with("foo", false)?.join(","),
        ];
        cx.write(values.join("|"));
        Ok(())
    }
}

#[test]
fn get_argument_strip() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Strip)]));
        let body = b"foo=+hello+";
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        let r = fetch(addr, "POST", "/?foo=%20bar%09", &headers, body).await;
        assert_eq!(
            r.text(),
            "hello| hello | bar\t| hello | bar\t, hello ",
            "strip by default, not with strip=false"
        );
    });
}

/// Accepts a bearer token instead of the XSRF cookie, else Tornado's check.
struct TokenApi;
impl RequestHandler for TokenApi {
    fn check_xsrf_cookie(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.request().headers.get("Authorization") == Some("Bearer letmein") {
            return Ok(());
        }
        cx.check_xsrf_cookie()
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("posted");
        Ok(())
    }
}

#[test]
fn check_xsrf_cookie_override() {
    run(async {
        let settings = Settings {
            xsrf_cookies: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || TokenApi)], settings));
        let r = fetch(addr, "POST", "/", &[], b"").await;
        assert_eq!(r.status, 403, "the default check still applies");
        let r = fetch(
            addr,
            "POST",
            "/",
            &[("Authorization", "Bearer letmein")],
            b"",
        )
        .await;
        assert_eq!((r.status, r.text().as_str()), (200, "posted"));
    });
}
