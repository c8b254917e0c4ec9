//! The `google_auth` example's sign-in over real sockets, against the fake Google it starts
//! itself (`start_fake_google`, as the example does without `--client_id`).

use typhoon_examples::google_auth::{GoogleAuthConfig, USER_COOKIE, make_app, start_fake_google};
use typhoon_httpclient::{HTTPRequest, HTTPResponse};
use typhoon_testing::{AsyncHTTPTestServer, run_test};

async fn get(app: &AsyncHTTPTestServer, url: &str, cookie: Option<&str>) -> HTTPResponse {
    let mut request = HTTPRequest::new(url)
        .follow_redirects(false)
        .raise_error(false);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    app.fetch_request(request).await.expect("a response")
}

fn location(response: &HTTPResponse) -> String {
    assert_eq!(response.code, 302, "{}", response.text());
    response
        .headers
        .get("Location")
        .expect("Location")
        .to_owned()
}

/// The `name=value` of the cookie `name` that `response` sets.
fn cookie(response: &HTTPResponse, name: &str) -> String {
    response
        .headers
        .get_list("Set-Cookie")
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

#[test]
fn sign_in_against_the_fake_google_then_sign_out() {
    run_test(async {
        let fake = start_fake_google(0).expect("fake Google");
        let config = GoogleAuthConfig {
            cookie_secret: "google_auth test secret".to_owned(),
            redirect_uri: None,
        };
        let app = AsyncHTTPTestServer::new(make_app(fake.provider, config));

        // Not signed in: the index sends the user to the login handler...
        let index = get(&app, &app.get_url("/"), None).await;
        assert!(location(&index).starts_with("/auth/login"));
        // ...which sends them to Google (the fake), with state, PKCE and a nonce.
        let login = get(&app, &app.get_url("/auth/login"), None).await;
        let authorize = location(&login);
        assert!(
            authorize.starts_with(&format!("{}/authorize?", fake.url)),
            "{authorize}"
        );
        for arg in [
            "state=",
            "code_challenge=",
            "nonce=",
            "scope=openid+email+profile",
        ] {
            assert!(authorize.contains(arg), "{arg} in {authorize}");
        }
        let flow = cookie(&login, "_auth_flow_google");

        // The fake signs the user in and sends them back with a code.
        let consent = get(&app, &authorize, None).await;
        let callback = location(&consent);
        assert!(
            callback.starts_with(&app.get_url("/auth/login?code=")),
            "{callback}"
        );

        // The callback exchanges the code, verifies the ID token, leaves the user in the cookie.
        let done = get(&app, &callback, Some(&flow)).await;
        assert_eq!(location(&done), "/");
        let user = cookie(&done, USER_COOKIE);
        let hello = get(&app, &app.get_url("/"), Some(&user)).await;
        assert_eq!(hello.code, 200, "{}", hello.text());
        assert!(
            hello.text().starts_with("Hello, Fake User"),
            "{}",
            hello.text()
        );

        // The same callback again (the flow cookie is gone) is refused.
        let replay = get(&app, &callback, None).await;
        assert_eq!(replay.code, 400);

        // Signing out clears the cookie.
        let logout = get(&app, &app.get_url("/auth/logout"), Some(&user)).await;
        assert_eq!(location(&logout), "/");
        assert!(cookie(&logout, USER_COOKIE).ends_with('='));
        fake.server.stop();
    });
}
