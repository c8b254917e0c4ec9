//! Sign-ins that succeed (Tornado's `test_oauth2_redirect`, `test_google_login` and
//! `test_facebook_login`, and more): plain OAuth2 (GitHub's shape), OpenID Connect (discovered,
//! and the Google preset; ES256 and RS256), Facebook's Graph login, key rotation.

use typhoon_auth::{OAuth2Provider, TokenExchange};
use typhoon_testing::run_test;

use crate::util::{CLIENT_ID, CLIENT_SECRET, Harness, Keys, USER_COOKIE, fake, query_arg};

#[test]
fn oauth2_redirect_and_github_login() {
    run_test(async {
        let h = Harness::start(fake(Keys::Es256), |fake, base| {
            fake.configure(OAuth2Provider::github(CLIENT_ID, CLIENT_SECRET), base)
        });
        let (location, flow_cookie) = h.start_login().await;
        // Tornado's test_oauth2_redirect: the Location is the fake's authorize URL...
        assert!(
            location.starts_with(&h.fake_server.get_url("/authorize?")),
            "{location}"
        );
        // ...with what Tornado never sends: state and a PKCE S256 challenge.
        assert_eq!(
            query_arg(&location, "response_type").as_deref(),
            Some("code")
        );
        assert_eq!(
            query_arg(&location, "client_id").as_deref(),
            Some(CLIENT_ID)
        );
        assert_eq!(query_arg(&location, "state").map(|s| s.len()), Some(43));
        assert_eq!(
            query_arg(&location, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert!(query_arg(&location, "code_challenge").is_some());
        assert_eq!(
            query_arg(&location, "scope").as_deref(),
            Some("read%3Auser+user%3Aemail")
        );
        assert_eq!(query_arg(&location, "prompt").as_deref(), Some("consent"));
        // Plain OAuth2: no nonce.
        assert!(query_arg(&location, "nonce").is_none());

        let callback = h.authorize(&location).await;
        assert!(
            callback.starts_with(&h.app.get_url("/login?code=")),
            "{callback}"
        );
        let response = h.get(&callback, Some(&flow_cookie)).await;
        assert_eq!(response.code, 200, "{}", response.text());
        assert_eq!(response.text(), "signed in as fake-user-1");
        // The flow cookie is deleted, the user cookie set.
        let set_cookies: Vec<&str> = response.headers.get_list("Set-Cookie").collect();
        assert!(
            set_cookies
                .iter()
                .any(|c| c.starts_with("_auth_flow_github=;")),
            "{set_cookies:?}"
        );
        let user_cookie = set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{USER_COOKIE}=")))
            .and_then(|c| c.split(';').next())
            .expect("user cookie");
        let me = h.get(&h.app.get_url("/me"), Some(user_cookie)).await;
        assert_eq!(me.text(), "github:fake-user-1");

        let user = h.last().expect("signed in");
        assert_eq!(user.provider, "github");
        assert_eq!(user.name.as_deref(), Some("Fake User"));
        assert_eq!(user.email.as_deref(), Some("fake@example.test"));
        assert_eq!(user.token.token_type.as_deref(), Some("Bearer"));
        assert_eq!(user.token.expires_in, Some(3600));
        assert!(user.token.id_token.is_none() && user.id_token.is_none());
        assert_eq!(user.userinfo["login"], "fakeuser");
        assert_eq!(h.fake.token_requests(), 1);
    });
}

#[test]
fn oidc_discovered_sign_in_verifies_the_id_token() {
    run_test(async {
        let fake = fake(Keys::Es256);
        let fake_server = typhoon_testing::AsyncHTTPTestServer::new(fake.application());
        let issuer = fake_server.get_url("");
        let provider = OAuth2Provider::new("idp", "", "", CLIENT_ID, CLIENT_SECRET)
            .discover(&issuer)
            .await
            .expect("discovery");
        assert!(provider.is_openid());
        let h = Harness::with_provider(fake, fake_server, provider);
        let (location, cookie) = h.start_login().await;
        let nonce = query_arg(&location, "nonce").expect("a nonce");
        assert_eq!(nonce.len(), 43);
        assert!(query_arg(&location, "scope").is_some_and(|s| s.starts_with("openid")));
        let callback = h.authorize(&location).await;
        let response = h.get(&callback, Some(&cookie)).await;
        assert_eq!(response.code, 200, "{}", response.text());
        let user = h.last().expect("signed in");
        let claims = user.id_token.expect("verified claims");
        assert_eq!(claims.nonce.as_deref(), Some(nonce.as_str()));
        assert_eq!(claims.iss, h.fake_server.get_url(""));
        assert_eq!(claims.aud, vec![CLIENT_ID.to_owned()]);
        assert_eq!(user.id, "fake-user-1");
        assert_eq!(user.email_verified, Some(true));
    });
}

#[test]
fn discovery_endpoints_are_taken_from_the_document() {
    run_test(async {
        let fake = fake(Keys::Es256);
        let server = typhoon_testing::AsyncHTTPTestServer::new(fake.application());
        let issuer = server.get_url("");
        let provider = OAuth2Provider::new("idp", "", "", CLIENT_ID, CLIENT_SECRET)
            .discover(&issuer)
            .await
            .expect("discovery");
        let debug = format!("{provider:?}");
        assert!(debug.contains(&format!("{issuer}/authorize")), "{debug}");
        assert!(debug.contains(&format!("{issuer}/token")), "{debug}");
        assert!(
            !debug.contains(CLIENT_SECRET),
            "the secret is redacted: {debug}"
        );
        // A document that names another issuer is refused (OIDC Discovery §4.3).
        fake.set_fault(typhoon_auth::fake::Fault::WrongIssuer);
        let refused = OAuth2Provider::new("idp", "", "", CLIENT_ID, CLIENT_SECRET)
            .discover(&issuer)
            .await;
        assert!(matches!(
            refused,
            Err(typhoon_auth::AuthError::Config { .. })
        ));
    });
}

#[test]
fn google_login() {
    run_test(async {
        let h = Harness::start(fake(Keys::Rs256), |fake, base| {
            fake.configure(OAuth2Provider::google(CLIENT_ID, CLIENT_SECRET), base)
        });
        assert_eq!(h.fake.key().alg(), "RS256");
        let response = h.sign_in().await;
        assert_eq!(response.code, 200, "{}", response.text());
        let user = h.last().expect("signed in");
        assert_eq!(user.provider, "google");
        assert_eq!(user.id, "fake-user-1");
        assert_eq!(user.picture.as_deref(), Some("http://127.0.0.1/fake.png"));
        assert!(user.id_token.is_some());
        // A second sign-in reuses the cached JWKS and still verifies.
        let again = h.sign_in().await;
        assert_eq!(again.code, 200, "{}", again.text());
    });
}

#[test]
fn facebook_login() {
    run_test(async {
        let h = Harness::start(fake(Keys::Es256), |fake, base| {
            let provider = fake.configure(OAuth2Provider::facebook(CLIENT_ID, CLIENT_SECRET), base);
            assert!(format!("{provider:?}").contains("facebook"));
            provider
        });
        let response = h.sign_in().await;
        assert_eq!(response.code, 200, "{}", response.text());
        let user = h.last().expect("signed in");
        assert_eq!(user.provider, "facebook");
        // Tornado's test_facebook_login: an access token and session expiry.
        assert!(!user.token.access_token.is_empty());
        assert_eq!(user.token.expires_in, Some(3600));
        assert_eq!(h.fake.token_requests(), 1);
    });
}

#[test]
fn pkce_can_be_turned_off() {
    run_test(async {
        let h = Harness::start(fake(Keys::Es256), |fake, base| {
            fake.configure(
                OAuth2Provider::github(CLIENT_ID, CLIENT_SECRET)
                    .pkce(false)
                    .token_exchange(TokenExchange::FormPost),
                base,
            )
        });
        let (location, cookie) = h.start_login().await;
        assert!(query_arg(&location, "code_challenge").is_none());
        let callback = h.authorize(&location).await;
        let response = h.get(&callback, Some(&cookie)).await;
        assert_eq!(response.code, 200, "{}", response.text());
    });
}

#[test]
fn rotated_provider_keys_are_fetched_again() {
    run_test(async {
        let h = Harness::start(fake(Keys::Es256), |fake, base| {
            fake.configure(OAuth2Provider::google(CLIENT_ID, CLIENT_SECRET), base)
        });
        assert_eq!(h.sign_in().await.code, 200);
        // The provider rotates to a key of a new kid; the cached JWKS lacks it.
        let key = typhoon_auth::SigningKey::generate_es256("rotated").expect("key");
        h.fake.rotate_key(key);
        let response = h.sign_in().await;
        assert_eq!(response.code, 200, "{}", response.text());
        let user = h
            .last()
            .expect("signed in after the JWKS was fetched again");
        assert!(user.id_token.is_some());
        // Rotating to an unknown key under the same kid is not papered over: that is a bad
        // signature, found without trusting anything new.
        h.fake
            .rotate_key(typhoon_auth::SigningKey::generate_es256("rotated").expect("key"));
        assert_eq!(h.sign_in().await.code, 403);
        assert!(matches!(
            h.last(),
            Err(typhoon_auth::AuthError::BadSignature)
        ));
    });
}
