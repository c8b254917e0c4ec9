//! Tornado's hello world on `typhoon-web`, line for line.

use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, handler, route};

/// Answers `GET /` with `Hello, world` (other verbs: 405 with `Allow: GET`).
#[derive(Debug)]
pub struct MainHandler;

#[handler]
impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("Hello, world");
        Ok(())
    }
}

/// The application of the `helloworld` example (kept here so tests drive the same app).
pub fn make_app() -> Application {
    make_app_with(Settings::default())
}

/// [`make_app`] with `settings` (`--debug`: `Settings { debug: true, .. }`, which reloads
/// the process when its binary is rebuilt).
pub fn make_app_with(settings: Settings) -> Application {
    Application::with_settings(vec![route("/", || MainHandler)], settings)
}
