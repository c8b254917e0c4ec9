//! Authentication: `authenticated` routes, and the current user: typed, loaded by an async
//! `get_current_user` that sees the handler, or set in `prepare`.

use std::collections::HashMap;
use std::rc::Rc;

use typhoon_web::{Context, CurrentUser, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::util::{fetch, get, run, serve};

thread_local! {
    /// How many times `Private::get_current_user` ran on this test's thread.
    static USER_LOADS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Its user is the `user` cookie, loaded asynchronously; `prepare` notes whether it saw it.
struct Private {
    /// Whether the user was there when `prepare` ran.
    seen_in_prepare: bool,
}
impl RequestHandler for Private {
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        USER_LOADS.with(|n| n.set(n.get() + 1));
        // A database lookup in real life: a suspension point of the loop.
        typhoon_ioloop::yield_now().await;
        Ok(cx
            .get_cookie("user")
            .map(|u| CurrentUser::new(u.to_owned())))
    }
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.seen_in_prepare = cx.has_current_user();
        Ok(())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let user = cx.current_user::<String>().cloned().unwrap_or_default();
        let seen = self.seen_in_prepare;
        cx.write(format!("hi {user} (prepare saw it: {seen})"));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("posted");
        Ok(())
    }
}

#[test]
fn authenticated() {
    run(async {
        let settings = Settings {
            login_url: Some("/login".into()),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(
            vec![
                route("/private", || Private {
                    seen_in_prepare: false,
                })
                .authenticated(),
            ],
            settings,
        ));
        let r = get(addr, "/private?a=1").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Fprivate%3Fa%3D1")
        );
        assert_eq!(fetch(addr, "POST", "/private", &[], b"").await.status, 403);
        let r = fetch(addr, "GET", "/private", &[("Cookie", "user=ben")], b"").await;
        assert_eq!(r.text(), "hi ben (prepare saw it: true)");
    });
}

#[test]
fn get_current_user_runs_once_before_prepare() {
    run(async {
        let (_s, addr) = serve(app_with(
            vec![route("/open", || Private {
                seen_in_prepare: false,
            })],
            Settings::default(),
        ));
        USER_LOADS.with(|n| n.set(0));
        let r = fetch(addr, "GET", "/open", &[("Cookie", "user=ben")], b"").await;
        assert_eq!(r.text(), "hi ben (prepare saw it: true)");
        assert_eq!(USER_LOADS.with(std::cell::Cell::get), 1);
        let r = get(addr, "/open").await;
        assert_eq!(r.text(), "hi  (prepare saw it: false)");
        assert_eq!(USER_LOADS.with(std::cell::Cell::get), 2);
        // A verb the handler cannot serve is refused before anything loads a user.
        assert_eq!(fetch(addr, "BREW", "/open", &[], b"").await.status, 405);
        assert_eq!(USER_LOADS.with(std::cell::Cell::get), 2);
    });
}

/// An account of the application's own type.
#[derive(serde::Serialize)]
struct Account {
    name: String,
    admin: bool,
}

/// Looks its user up in the accounts its route gave it (the handler's state).
struct Admin {
    accounts: Rc<HashMap<&'static str, bool>>,
}
impl RequestHandler for Admin {
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        let Some(name) = cx.get_cookie("user").map(str::to_owned) else {
            return Ok(None);
        };
        if name == "down" {
            return Err(HTTPError::with_log_message(
                503,
                "the session store is down",
            ));
        }
        Ok(self.accounts.get(name.as_str()).map(|&admin| {
            CurrentUser::new(Account {
                name: name.clone(),
                admin,
            })
        }))
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.authenticated(cx)?;
        let Some(account) = cx.current_user::<Account>() else {
            return Err(HTTPError::with_log_message(500, "not an Account"));
        };
        if !account.admin {
            return Err(HTTPError::new(403));
        }
        let page = format!("admin {}", account.name);
        cx.write(page);
        Ok(())
    }
}

#[test]
fn a_typed_user_from_the_handlers_state() {
    run(async {
        let accounts = Rc::new(HashMap::from([("ben", true), ("ana", false)]));
        let (_s, addr) = serve(app_with(
            vec![route("/admin", move || Admin {
                accounts: Rc::clone(&accounts),
            })],
            Settings::default(),
        ));
        let as_user = |user: &'static str| async move {
            let cookie = format!("user={user}");
            fetch(addr, "GET", "/admin", &[("Cookie", cookie.as_str())], b"").await
        };
        let r = as_user("ben").await;
        assert_eq!((r.status, r.text().as_str()), (200, "admin ben"));
        assert_eq!(as_user("ana").await.status, 403);
        assert_eq!(as_user("eve").await.status, 403, "unknown: anonymous");
        let r = as_user("down").await;
        assert_eq!(
            r.status, 503,
            "get_current_user's error answers the request"
        );
        // The server goes on.
        assert_eq!(as_user("ben").await.status, 200);
    });
}

/// Tornado's `GetCurrentUserTest`: `{{ current_user }}` in a template, here of a typed user
/// (`{{ current_user.name }}`), and from a UI module.
#[test]
fn get_current_user_test_get_current_user_works() {
    struct WithUser;
    impl RequestHandler for WithUser {
        async fn get_current_user(
            &mut self,
            _cx: &mut Context,
        ) -> Result<Option<CurrentUser>, HTTPError> {
            Ok(Some(CurrentUser::new(Account {
                name: "ben".into(),
                admin: false,
            })))
        }
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let page = cx.get_argument_or("page", "with_user.html");
            cx.render(&page, ())?;
            Ok(())
        }
    }
    struct WithUserModule;
    impl typhoon_web::UIModule for WithUserModule {
        fn render(
            &self,
            call: &typhoon_web::ModuleCall<'_>,
        ) -> Result<String, typhoon_web::ModuleError> {
            let user = call.get("current_user").cloned().unwrap_or_default();
            Ok(format!(
                "module sees {}",
                user.get_attr("name").unwrap_or_default()
            ))
        }
    }
    run(async {
        let loader = typhoon_template::Loader::with_templates([
            (
                "with_user.html",
                "{{ current_user.name }} {{ current_user.admin }} {{ handler.current_user.name }}",
            ),
            ("with_user_module.html", "{{ module('WithUserModule') }}"),
        ]);
        let settings = Settings {
            templates: Some(loader),
            ..Settings::default()
        };
        let app = app_with(vec![route("/", || WithUser)], settings)
            .ui_module("WithUserModule", || WithUserModule);
        let (_s, addr) = serve(app);
        assert_eq!(get(addr, "/").await.text(), "ben False ben");
        let r = get(addr, "/?page=with_user_module.html").await;
        assert_eq!(r.text(), "module sees ben");
    });
}

/// Tornado's `AuthRedirectRequestHandler`: its login URL comes from the route (Tornado's
/// `initialize`), through `get_login_url`; `get` is `@authenticated`.
struct AuthRedirect {
    login_url: &'static str,
}
impl RequestHandler for AuthRedirect {
    fn get_login_url(&self, _cx: &Context) -> Option<String> {
        Some(self.login_url.to_owned())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.authenticated(cx)?;
        // Never reached: the test does not follow redirects.
        cx.send_error(500);
        Ok(())
    }
    async fn head(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.authenticated(cx)?;
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.authenticated(cx)?;
        cx.write("posted");
        Ok(())
    }
}

fn auth_redirect_app() -> typhoon_web::Application {
    app_with(
        vec![
            route("/relative", || AuthRedirect {
                login_url: "/login",
            }),
            route("/absolute", || AuthRedirect {
                login_url: "http://example.com/login",
            }),
        ],
        Settings::default(),
    )
}

#[test]
fn auth_redirect_test_relative_auth_redirect() {
    run(async {
        let (_s, addr) = serve(auth_redirect_app());
        let r = get(addr, "/relative").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Frelative")
        );
        let r = fetch(addr, "HEAD", "/relative", &[], b"").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Frelative")
        );
        assert_eq!(fetch(addr, "POST", "/relative", &[], b"").await.status, 403);
    });
}

#[test]
fn auth_redirect_test_absolute_auth_redirect() {
    run(async {
        let (_s, addr) = serve(auth_redirect_app());
        let r = get(addr, "/absolute").await;
        assert_eq!(r.status, 302);
        // The test client's `Host` is `127.0.0.1`, without the port.
        assert_eq!(
            r.header("Location").as_deref(),
            Some("http://example.com/login?next=http%3A%2F%2F127.0.0.1%2Fabsolute")
        );
    });
}

/// Loads its user in `prepare` (from a cookie here; a database in real life), as Tornado's
/// documentation advises for asynchronous loading.
struct UserInPrepare;
impl RequestHandler for UserInPrepare {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let user = cx.get_cookie("user").map(str::to_owned);
        cx.set_current_user(user);
        Ok(())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let user = cx.current_user::<String>().cloned().unwrap_or_default();
        cx.write(format!("hi {user}"));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("posted");
        Ok(())
    }
}

#[test]
fn authenticated_route_sees_the_user_set_in_prepare() {
    run(async {
        let settings = Settings {
            login_url: Some("/login".into()),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(
            vec![route("/private", || UserInPrepare).authenticated()],
            settings,
        ));
        let r = fetch(addr, "GET", "/private", &[("Cookie", "user=ben")], b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "hi ben"));
        let r = fetch(addr, "POST", "/private", &[("Cookie", "user=ben")], b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "posted"));
        let r = get(addr, "/private").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Fprivate")
        );
        assert_eq!(fetch(addr, "POST", "/private", &[], b"").await.status, 403);
    });
}
