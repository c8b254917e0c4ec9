//! Run with: cargo run --example google_auth -- --port=8888
//!
//! Tornado's `google_auth` demo (the app is in `examples/src/google_auth.rs`): open
//! `http://127.0.0.1:8888/`, sign in, and the page says `Hello, <your name>`.
//!
//! By default it signs in against a fake Google that it serves itself on another loopback port
//! (`--fake_port`, any free one by default), so it needs no network and no Google account. With
//! `--client_id` and `--client_secret` (a Google "OAuth client ID" of type web application,
//! with `http://127.0.0.1:8888/auth/login` as an authorized redirect URI) it signs in with the
//! real Google.

use typhoon_auth::OAuth2Provider;
use typhoon_examples::google_auth::{GoogleAuthConfig, make_app, start_fake_google};
use typhoon_examples::random::random_hex;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let client_id = define(
        OptionDef::new("client_id", String::new())
            .help("Google OAuth client id (empty: sign in against the built-in fake Google)"),
    )?;
    let client_secret =
        define(OptionDef::new("client_secret", String::new()).help("Google OAuth client secret"))?;
    let redirect_uri =
        define(OptionDef::new("redirect_uri", String::new()).help(
            "the callback URL registered with Google (default http://ADDRESS:PORT/auth/login)",
        ))?;
    let fake_port =
        define(OptionDef::new("fake_port", 0_u16).help("port of the fake Google (0: any)"))?;
    parse_command_line()?;

    let (_fake_server, provider, redirect) = if client_id.get().is_empty() {
        let fake = start_fake_google(fake_port.get())?;
        println!("signing in against the fake Google at {}/", fake.url);
        (Some(fake.server), fake.provider, None)
    } else {
        let provider = OAuth2Provider::google(client_id.get(), client_secret.get());
        let redirect = match redirect_uri.get() {
            uri if uri.is_empty() => {
                format!("http://{}:{}/auth/login", address.get(), port.get())
            }
            uri => uri,
        };
        (None, provider, Some(redirect))
    };
    let config = GoogleAuthConfig {
        cookie_secret: random_hex(32)?,
        redirect_uri: redirect,
    };
    let server = make_app(provider, config).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("google_auth listening on http://{addr}/");
    }
    IOLoop::current().start();
    Ok(())
}
