//! A static file server on `typhoon-web` (Python's `python -m http.server`, with Tornado's
//! `StaticFileHandler`): ETags, ranges, `index.html` for directories, `sendfile(2)` bodies.

use std::path::PathBuf;

use typhoon_web::{Application, Settings, StaticFileHandler, route};

/// Serves the files under `root` at `/`, `index.html` for directories; with `gzip`, text is
/// compressed for clients that accept it (then bodies are copied, not sent with `sendfile`).
pub fn make_app(root: impl Into<PathBuf>, gzip: bool) -> Application {
    let root = root.into();
    Application::with_settings(
        vec![route("/(.*)", move || {
            StaticFileHandler::with_default_filename(root.clone(), "index.html")
        })],
        Settings {
            compress_response: gzip,
            ..Settings::default()
        },
    )
}
