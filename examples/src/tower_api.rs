//! The `tower_api` example: Typhoon handlers beside an axum `Router` mounted under `/api`, on
//! one server and one loop (Tornado's `FallbackHandler` with a `WSGIContainer`, for tower).
//!
//! - `GET /` is a Typhoon handler: a page listing the notes, read from the same store the API
//!   writes.
//! - `/api/...` is an axum router, hosted with `typhoon_platform::tower::route_service`:
//!   `GET /api/notes` (JSON), `POST /api/notes` (a JSON note, 201), `GET /api/notes/{id}`
//!   (404 when missing), `POST /api/echo` (the request body streamed back as it arrives) and
//!   `GET /api/wait?ms=N` (a tokio timer, run on the tokio bridge: the one route that needs
//!   tokio).
//!
//! The router keeps the paths as the client sent them (`/api/notes`), so its routes are
//! nested under `/api`. Typhoon's settings apply to it as to any route: the body limit of the
//! `/api` route (1 MiB here), the request timeout and the access log.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use typhoon_escape::xhtml_escape;
use typhoon_platform::tower::route_service;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, handler, route};

/// A note, as the API sends and receives it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Note {
    /// Its number (assigned by the server; ignored in a `POST`).
    #[serde(default)]
    pub id: u64,
    /// Its text.
    pub text: String,
}

/// The notes, shared by the Typhoon page and the axum router (axum's state must be `Send +
/// Sync`, hence the `Arc<Mutex<..>>` on a single loop).
#[derive(Clone, Debug, Default)]
pub struct Notes(Arc<Mutex<Vec<Note>>>);

impl Notes {
    /// Every note, oldest first.
    pub fn all(&self) -> Vec<Note> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stores `text` as a new note and returns it.
    pub fn add(&self, text: String) -> Note {
        let mut notes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let note = Note {
            id: notes.len() as u64 + 1,
            text,
        };
        notes.push(note.clone());
        note
    }
}

/// The Typhoon page at `/`.
#[derive(Debug)]
pub struct IndexHandler {
    /// The store.
    notes: Notes,
}

#[handler]
impl RequestHandler for IndexHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let mut page = String::from("<h1>Notes</h1><ul>");
        for note in self.notes.all() {
            page.push_str(&format!(
                "<li>{}: {}</li>",
                note.id,
                xhtml_escape(&note.text)
            ));
        }
        page.push_str("</ul><p>API: <a href=\"/api/notes\">/api/notes</a></p>");
        cx.write(page);
        Ok(())
    }
}

/// `?ms=` of `/api/wait`.
#[derive(Debug, Deserialize)]
struct Wait {
    /// How long to wait, at most 1000 ms.
    ms: u64,
}

/// The axum router behind `/api`.
pub fn api_router(notes: Notes) -> axum::Router {
    let api = axum::Router::new()
        .route(
            "/notes",
            get(|State(notes): State<Notes>| async move { Json(notes.all()) }).post(
                |State(notes): State<Notes>, Json(note): Json<Note>| async move {
                    (StatusCode::CREATED, Json(notes.add(note.text)))
                },
            ),
        )
        .route(
            "/notes/{id}",
            get(
                |State(notes): State<Notes>, Path(id): Path<u64>| async move {
                    notes
                        .all()
                        .into_iter()
                        .find(|note| note.id == id)
                        .map(Json)
                        .ok_or(StatusCode::NOT_FOUND)
                },
            ),
        )
        // Streamed both ways: the body goes back as it arrives, at the client's pace.
        .route("/echo", post(|body: axum::body::Body| async move { body }))
        .route(
            "/wait",
            get(|Query(wait): Query<Wait>| async move {
                let ms = wait.ms.min(1000);
                // tokio's timer has no runtime on Typhoon's loop: it is made and awaited on
                // the bridge's runtime, inside the `async` block.
                let slept = typhoon_platform::run_on_tokio(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                })
                .await;
                match slept {
                    Ok(()) => Ok(format!("waited {ms} ms on tokio")),
                    Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
                }
            }),
        )
        .with_state(notes);
    axum::Router::new().nest("/api", api)
}

/// The example's application: the page at `/` and the router under `/api` (1 MiB bodies).
pub fn make_app(notes: Notes) -> Application {
    let page_notes = notes.clone();
    let settings = Settings {
        request_timeout: Some(Duration::from_secs(30)),
        ..Settings::default()
    };
    Application::with_settings(
        vec![
            route("/", move || IndexHandler {
                notes: page_notes.clone(),
            }),
            route_service("/api/.*", api_router(notes)).max_body_size(1024 * 1024),
        ],
        settings,
    )
}
