//! Tornado's long-polling chat demo (`demos/chat`) on `typhoon-web`.
//!
//! A [`MessageBuffer`] keeps the last messages and a [`Condition`] that wakes the long-polls.
//! The routes:
//!
//! | route | does |
//! |---|---|
//! | `GET /` | the room: the cached messages, a form, and `chat.js` (authenticated) |
//! | `GET /login`, `POST /login` | a name form; the name goes in the signed cookie `chatdemo_user` |
//! | `GET /logout` | clears the cookie |
//! | `POST /a/message/new` | form field `body`; answers the message as JSON, or redirects to `next` |
//! | `POST /a/message/updates` | form field `cursor` (the id of the last message seen); waits until newer messages exist, then answers `{"messages": [...]}` |
//!
//! Every `POST` carries the XSRF token (`xsrf_cookies` is on): the forms include
//! `xsrf_form_html`, and `chat.js` sends the form's `_xsrf` field with its requests.
//!
//! A long-poll that is waiting when its client goes away is cancelled: the framework drops the
//! handler's future, which takes the wait off the [`Condition`]'s queue (Tornado's demo cancels
//! its wait future in `on_connection_close`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::redirects::local_path;
use serde::Serialize;
use typhoon_ioloop::locks::Condition;
use typhoon_web::{
    Application, Context, CookieOptions, CurrentUser, HTTPError, RequestHandler, Settings, route,
};

/// The signed cookie holding the user's name.
pub const USER_COOKIE: &str = "chatdemo_user";

/// The longest accepted user name, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// One chat message, as cached, rendered and sent to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Unique id (also the cursor a client sends back to ask for newer messages).
    pub id: String,
    /// Who wrote it.
    pub from: String,
    /// The text, as typed (escaped when rendered).
    pub body: String,
    /// The message rendered with `message.html`, for clients to insert as is.
    pub html: String,
}

/// The last `cache_size` messages, and the waits of the long-polls (Tornado's `MessageBuffer`).
///
/// Cheap to clone (clones share the buffer); lives on one loop, like the application.
#[derive(Clone)]
pub struct MessageBuffer {
    /// The shared state.
    inner: Rc<BufferInner>,
}

/// What clones of a [`MessageBuffer`] share.
struct BufferInner {
    /// The cached messages, oldest first.
    cache: RefCell<VecDeque<Message>>,
    /// How many messages the cache keeps.
    cache_size: usize,
    /// Notified whenever a message is added (wakes the long-polls).
    cond: Condition,
    /// Prefix of message ids, different for each buffer, so that a cursor from before a server
    /// restart is not mistaken for a new message's id.
    id_prefix: String,
    /// The sequence number of the next message id.
    next_seq: Cell<u64>,
    /// How many long-polls are waiting now.
    waiting: Cell<usize>,
    /// Notified whenever `waiting` changes (for monitoring and tests).
    waiting_changed: Condition,
}

impl MessageBuffer {
    /// A buffer keeping the last `cache_size` messages (Tornado's demo keeps 200).
    pub fn new(cache_size: usize) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self {
            inner: Rc::new(BufferInner {
                cache: RefCell::new(VecDeque::new()),
                cache_size: cache_size.max(1),
                cond: Condition::new(),
                id_prefix: format!("{:x}", nanos & 0xffff_ffff_ffff),
                next_seq: Cell::new(1),
                waiting: Cell::new(0),
                waiting_changed: Condition::new(),
            }),
        }
    }

    /// A new unique message id.
    pub fn new_id(&self) -> String {
        let seq = self.inner.next_seq.get();
        self.inner.next_seq.set(seq + 1);
        format!("{}-{seq}", self.inner.id_prefix)
    }

    /// The cached messages, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.inner.cache.borrow().iter().cloned().collect()
    }

    /// The messages newer than `cursor`, the id of the last message a client has: walking back
    /// from the newest message until `cursor`. A cursor that is not in the cache (none, or one
    /// that fell out of it) gets every cached message, as in Tornado.
    pub fn get_messages_since(&self, cursor: Option<&str>) -> Vec<Message> {
        let cache = self.inner.cache.borrow();
        let newer = cache
            .iter()
            .rev()
            .take_while(|message| Some(message.id.as_str()) != cursor)
            .count();
        cache.iter().skip(cache.len() - newer).cloned().collect()
    }

    /// Adds a message, dropping the oldest past `cache_size`, and wakes every long-poll.
    pub fn add_message(&self, message: Message) {
        {
            let mut cache = self.inner.cache.borrow_mut();
            cache.push_back(message);
            while cache.len() > self.inner.cache_size {
                cache.pop_front();
            }
        }
        self.inner.cond.notify_all();
    }

    /// Waits until there are messages newer than `cursor` and returns them (the long-poll).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future takes its wait off the queue and out of
    /// [`waiting`](Self::waiting).
    pub async fn wait_for_messages_since(&self, cursor: Option<&str>) -> Vec<Message> {
        loop {
            let messages = self.get_messages_since(cursor);
            if !messages.is_empty() {
                return messages;
            }
            let _waiting = WaitingGuard::new(&self.inner);
            self.inner.cond.wait().await;
        }
    }

    /// How many long-polls are waiting for a message now.
    pub fn waiting(&self) -> usize {
        self.inner.waiting.get()
    }

    /// Waits until exactly `n` long-polls are waiting (to know that a client's poll has
    /// arrived, or that a cancelled one has left).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn wait_until_waiting(&self, n: usize) {
        while self.waiting() != n {
            self.inner.waiting_changed.wait().await;
        }
    }
}

impl Default for MessageBuffer {
    /// A buffer of 200 messages, as Tornado's demo.
    fn default() -> Self {
        Self::new(200)
    }
}

impl fmt::Debug for MessageBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageBuffer")
            .field("cached", &self.inner.cache.borrow().len())
            .field("cache_size", &self.inner.cache_size)
            .field("waiting", &self.inner.waiting.get())
            .finish()
    }
}

/// Counts one waiting long-poll for as long as it lives (also when its future is dropped).
struct WaitingGuard<'a>(&'a BufferInner);

impl<'a> WaitingGuard<'a> {
    fn new(inner: &'a BufferInner) -> Self {
        inner.waiting.set(inner.waiting.get() + 1);
        inner.waiting_changed.notify_all();
        Self(inner)
    }
}

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.waiting.set(self.0.waiting.get().saturating_sub(1));
        self.0.waiting_changed.notify_all();
    }
}

/// The chat application's configuration.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// The templates (`index.html`, `message.html`, `login.html`).
    pub template_path: PathBuf,
    /// The static files (`chat.js`, `chat.css`).
    pub static_path: PathBuf,
    /// The key that signs the user cookie.
    pub cookie_secret: String,
    /// Debug mode (templates reloaded, static hashes not cached, tracebacks in 500 pages).
    pub debug: bool,
}

impl ChatConfig {
    /// The templates shipped with the examples: `examples/templates/chat`.
    pub fn default_template_path() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/chat"))
    }

    /// The static files shipped with the examples: `examples/static/chat`.
    pub fn default_static_path() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static/chat"))
    }
}

impl Default for ChatConfig {
    /// The shipped templates and static files, Tornado's placeholder secret, no debug.
    fn default() -> Self {
        Self {
            template_path: Self::default_template_path(),
            static_path: Self::default_static_path(),
            cookie_secret: "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__".to_owned(),
            debug: false,
        }
    }
}

/// The application of the `chat` example, over `buffer` (kept by the caller too, so tests can
/// look at it).
pub fn make_app(config: ChatConfig, buffer: &MessageBuffer) -> Application {
    let settings = Settings {
        debug: config.debug,
        cookie_secret: Some(config.cookie_secret),
        xsrf_cookies: true,
        login_url: Some("/login".to_owned()),
        static_path: Some(config.static_path),
        template_path: Some(config.template_path),
        ..Settings::default()
    };
    let (main, new, updates) = (buffer.clone(), buffer.clone(), buffer.clone());
    Application::with_settings(
        vec![
            route("/", move || MainHandler {
                buffer: main.clone(),
            })
            .authenticated(),
            route("/login", || LoginHandler),
            route("/logout", || LogoutHandler),
            route("/a/message/new", move || MessageNewHandler {
                buffer: new.clone(),
            })
            .authenticated()
            .max_body_size(64 * 1024),
            route("/a/message/updates", move || MessageUpdatesHandler {
                buffer: updates.clone(),
            })
            .authenticated(),
        ],
        settings,
    )
}

/// The user name in the signed cookie, if any.
fn cookie_user(cx: &Context) -> Option<String> {
    cx.get_signed_cookie(USER_COOKIE)
        .filter(|name| !name.is_empty())
}

/// The room page's template context.
#[derive(Serialize)]
struct IndexPage {
    /// The cached messages.
    messages: Vec<Message>,
    /// The id of the newest message, where `chat.js` starts polling.
    cursor: String,
}

/// `GET /`: the room.
#[derive(Debug)]
pub struct MainHandler {
    /// The room's messages.
    buffer: MessageBuffer,
}

impl RequestHandler for MainHandler {
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        Ok(cookie_user(cx).map(CurrentUser::new))
    }

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let messages = self.buffer.messages();
        let cursor = messages.last().map(|m| m.id.clone()).unwrap_or_default();
        cx.render("index.html", IndexPage { messages, cursor })?;
        Ok(())
    }
}

/// The sign-in page's template context.
#[derive(Serialize)]
struct LoginPage<'a> {
    /// Where to go after signing in.
    next: &'a str,
    /// Why the last attempt failed.
    error: Option<&'a str>,
}

/// `GET /login` shows a name form; `POST /login` signs in with that name.
#[derive(Debug)]
pub struct LoginHandler;

impl RequestHandler for LoginHandler {
    const ALLOWED_METHODS: &'static [&'static str] = &["GET", "POST"];

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let next = cx.get_argument_or("next", "/");
        let next = local_path(&next);
        cx.render("login.html", LoginPage { next, error: None })?;
        Ok(())
    }

    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let name = cx.get_argument_or("name", "");
        let next = cx.get_argument_or("next", "/");
        let next = local_path(&next);
        let error = if name.is_empty() {
            Some("Please enter a name.")
        } else if name.chars().count() > MAX_NAME_CHARS {
            Some("That name is too long.")
        } else {
            None
        };
        if let Some(error) = error {
            cx.set_status(400);
            let page = LoginPage {
                next,
                error: Some(error),
            };
            cx.render("login.html", page)?;
            return Ok(());
        }
        // Not for scripts (HttpOnly), not sent on cross-site POSTs (SameSite=Lax).
        let options = CookieOptions {
            expires_days: Some(30.0),
            httponly: true,
            samesite: Some("Lax".to_owned()),
            ..CookieOptions::default()
        };
        cx.set_signed_cookie_with(USER_COOKIE, &name, &options)?;
        cx.redirect(next)?;
        Ok(())
    }
}

/// `GET /logout`: forgets the name.
#[derive(Debug)]
pub struct LogoutHandler;

impl RequestHandler for LogoutHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.clear_cookie(USER_COOKIE, &CookieOptions::default())?;
        cx.redirect("/login")?;
        Ok(())
    }
}

/// The `message.html` template's context.
#[derive(Serialize)]
struct MessageContext<'a> {
    /// The message to render.
    message: &'a Message,
}

/// `POST /a/message/new`: posts a message to the room.
#[derive(Debug)]
pub struct MessageNewHandler {
    /// The room's messages.
    buffer: MessageBuffer,
}

impl RequestHandler for MessageNewHandler {
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        Ok(cookie_user(cx).map(CurrentUser::new))
    }

    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let body = cx.get_argument("body")?;
        if body.is_empty() {
            return Err(HTTPError::with_log_message(400, "empty message"));
        }
        let mut message = Message {
            id: self.buffer.new_id(),
            from: cx.current_user::<String>().cloned().unwrap_or_default(),
            body,
            html: String::new(),
        };
        message.html = cx.render_string("message.html", MessageContext { message: &message })?;
        match cx.get_argument("next") {
            Ok(next) if !next.is_empty() => cx.redirect(local_path(&next))?,
            _ => cx.write_json(&message)?,
        }
        self.buffer.add_message(message);
        Ok(())
    }
}

/// The answer of a long-poll.
#[derive(Serialize)]
struct Updates {
    /// The messages newer than the cursor, oldest first.
    messages: Vec<Message>,
}

/// `POST /a/message/updates`: the long-poll.
#[derive(Debug)]
pub struct MessageUpdatesHandler {
    /// The room's messages.
    buffer: MessageBuffer,
}

impl RequestHandler for MessageUpdatesHandler {
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        Ok(cookie_user(cx).map(CurrentUser::new))
    }

    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let cursor = cx.get_argument("cursor").ok().filter(|c| !c.is_empty());
        let messages = self.buffer.wait_for_messages_since(cursor.as_deref()).await;
        cx.write_json(&Updates { messages })?;
        Ok(())
    }

    fn on_connection_close(&mut self, cx: &mut Context) {
        // The wait was already cancelled: the framework dropped `post`'s future.
        tracing::debug!(target: "typhoon::general", uri = %cx.request().uri, "long-poll client went away");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(buffer: &MessageBuffer, body: &str) -> Message {
        Message {
            id: buffer.new_id(),
            from: "ann".to_owned(),
            body: body.to_owned(),
            html: String::new(),
        }
    }

    fn bodies(messages: &[Message]) -> Vec<&str> {
        messages.iter().map(|m| m.body.as_str()).collect()
    }

    #[test]
    fn cursor_semantics() {
        let buffer = MessageBuffer::new(3);
        assert!(buffer.get_messages_since(None).is_empty());
        for body in ["a", "b", "c"] {
            buffer.add_message(message(&buffer, body));
        }
        let all = buffer.get_messages_since(None);
        assert_eq!(bodies(&all), ["a", "b", "c"]);
        assert_eq!(
            bodies(&buffer.get_messages_since(Some(&all[0].id))),
            ["b", "c"]
        );
        assert!(buffer.get_messages_since(Some(&all[2].id)).is_empty());
        // An unknown cursor gets the whole cache.
        assert_eq!(buffer.get_messages_since(Some("nope")).len(), 3);
        // The cache keeps the last three; a cursor that fell out is unknown.
        buffer.add_message(message(&buffer, "d"));
        assert_eq!(bodies(&buffer.messages()), ["b", "c", "d"]);
        assert_eq!(
            bodies(&buffer.get_messages_since(Some(&all[0].id))),
            ["b", "c", "d"]
        );
    }

    #[test]
    fn ids_are_unique_and_local_paths_only() {
        let buffer = MessageBuffer::default();
        assert_ne!(buffer.new_id(), buffer.new_id());
        assert_eq!(local_path("/room?x=1"), "/room?x=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example/"), "/");
        assert_eq!(local_path("http://evil.example/"), "/");
    }
}
