//! Tornado's WebSocket chat demo (`demos/websocket/chatdemo.py`), ported: every open page keeps
//! a WebSocket to `/chatsocket`; a message sent on one is rendered once by the server, kept in
//! a cache of the last 200, and broadcast to every open socket; a page loaded later shows the
//! cache. The broadcast frames each message once ([`PreparedMessage`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use typhoon_ioloop::locks::Condition;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};
use typhoon_websocket::deflate::DeflateOptions;
use typhoon_websocket::{
    Message, PreparedMessage, WebSocket, WebSocketConnection, WebSocketHandler, websocket_route,
};

/// How far (queued bytes) a socket may fall behind before broadcasts skip it.
const MAX_BEHIND: usize = 1024 * 1024;

/// One chat message, as the cache keeps it and the pages receive it.
#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    /// A random id (Tornado's `uuid4`), the element id on the page.
    pub id: String,
    /// What was said.
    pub body: String,
    /// The message rendered by `message.html`.
    pub html: String,
}

/// The room: the open sockets (Tornado's class-level `waiters`) and the recent messages
/// (`cache`). Cheap to clone; lives on one loop.
#[derive(Clone)]
pub struct ChatRoom {
    /// What the clones share.
    inner: Rc<RoomInner>,
}

/// What a [`ChatRoom`]'s clones share.
struct RoomInner {
    /// The open sockets, by a connection number.
    waiters: RefCell<Vec<(u64, WebSocketConnection)>>,
    /// The next connection number.
    next_id: Cell<u64>,
    /// The last `cache_size` messages.
    cache: RefCell<VecDeque<Chat>>,
    /// How many messages the cache keeps.
    cache_size: usize,
    /// Notified when a socket joins or leaves (for tests that wait for pages to connect).
    changed: Condition,
}

impl std::fmt::Debug for ChatRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatRoom")
            .field("waiters", &self.inner.waiters.borrow().len())
            .field("cached", &self.inner.cache.borrow().len())
            .finish()
    }
}

impl Default for ChatRoom {
    /// Tornado's cache of 200 messages.
    fn default() -> Self {
        Self::new(200)
    }
}

impl ChatRoom {
    /// A room keeping the last `cache_size` messages.
    pub fn new(cache_size: usize) -> Self {
        Self {
            inner: Rc::new(RoomInner {
                waiters: RefCell::new(Vec::new()),
                next_id: Cell::new(0),
                cache: RefCell::new(VecDeque::new()),
                cache_size,
                changed: Condition::new(),
            }),
        }
    }

    /// The cached messages, oldest first.
    pub fn messages(&self) -> Vec<Chat> {
        self.inner.cache.borrow().iter().cloned().collect()
    }

    /// How many sockets are open.
    pub fn waiters(&self) -> usize {
        self.inner.waiters.borrow().len()
    }

    /// Waits until `n` sockets are open.
    pub async fn wait_for_waiters(&self, n: usize) {
        while self.waiters() < n {
            self.inner.changed.wait().await;
        }
    }

    /// Adds a socket; returns its number.
    fn join(&self, connection: WebSocketConnection) -> u64 {
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        self.inner.waiters.borrow_mut().push((id, connection));
        self.inner.changed.notify_all();
        id
    }

    /// Removes a socket.
    fn leave(&self, id: u64) {
        self.inner.waiters.borrow_mut().retain(|(i, _)| *i != id);
        self.inner.changed.notify_all();
    }

    /// Tornado's `update_cache` then `send_updates`: the message joins the cache and goes to
    /// every open socket, framed (and compressed) once and sent from this task without waiting
    /// for any socket ([`WebSocketConnection::send_prepared`]): a slow reader delays no one
    /// else, and one over [`MAX_BEHIND`] bytes behind is skipped.
    fn broadcast(&self, chat: Chat) -> Result<(), HTTPError> {
        let prepared = PreparedMessage::new(Message::Text(serde_json::to_string(&chat)?));
        {
            let mut cache = self.inner.cache.borrow_mut();
            cache.push_back(chat);
            while cache.len() > self.inner.cache_size {
                cache.pop_front();
            }
        }
        tracing::info!(target: "typhoon::application", "sending message to {} waiters", self.waiters());
        for (_, waiter) in self.inner.waiters.borrow().iter() {
            if waiter.buffered_amount() > MAX_BEHIND {
                // A reader this far behind misses messages rather than growing the queue.
                tracing::debug!(target: "typhoon::application", "skipping a slow reader");
                continue;
            }
            if let Err(error) = waiter.send_prepared(&prepared) {
                tracing::debug!(target: "typhoon::application", %error, "error sending message");
            }
        }
        Ok(())
    }
}

/// `GET /`: the page, with the cached messages.
#[derive(Debug)]
pub struct MainHandler {
    /// The room.
    room: ChatRoom,
}

/// The page's template context.
#[derive(Serialize)]
struct IndexPage {
    /// The cached messages.
    messages: Vec<Chat>,
}

impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.render(
            "index.html",
            IndexPage {
                messages: self.room.messages(),
            },
        )?;
        Ok(())
    }
}

/// What a page sends: `{"body": "..."}`.
#[derive(Deserialize)]
struct Incoming {
    /// What was said.
    body: String,
}

/// The `message.html` template's context.
#[derive(Serialize)]
struct MessageContext<'a> {
    /// The message to render.
    message: &'a Chat,
}

/// `/chatsocket`: Tornado's `ChatSocketHandler`.
#[derive(Debug)]
pub struct ChatSocketHandler {
    /// The room.
    room: ChatRoom,
    /// This socket's number in the room, once open.
    id: Option<u64>,
}

impl WebSocketHandler for ChatSocketHandler {
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        // Tornado's demo: `{}`, compression with the defaults.
        Some(DeflateOptions::default())
    }

    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        self.id = Some(self.room.join(ws.connection().clone()));
        Ok(())
    }

    async fn on_message(
        &mut self,
        ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError> {
        let Message::Text(text) = message else {
            return Err(HTTPError::with_log_message(400, "binary chat message"));
        };
        tracing::info!(target: "typhoon::application", "got message {text}");
        let parsed: Incoming = serde_json::from_str(&text)?;
        let mut chat = Chat {
            id: crate::random::random_hex(16)?,
            body: parsed.body,
            html: String::new(),
        };
        chat.html = ws
            .context()
            .render_string("message.html", MessageContext { message: &chat })?;
        self.room.broadcast(chat)
    }

    fn on_close(&mut self, _ws: &mut WebSocket<'_>) {
        if let Some(id) = self.id.take() {
            self.room.leave(id);
        }
    }
}

/// Where the demo's files are, and its secret.
#[derive(Debug, Clone)]
pub struct WebSocketChatConfig {
    /// Signs the XSRF cookie of the page's form.
    pub cookie_secret: String,
    /// `index.html` and `message.html`.
    pub template_path: PathBuf,
    /// The static files: `websocket_chat/chat.js`, and `chat/chat.css` shared with the
    /// long-polling chat.
    pub static_path: PathBuf,
}

impl Default for WebSocketChatConfig {
    /// The shipped templates and static files (`examples/templates/websocket_chat`,
    /// `examples/static`) and Tornado's placeholder secret.
    fn default() -> Self {
        Self {
            cookie_secret: "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__".to_owned(),
            template_path: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/websocket_chat"
            )),
            static_path: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static")),
        }
    }
}

/// The demo's application (Tornado's `Application` in `chatdemo.py`): `/` and `/chatsocket`,
/// XSRF cookies on.
pub fn make_app(config: WebSocketChatConfig, room: &ChatRoom) -> Application {
    let (main_room, socket_room) = (room.clone(), room.clone());
    Application::with_settings(
        vec![
            route("/", move || MainHandler {
                room: main_room.clone(),
            }),
            websocket_route("/chatsocket", move || ChatSocketHandler {
                room: socket_room.clone(),
                id: None,
            }),
        ],
        Settings {
            cookie_secret: Some(config.cookie_secret),
            template_path: Some(config.template_path),
            static_path: Some(config.static_path),
            xsrf_cookies: true,
            ..Settings::default()
        },
    )
}
