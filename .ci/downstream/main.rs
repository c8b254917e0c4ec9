//! A user's program, built outside the workspace by `.ci/downstream.sh` with the features a
//! user would ask for (`typhoon-web` with `gzip` and `tls`, everything else by default), so
//! that no other workspace member can turn on a feature that `typhoon-web` forgot to forward.
//!
//! Usage: `downstream FIXTURES TEMPLATES`: the TLS test certificates
//! (`testing/fixtures`) and a directory holding `data.txt`, `{{ json_encode(value) }}`.
//! Every check runs, over real sockets on 127.0.0.1; the exit status is 1 if any failed.

use std::collections::HashMap;
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use typhoon_httpclient::{AsyncHTTPClient, HTTPRequest};
use typhoon_ioloop::IOLoop;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};

type BoxError = Box<dyn Error>;

/// Renders `data.txt` with `json_encode`, which typhoon-template has only with its `json`.
struct JsonPage;
impl RequestHandler for JsonPage {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let ctx = HashMap::from([("value", vec!["</b>", "x"])]);
        cx.render("data.txt", ctx)?;
        Ok(())
    }
}

/// A plain page.
struct Hello;
impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("Hello, world");
        Ok(())
    }
}

/// Answers the request body as the handler saw it.
struct Echo;
impl RequestHandler for Echo {
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let body = cx.request().body.clone();
        cx.write(body);
        Ok(())
    }
}

fn app(templates: &Path) -> Application {
    let mut settings = Settings {
        template_path: Some(templates.to_path_buf()),
        ..Settings::default()
    };
    settings.server.decompress_request = true;
    Application::with_settings(
        vec![
            route("/", || Hello),
            route("/json", || JsonPage),
            route("/echo", || Echo),
        ],
        settings,
    )
}

/// (a) `json_encode` in a template rendered by web's `render`.
async fn template_json_encode(client: &AsyncHTTPClient, base: &str) -> Result<(), BoxError> {
    let response = client.fetch(format!("{base}/json")).await?;
    let text = response.text();
    let expected = r#"["<\/b>", "x"]"#;
    if text != expected {
        return Err(format!("rendered {text:?}, expected {expected:?}").into());
    }
    Ok(())
}

/// (b) A `Content-Encoding: gzip` request body reaches the handler inflated.
async fn gzip_request_body(client: &AsyncHTTPClient, base: &str) -> Result<(), BoxError> {
    let plain = "a gzip request body, inflated by the server. ".repeat(200);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(plain.as_bytes())?;
    let gzipped = encoder.finish()?;
    let request = HTTPRequest::new(format!("{base}/echo"))
        .method("POST")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Encoding", "gzip")
        .body(gzipped.clone());
    let response = client.fetch(request).await?;
    if response.body != plain.as_bytes() {
        let what = if response.body == gzipped {
            "the gzip body as sent"
        } else {
            "neither the body sent nor the inflated one"
        };
        let (got, want) = (response.body.len(), plain.len());
        return Err(format!("the handler saw {got} bytes, {what}; inflated: {want}").into());
    }
    Ok(())
}

/// (c) The application over TLS, fetched with the test CA.
async fn tls(fixtures: &Path, templates: &Path) -> Result<(), BoxError> {
    let config = typhoon_iostream::tls::server_config_from_pem_files(
        fixtures.join("server.pem"),
        fixtures.join("server.key"),
        &[b"http/1.1"],
    )?;
    let app = app(templates);
    let mut options = app.server_options();
    options.tls = Some(config);
    let server = app.into_server_with(options);
    let port = server.listen(0, Some("127.0.0.1"))?[0].port();
    let request =
        HTTPRequest::new(format!("https://127.0.0.1:{port}/")).ca_certs(fixtures.join("ca.pem"));
    let response = AsyncHTTPClient::new().fetch(request).await?;
    if response.code != 200 || response.text() != "Hello, world" {
        return Err(format!("HTTPS answered {} {:?}", response.code, response.text()).into());
    }
    Ok(())
}

async fn run(fixtures: PathBuf, templates: PathBuf) -> Result<Vec<String>, BoxError> {
    let server = app(&templates).into_server();
    let port = server.listen(0, Some("127.0.0.1"))?[0].port();
    let base = format!("http://127.0.0.1:{port}");
    let client = AsyncHTTPClient::new();
    let mut failures = Vec::new();
    let mut report = |name: &str, result: Result<(), BoxError>| match result {
        Ok(()) => println!("ok   {name}"),
        Err(error) => {
            println!("FAIL {name}: {error}");
            failures.push(name.to_owned());
        }
    };
    report(
        "(a) json_encode in a template (typhoon-web default features)",
        template_json_encode(&client, &base).await,
    );
    report(
        "(b) gzip request body with decompress_request (typhoon-web/gzip)",
        gzip_request_body(&client, &base).await,
    );
    report(
        "(c) HTTPS through typhoon-web (typhoon-web/tls)",
        tls(&fixtures, &templates).await,
    );
    Ok(failures)
}

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(fixtures), Some(templates)) = (args.next(), args.next()) else {
        return Err("usage: downstream FIXTURES TEMPLATES".into());
    };
    let failures =
        IOLoop::new().run_sync_timeout(Duration::from_secs(60), run(fixtures, templates))??;
    if !failures.is_empty() {
        eprintln!("{} of 3 downstream checks failed", failures.len());
        std::process::exit(1);
    }
    println!("a downstream crate sees every feature it asked for");
    Ok(())
}
