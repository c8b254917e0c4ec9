//! ID-token verification against keys ring made or loaded, signed by [`SigningKey`].

use serde_json::json;

use super::*;
use crate::signing::SigningKey;

const RSA_KEY: &[u8] = include_bytes!("../../tests/fixtures/rsa_test_key.pk8");
const NOW: u64 = 1_800_000_000;

fn expected(nonce: Option<&str>) -> Expected<'_> {
    Expected {
        issuer: "https://idp.test",
        client_id: "client-1",
        nonce,
        now: NOW,
        leeway: 60,
    }
}

fn claims() -> Value {
    json!({
        "iss": "https://idp.test", "aud": "client-1", "sub": "user-1",
        "iat": NOW - 10, "exp": NOW + 600, "nonce": "n1",
        "email": "u@idp.test", "email_verified": true, "name": "U",
    })
}

fn check(key: &SigningKey, jwks: &Jwks, token: &str, nonce: Option<&str>) -> Result<IdTokenClaims> {
    let _ = key;
    verify(&parse(token)?, jwks, &expected(nonce))
}

fn jwks_of(key: &SigningKey) -> Jwks {
    Jwks {
        keys: vec![key.jwk()],
    }
}

#[test]
fn es256_token_verifies_with_its_jwk() {
    let key = SigningKey::generate_es256("k1").expect("key");
    let token = key.sign(&claims()).expect("sign");
    let got = check(&key, &jwks_of(&key), &token, Some("n1")).expect("valid");
    assert_eq!(got.sub, "user-1");
    assert_eq!(got.aud, vec!["client-1".to_owned()]);
    assert_eq!(got.email_verified, Some(true));
    assert_eq!(got.email.as_deref(), Some("u@idp.test"));
}

#[test]
fn rs256_token_verifies_with_its_jwk() {
    let key = SigningKey::rs256_from_pkcs8("r1", RSA_KEY).expect("key");
    assert_eq!(key.jwk().kty, "RSA");
    let token = key.sign(&claims()).expect("sign");
    let got = check(&key, &jwks_of(&key), &token, Some("n1")).expect("valid");
    assert_eq!(got.sub, "user-1");
}

#[test]
fn signature_by_another_key_is_rejected() {
    let key = SigningKey::generate_es256("k1").expect("key");
    let other = SigningKey::generate_es256("k1").expect("key");
    let token = other.sign(&claims()).expect("sign");
    assert!(matches!(
        check(&key, &jwks_of(&key), &token, Some("n1")),
        Err(AuthError::BadSignature)
    ));
    // A flipped claim under the right key's signature.
    let good = key.sign(&claims()).expect("sign");
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(claims().to_string().replace("user-1", "admin"));
    parts[1] = &forged;
    assert!(matches!(
        check(&key, &jwks_of(&key), &parts.join("."), Some("n1")),
        Err(AuthError::BadSignature)
    ));
}

#[test]
fn alg_none_and_hmac_are_refused_before_any_key() {
    let key = SigningKey::generate_es256("k1").expect("key");
    for alg in ["none", "HS256", "RS512"] {
        let token = key
            .sign_with_header(&json!({"alg": alg, "kid": "k1"}), &claims())
            .expect("sign");
        assert!(
            matches!(
                check(&key, &jwks_of(&key), &token, Some("n1")),
                Err(AuthError::UnsupportedAlgorithm { .. })
            ),
            "{alg}"
        );
    }
}

#[test]
fn unknown_kid_and_wrong_key_type_find_no_key() {
    let key = SigningKey::generate_es256("k1").expect("key");
    let token = key
        .sign_with_header(&json!({"alg": "ES256", "kid": "k2"}), &claims())
        .expect("sign");
    assert!(matches!(
        check(&key, &jwks_of(&key), &token, Some("n1")),
        Err(AuthError::UnknownKey { kid: Some(k) }) if k == "k2"
    ));
    let rsa = SigningKey::rs256_from_pkcs8("k1", RSA_KEY).expect("key");
    let token = rsa.sign(&claims()).expect("sign");
    assert!(matches!(
        check(&key, &jwks_of(&key), &token, Some("n1")),
        Err(AuthError::UnknownKey { .. })
    ));
}

#[test]
fn token_without_kid_uses_the_only_key_of_its_type() {
    let key = SigningKey::generate_es256("k1").expect("key");
    let token = key
        .sign_with_header(&json!({"alg": "ES256"}), &claims())
        .expect("sign");
    assert!(check(&key, &jwks_of(&key), &token, Some("n1")).is_ok());
    let two = Jwks {
        keys: vec![
            key.jwk(),
            SigningKey::generate_es256("k2").expect("key").jwk(),
        ],
    };
    assert!(matches!(
        check(&key, &two, &token, Some("n1")),
        Err(AuthError::UnknownKey { kid: None })
    ));
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

#[test]
fn claim_checks() {
    let key = SigningKey::generate_es256("k1").expect("key");
    let jwks = jwks_of(&key);
    let run = |claims: Value, nonce: Option<&str>| {
        let token = key.sign(&claims).expect("sign");
        check(&key, &jwks, &token, nonce)
    };
    assert!(matches!(
        run(with(claims(), "exp", json!(NOW - 61)), Some("n1")),
        Err(AuthError::IdTokenExpired { .. })
    ));
    // Within the leeway.
    assert!(run(with(claims(), "exp", json!(NOW - 30)), Some("n1")).is_ok());
    assert!(matches!(
        run(with(claims(), "iat", json!(NOW + 3600)), Some("n1")),
        Err(AuthError::IdTokenNotYetValid)
    ));
    assert!(matches!(
        run(with(claims(), "nbf", json!(NOW + 3600)), Some("n1")),
        Err(AuthError::IdTokenNotYetValid)
    ));
    assert!(matches!(
        run(
            with(claims(), "iss", json!("https://evil.test")),
            Some("n1")
        ),
        Err(AuthError::WrongIssuer { .. })
    ));
    assert!(matches!(
        run(with(claims(), "aud", json!("client-2")), Some("n1")),
        Err(AuthError::WrongAudience)
    ));
    // Several audiences need azp = this client.
    let many = with(claims(), "aud", json!(["client-1", "client-2"]));
    assert!(matches!(
        run(many.clone(), Some("n1")),
        Err(AuthError::WrongAudience)
    ));
    assert!(run(with(many, "azp", json!("client-1")), Some("n1")).is_ok());
    assert!(matches!(
        run(claims(), Some("n2")),
        Err(AuthError::NonceMismatch)
    ));
    let mut no_nonce = claims();
    no_nonce.as_object_mut().map(|m| m.remove("nonce"));
    assert!(matches!(
        run(no_nonce, Some("n1")),
        Err(AuthError::NonceMismatch)
    ));
    let mut no_exp = claims();
    no_exp.as_object_mut().map(|m| m.remove("exp"));
    assert!(matches!(
        run(no_exp, Some("n1")),
        Err(AuthError::MalformedIdToken { .. })
    ));
}

#[test]
fn microsoft_multi_tenant_issuer_uses_tid() {
    let key = SigningKey::generate_es256("k1").expect("key");
    let jwks = jwks_of(&key);
    let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    let mut claims = claims();
    claims["tid"] = json!("t-42");
    claims["iss"] = json!("https://login.microsoftonline.com/t-42/v2.0");
    let token = key.sign(&claims).expect("sign");
    let expected = Expected {
        issuer: template,
        ..expected(Some("n1"))
    };
    assert!(verify(&parse(&token).expect("parse"), &jwks, &expected).is_ok());
    claims["tid"] = json!("t-43");
    let token = key.sign(&claims).expect("sign");
    assert!(matches!(
        verify(&parse(&token).expect("parse"), &jwks, &expected),
        Err(AuthError::WrongIssuer { .. })
    ));
}

#[test]
fn malformed_tokens() {
    for token in ["", "a.b", "a.b.c.d", "!!.e30.", "e30.e30.sig"] {
        assert!(
            matches!(
                parse(token),
                Err(AuthError::MalformedIdToken { .. } | AuthError::UnsupportedAlgorithm { .. })
            ),
            "{token:?}"
        );
    }
}
