//! Sign-ins that must fail, each with its own error: state, cookie, code replay, PKCE, ID-token
//! faults, a provider that refuses, is down, or never answers.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use typhoon_auth::fake::Fault;
use typhoon_auth::{AuthError, OAuth2Provider};
use typhoon_testing::{bind_unused_port, run_test};

use crate::util::{CLIENT_ID, CLIENT_SECRET, Harness, Keys, fake, query_arg, with_query_arg};

fn github(keys: Keys) -> Harness {
    Harness::start(fake(keys), |fake, base| {
        fake.configure(OAuth2Provider::github(CLIENT_ID, CLIENT_SECRET), base)
    })
}

fn google(keys: Keys) -> Harness {
    Harness::start(fake(keys), |fake, base| {
        fake.configure(OAuth2Provider::google(CLIENT_ID, CLIENT_SECRET), base)
    })
}

#[test]
fn wrong_state_is_refused_before_the_exchange() {
    run_test(async {
        let h = github(Keys::Es256);
        let (location, cookie) = h.start_login().await;
        let callback = h.authorize(&location).await;
        let forged = with_query_arg(&callback, "state", Some("attacker-state"));
        let response = h.get(&forged, Some(&cookie)).await;
        assert_eq!(response.code, 400);
        assert!(matches!(h.last(), Err(AuthError::StateMismatch)));
        assert_eq!(h.fake.token_requests(), 0, "no code was exchanged");
    });
}

#[test]
fn missing_state_is_refused() {
    run_test(async {
        let h = github(Keys::Es256);
        let (location, cookie) = h.start_login().await;
        let callback = h.authorize(&location).await;
        let response = h
            .get(&with_query_arg(&callback, "state", None), Some(&cookie))
            .await;
        assert_eq!(response.code, 400);
        assert!(matches!(h.last(), Err(AuthError::StateMismatch)));
        assert_eq!(h.fake.token_requests(), 0);
    });
}

#[test]
fn callback_without_or_with_a_tampered_flow_cookie_is_refused() {
    run_test(async {
        let h = github(Keys::Es256);
        let (location, cookie) = h.start_login().await;
        let callback = h.authorize(&location).await;
        // Login CSRF: the attacker's callback URL in the victim's browser, which has no cookie.
        let response = h.get(&callback, None).await;
        assert_eq!(response.code, 400);
        assert!(matches!(h.last(), Err(AuthError::MissingFlowCookie)));
        // A cookie whose signed JSON was edited.
        let tampered = format!("{}A", cookie.trim_end_matches('"'));
        let response = h.get(&callback, Some(&tampered)).await;
        assert_eq!(response.code, 400);
        assert!(matches!(h.last(), Err(AuthError::MissingFlowCookie)));
        assert_eq!(h.fake.token_requests(), 0);
    });
}

#[test]
fn replayed_code_is_refused_by_the_provider() {
    run_test(async {
        let h = github(Keys::Es256);
        let (location, cookie) = h.start_login().await;
        let callback = h.authorize(&location).await;
        let first = h.get(&callback, Some(&cookie)).await;
        assert_eq!(first.code, 200, "{}", first.text());
        assert!(h.last().is_ok());
        // The browser was told to delete the flow cookie; a replay that kept it reaches the
        // token endpoint, which takes each code once.
        let replay = h.get(&callback, Some(&cookie)).await;
        assert_eq!(replay.code, 403);
        match h.last() {
            Err(AuthError::TokenEndpoint { error, status, .. }) => {
                assert_eq!((error.as_str(), status), ("invalid_grant", 400));
            }
            other => panic!("expected invalid_grant, got {other:?}"),
        }
        assert_eq!(h.fake.token_requests(), 2);
    });
}

#[test]
fn code_injected_into_another_sign_in_fails_pkce() {
    run_test(async {
        let h = github(Keys::Es256);
        // The attacker's sign-in yields a code bound to the attacker's PKCE challenge...
        let (attacker_location, _) = h.start_login().await;
        let stolen = h.authorize(&attacker_location).await;
        let code = query_arg(&stolen, "code").expect("code");
        // ...which the attacker puts into the victim's callback, with the victim's state.
        let (victim_location, victim_cookie) = h.start_login().await;
        let victim_callback = h.authorize(&victim_location).await;
        let injected = with_query_arg(&victim_callback, "code", Some(&code));
        let response = h.get(&injected, Some(&victim_cookie)).await;
        assert_eq!(response.code, 403);
        assert!(matches!(
            h.last(),
            Err(AuthError::TokenEndpoint { error, .. }) if error == "invalid_grant"
        ));
    });
}

#[test]
fn provider_error_on_the_callback_is_access_denied() {
    run_test(async {
        let h = github(Keys::Es256);
        h.fake.set_fault(Fault::Deny);
        let response = h.sign_in().await;
        assert_eq!(response.code, 403);
        assert!(matches!(
            h.last(),
            Err(AuthError::AccessDenied { error, .. }) if error == "access_denied"
        ));
        assert_eq!(h.fake.token_requests(), 0);
    });
}

/// A fault, the status the callback answers with, and a test of the error.
type Case = (Fault, u16, fn(&AuthError) -> bool);

/// Each ID-token fault, with both key types, and the error it must give.
#[test]
fn bad_id_tokens_are_refused() {
    run_test(async {
        for keys in [Keys::Es256, Keys::Rs256] {
            let h = google(keys);
            let cases: [Case; 8] = [
                (Fault::ExpiredIdToken, 403, |e| {
                    matches!(e, AuthError::IdTokenExpired { .. })
                }),
                (Fault::WrongKey, 403, |e| {
                    matches!(e, AuthError::BadSignature)
                }),
                (Fault::WrongNonce, 403, |e| {
                    matches!(e, AuthError::NonceMismatch)
                }),
                (Fault::WrongAudience, 403, |e| {
                    matches!(e, AuthError::WrongAudience)
                }),
                (Fault::WrongIssuer, 403, |e| {
                    matches!(e, AuthError::WrongIssuer { .. })
                }),
                (
                    Fault::AlgNone,
                    403,
                    |e| matches!(e, AuthError::UnsupportedAlgorithm { alg } if alg == "none"),
                ),
                (Fault::NoIdToken, 502, |e| {
                    matches!(
                        e,
                        AuthError::MissingField {
                            field: "id_token",
                            ..
                        }
                    )
                }),
                (Fault::WrongUserinfoSub, 403, |e| {
                    matches!(e, AuthError::SubjectMismatch)
                }),
            ];
            // 403: the ID token refuses the user; 502: the provider broke the protocol.
            for (fault, status, expected) in cases {
                h.fake.set_fault(fault);
                let response = h.sign_in().await;
                assert_eq!(response.code, status, "{fault:?}");
                let outcome = h.last();
                assert!(
                    outcome.as_ref().is_err_and(expected),
                    "{fault:?}: {outcome:?}"
                );
            }
            // And it behaves again.
            h.fake.set_fault(Fault::None);
            assert_eq!(h.sign_in().await.code, 200);
        }
    });
}

/// A listener that accepts connections (the kernel's backlog) and never answers.
fn silent_provider() -> (TcpListener, String) {
    let (listener, port) = bind_unused_port();
    (listener, format!("http://127.0.0.1:{port}"))
}

#[test]
fn slow_token_endpoint_times_out() {
    run_test(async {
        let (_listener, silent) = silent_provider();
        let fake = fake(Keys::Es256);
        let fake_server = typhoon_testing::AsyncHTTPTestServer::new(fake.application());
        let base = fake_server.get_url("");
        let provider = fake
            .configure(OAuth2Provider::github(CLIENT_ID, CLIENT_SECRET), &base)
            .token_url(format!("{silent}/token"));
        let h =
            Harness::with_provider_timeout(fake, fake_server, provider, Duration::from_millis(200));
        let started = Instant::now();
        let response = h.sign_in().await;
        assert_eq!(response.code, 504);
        match h.last() {
            Err(
                error @ AuthError::Timeout {
                    endpoint: "token", ..
                },
            ) => {
                assert!(error.is_timeout());
                let source = std::error::Error::source(&error).expect("the client's error");
                assert!(source.to_string().contains("timeout"), "{source}");
            }
            other => panic!("expected a token timeout, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    });
}

#[test]
fn slow_jwks_endpoint_times_out() {
    run_test(async {
        let (_listener, silent) = silent_provider();
        let fake = fake(Keys::Es256);
        let fake_server = typhoon_testing::AsyncHTTPTestServer::new(fake.application());
        let base = fake_server.get_url("");
        let provider = fake
            .configure(OAuth2Provider::google(CLIENT_ID, CLIENT_SECRET), &base)
            .openid(&base, format!("{silent}/jwks"));
        let h =
            Harness::with_provider_timeout(fake, fake_server, provider, Duration::from_millis(200));
        assert_eq!(h.sign_in().await.code, 504);
        assert!(matches!(
            h.last(),
            Err(AuthError::Timeout {
                endpoint: "jwks",
                ..
            })
        ));
    });
}

#[test]
fn provider_down_is_a_connection_error() {
    run_test(async {
        // A port that was free a moment ago: nothing listens there.
        let down = {
            let (listener, port) = bind_unused_port();
            drop(listener);
            format!("http://127.0.0.1:{port}")
        };
        let h = Harness::start(fake(Keys::Es256), |fake, base| {
            fake.configure(OAuth2Provider::github(CLIENT_ID, CLIENT_SECRET), base)
                .userinfo_url(format!("{down}/userinfo"))
        });
        let response = h.sign_in().await;
        assert_eq!(response.code, 502);
        match h.last() {
            Err(AuthError::Http {
                endpoint: "userinfo",
                source,
            }) => assert_eq!(source.code(), 599),
            other => panic!("expected a connection error, got {other:?}"),
        }
    });
}

#[test]
fn token_error_sent_with_status_200_is_an_error() {
    run_test(async {
        let h = github(Keys::Es256);
        h.fake.set_fault(Fault::TokenErrorWith200);
        assert_eq!(h.sign_in().await.code, 403);
        match h.last() {
            Err(AuthError::TokenEndpoint { error, status, .. }) => {
                assert_eq!((error.as_str(), status), ("bad_verification_code", 200));
            }
            other => panic!("expected a token endpoint error, got {other:?}"),
        }
    });
}

#[test]
fn slow_discovery_times_out() {
    run_test(async {
        let (_listener, silent) = silent_provider();
        let started = Instant::now();
        let outcome = OAuth2Provider::new("idp", "", "", CLIENT_ID, CLIENT_SECRET)
            .request_timeout(Duration::from_millis(200))
            .discover(&silent)
            .await;
        assert!(
            matches!(
                outcome,
                Err(AuthError::Timeout {
                    endpoint: "discovery",
                    ..
                })
            ),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn sign_in_without_a_cookie_secret_is_a_server_error() {
    run_test(async {
        let fake = fake(Keys::Es256);
        let fake_server = typhoon_testing::AsyncHTTPTestServer::new(fake.application());
        let provider = fake.configure(
            OAuth2Provider::github(CLIENT_ID, CLIENT_SECRET),
            &fake_server.get_url(""),
        );
        let outcomes = crate::util::Outcomes::default();
        let app = typhoon_testing::AsyncHTTPTestServer::new(crate::util::client_app_with(
            provider,
            &outcomes,
            typhoon_web::Settings::default(),
        ));
        // The flow's secrets cannot be kept unsigned: no redirect, a 500.
        let response = app.fetch("/login").await.expect("a response");
        assert_eq!(response.code, 500);
        assert!(response.headers.get("Location").is_none());
    });
}
