//! The `chat` example over a real socket: sign-in, posting with XSRF, the long-poll waking on a
//! new message, cursor semantics, and cancellation when the client goes away.

mod cookie_client;

use cookie_client::CookieClient;
use serde_json::Value;
use typhoon_examples::chat::{ChatConfig, MessageBuffer, USER_COOKIE, make_app};
use typhoon_ioloop::IOLoop;
use typhoon_testing::{AsyncHTTPTestServer, run_test};

fn serve() -> (AsyncHTTPTestServer, MessageBuffer) {
    let buffer = MessageBuffer::new(5);
    let server = AsyncHTTPTestServer::new(make_app(ChatConfig::default(), &buffer));
    (server, buffer)
}

/// Signs in as `name` (GET the form for the XSRF cookie, POST it).
async fn sign_in(client: &CookieClient<'_>, name: &str) {
    let form = client.get("/login").await;
    assert_eq!(form.code, 200);
    assert!(form.text().contains("name=\"_xsrf\""));
    let done = client
        .post_xsrf("/login", &[("name", name), ("next", "/")])
        .await;
    assert_eq!(done.code, 302, "{}", done.text());
    assert_eq!(done.headers.get("Location"), Some("/"));
    assert!(client.cookie(USER_COOKIE).is_some());
}

fn json(response: &typhoon_httpclient::HTTPResponse) -> Value {
    serde_json::from_slice(&response.body).expect("a JSON answer")
}

#[test]
fn room_requires_sign_in_and_serves_page_and_static_files() {
    run_test(async {
        let (server, _buffer) = serve();
        let client = CookieClient::new(&server);
        let anonymous = client.get("/").await;
        assert_eq!(anonymous.code, 302);
        assert_eq!(anonymous.headers.get("Location"), Some("/login?next=%2F"));

        sign_in(&client, "ann").await;
        let page = client.get("/").await;
        assert_eq!(page.code, 200);
        let html = page.text();
        assert!(html.contains("<b id=\"user\">ann</b>"), "{html}");
        assert!(html.contains("id=\"messageform\""));
        assert!(html.contains("/static/chat.js?v="));

        let js = client.get("/static/chat.js").await;
        assert_eq!(js.code, 200);
        assert!(js.text().contains("/a/message/updates"));
        let css = client.get("/static/chat.css").await;
        assert_eq!(css.code, 200);

        // An empty or too long name is refused with the form again.
        let empty = client.post_xsrf("/login", &[("name", "")]).await;
        assert_eq!(empty.code, 400);
        assert!(empty.text().contains("Please enter a name."));
        let long = "x".repeat(41);
        let too_long = client.post_xsrf("/login", &[("name", &long)]).await;
        assert_eq!(too_long.code, 400);
        // No open redirect after sign-in.
        let elsewhere = client
            .post_xsrf("/login", &[("name", "ann"), ("next", "//evil.example/")])
            .await;
        assert_eq!(elsewhere.headers.get("Location"), Some("/"));
    });
}

#[test]
fn post_message_with_xsrf_and_see_it_on_the_page_escaped() {
    run_test(async {
        let (server, buffer) = serve();
        let client = CookieClient::new(&server);
        sign_in(&client, "<ann>").await;
        let posted = client
            .post_xsrf("/a/message/new", &[("body", "hello <b>world</b> & co")])
            .await;
        assert_eq!(posted.code, 200, "{}", posted.text());
        assert!(
            posted
                .headers
                .get("Content-Type")
                .is_some_and(|t| t.starts_with("application/json"))
        );
        let message = json(&posted);
        assert_eq!(message["body"], "hello <b>world</b> & co");
        assert_eq!(message["from"], "<ann>");
        let id = message["id"].as_str().expect("an id");
        assert_eq!(
            message["html"].as_str().map(str::trim),
            Some(
                format!(
                    "<div class=\"message\" id=\"m{id}\"><b>&lt;ann&gt;: </b>hello &lt;b&gt;world&lt;/b&gt; &amp; co</div>"
                )
                .as_str()
            )
        );
        assert_eq!(buffer.messages().len(), 1);

        let page = client.get("/").await.text().into_owned();
        assert!(page.contains(&format!("id=\"m{id}\"")));
        assert!(page.contains(&format!("data-cursor=\"{id}\"")));
        assert!(!page.contains("<b>world</b>"));

        // The form fallback without JavaScript: `next` redirects back to the room.
        let form_post = client
            .post_xsrf("/a/message/new", &[("body", "from a form"), ("next", "/")])
            .await;
        assert_eq!(form_post.code, 302);
        assert_eq!(form_post.headers.get("Location"), Some("/"));
        assert_eq!(buffer.messages().len(), 2);
    });
}

#[test]
fn xsrf_and_sign_in_are_required_to_post() {
    run_test(async {
        let (server, buffer) = serve();
        let client = CookieClient::new(&server);
        sign_in(&client, "ann").await;
        for path in ["/a/message/new", "/a/message/updates"] {
            let no_token = client.post(path, &[("body", "hi")]).await;
            assert_eq!(no_token.code, 403, "{path}");
            let wrong = client
                .post(path, &[("body", "hi"), ("_xsrf", "2|00|00|0")])
                .await;
            assert_eq!(wrong.code, 403, "{path}");
        }
        // Signed out, even with a valid XSRF token: 403 (POST is not redirected to sign in).
        let anonymous = CookieClient::new(&server);
        anonymous.get("/login").await;
        let refused = anonymous
            .post_xsrf("/a/message/new", &[("body", "hi")])
            .await;
        assert_eq!(refused.code, 403);
        // A forged user cookie is not a user.
        let forged = anonymous
            .request("/a/message/new")
            .method("POST")
            .header(
                "Cookie",
                &format!("{}; {USER_COOKIE}=mallory", anonymous.cookie_header()),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(cookie_client::form(&[
                ("_xsrf", &anonymous.xsrf()),
                ("body", "hi"),
            ]));
        assert_eq!(anonymous.fetch(forged).await.code, 403);
        assert!(buffer.messages().is_empty());
    });
}

#[test]
fn long_poll_wakes_on_new_message_and_cursor_semantics() {
    run_test(async {
        let (server, buffer) = serve();
        let server = std::rc::Rc::new(server);
        let ann = CookieClient::new(&server);
        sign_in(&ann, "ann").await;

        // Nothing yet: the poll waits until a message arrives.
        let poll = {
            let server = std::rc::Rc::clone(&server);
            let cookies = ann.cookie_header();
            let token = ann.xsrf();
            IOLoop::current().spawn(async move {
                let request = server
                    .request("/a/message/updates")
                    .method("POST")
                    .header("Cookie", &cookies)
                    .body(cookie_client::form(&[("_xsrf", &token)]));
                server.fetch_request(request).await.expect("poll")
            })
        };
        buffer.wait_until_waiting(1).await;
        let first = json(&ann.post_xsrf("/a/message/new", &[("body", "one")]).await);
        let woken = json(&poll.await.expect("poll task"));
        let messages = woken["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0]["id"], first["id"]);
        assert_eq!(messages[0]["body"], "one");
        assert_eq!(buffer.waiting(), 0);

        // Messages newer than the cursor come back at once, oldest first.
        for body in ["two", "three"] {
            ann.post_xsrf("/a/message/new", &[("body", body)]).await;
        }
        let first_id = first["id"].as_str().expect("id").to_owned();
        let since_first = json(
            &ann.post_xsrf("/a/message/updates", &[("cursor", &first_id)])
                .await,
        );
        let bodies: Vec<&str> = since_first["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["body"].as_str())
            .collect();
        assert_eq!(bodies, ["two", "three"]);
        // No cursor, or an unknown one: the whole cache.
        let all = json(&ann.post_xsrf("/a/message/updates", &[]).await);
        assert_eq!(all["messages"].as_array().map(Vec::len), Some(3));
        let unknown = json(
            &ann.post_xsrf("/a/message/updates", &[("cursor", "nope")])
                .await,
        );
        assert_eq!(unknown["messages"].as_array().map(Vec::len), Some(3));
        // The cache keeps the last five.
        for body in ["4", "5", "6"] {
            ann.post_xsrf("/a/message/new", &[("body", body)]).await;
        }
        assert_eq!(buffer.messages().len(), 5);
        assert_eq!(buffer.messages()[0].body, "two");
    });
}

#[test]
fn long_poll_is_cancelled_when_the_client_goes_away() {
    run_test(async {
        let (server, buffer) = serve();
        let ann = CookieClient::new(&server);
        sign_in(&ann, "ann").await;
        let body = cookie_client::form(&[("_xsrf", &ann.xsrf())]);
        let head = format!(
            "POST /a/message/updates HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            ann.cookie_header(),
            body.len()
        );
        let addr = ([127, 0, 0, 1], server.port()).into();
        let stream = typhoon_testing::connect(addr).await;
        stream
            .write(&[head.as_bytes(), body.as_bytes()].concat())
            .await
            .expect("write");
        buffer.wait_until_waiting(1).await;
        stream.close();
        // The server sees the close, drops the handler's wait, and the count goes back to 0.
        buffer.wait_until_waiting(0).await;
        // The room still works.
        let posted = ann
            .post_xsrf("/a/message/new", &[("body", "still here")])
            .await;
        assert_eq!(posted.code, 200);
    });
}
