//! OpenID Connect ID tokens: compact JWS parsing, RS256 and ES256 signatures checked with ring
//! against the provider's JWKS, and the claim checks of OpenID Connect Core §3.1.3.7 (issuer,
//! audience, authorized party, expiry, nonce).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{AuthError, Result};

/// One key of a JSON Web Key Set (RFC 7517), as providers publish them at their `jwks_uri`.
///
/// Only the members this crate reads are kept: RSA keys (`n`, `e`) and P-256 keys (`crv`,
/// `x`, `y`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA` or `EC`.
    pub kty: String,
    /// Key id, which a token's header names in its `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm the key is for (`RS256`, `ES256`), when the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig` for signing keys; `enc` keys are never used to verify.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// RSA modulus, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve: `P-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC point x coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC point y coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A JSON Web Key Set: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// The algorithms accepted: RS256 (what Google, Microsoft and most providers sign with) and
/// ES256. `none` and the HMAC algorithms (whose key would be the client secret) never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    fn parse(alg: &str) -> Result<Self> {
        match alg {
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            other => Err(AuthError::UnsupportedAlgorithm {
                alg: other.to_owned(),
            }),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    fn kty(self) -> &'static str {
        match self {
            Self::Rs256 => "RSA",
            Self::Es256 => "EC",
        }
    }
}

/// The claims of a verified ID token (OpenID Connect Core §2), the standard profile claims
/// apart, every claim in [`raw`](Self::raw).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// `iss`: the issuer, checked against the provider's.
    pub iss: String,
    /// `sub`: the user's stable id at this provider.
    pub sub: String,
    /// `aud`: the audiences (this client's id among them).
    pub aud: Vec<String>,
    /// `exp`: expiry, Unix seconds.
    pub exp: u64,
    /// `iat`: issue time, Unix seconds.
    pub iat: u64,
    /// `nonce`, checked against the sign-in's.
    pub nonce: Option<String>,
    /// `email`, if the scope asked for it.
    pub email: Option<String>,
    /// `email_verified`.
    pub email_verified: Option<bool>,
    /// `name`.
    pub name: Option<String>,
    /// `picture`: a URL.
    pub picture: Option<String>,
    /// All the claims, as sent.
    pub raw: Map<String, Value>,
}

/// What an ID token is checked against.
#[derive(Debug, Clone)]
pub(crate) struct Expected<'a> {
    /// The provider's issuer; `{tenantid}` in it (Microsoft's multi-tenant issuers) stands for
    /// the token's `tid` claim.
    pub(crate) issuer: &'a str,
    /// This client's id.
    pub(crate) client_id: &'a str,
    /// The sign-in's nonce.
    pub(crate) nonce: Option<&'a str>,
    /// Now, Unix seconds.
    pub(crate) now: u64,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    pub(crate) leeway: u64,
}

fn b64(part: &str, reason: &'static str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::MalformedIdToken { reason })
}

fn json_object(bytes: &[u8], reason: &'static str) -> Result<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AuthError::MalformedIdToken { reason }),
    }
}

/// A token's header and the JWKS key it names.
#[derive(Debug)]
pub(crate) struct Parsed<'t> {
    alg: Alg,
    /// The header's `kid`.
    pub(crate) kid: Option<String>,
    /// `header.payload`, what the signature covers.
    signing_input: &'t str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// Splits and decodes a compact JWS, rejecting any algorithm but RS256 and ES256 before a key is
/// looked at.
///
/// # Errors
///
/// [`AuthError::MalformedIdToken`], [`AuthError::UnsupportedAlgorithm`].
pub(crate) fn parse(token: &str) -> Result<Parsed<'_>> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::MalformedIdToken {
            reason: "not three dot-separated parts",
        });
    };
    let header_json = json_object(&b64(header, "header is not base64url")?, "header")?;
    let alg =
        header_json
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(AuthError::MalformedIdToken {
                reason: "header has no alg",
            })?;
    let alg = Alg::parse(alg)?;
    if header_json.contains_key("crit") {
        return Err(AuthError::MalformedIdToken {
            reason: "header has critical extensions",
        });
    }
    Ok(Parsed {
        alg,
        kid: header_json
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_owned),
        signing_input: &token[..header.len() + 1 + payload.len()],
        payload: b64(payload, "payload is not base64url")?,
        signature: b64(signature, "signature is not base64url")?,
    })
}

/// The key of `jwks` that `parsed` names: same `kid` (or, for a token without `kid`, the only
/// key of the right type), a key type that fits the algorithm, not an encryption key.
fn find_key<'k>(jwks: &'k Jwks, parsed: &Parsed<'_>) -> Option<&'k Jwk> {
    let fits = |key: &&Jwk| {
        key.kty == parsed.alg.kty()
            && key.use_.as_deref().is_none_or(|u| u == "sig")
            && key.alg.as_deref().is_none_or(|a| a == parsed.alg.name())
    };
    match &parsed.kid {
        Some(kid) => jwks
            .keys
            .iter()
            .filter(fits)
            .find(|key| key.kid.as_deref() == Some(kid)),
        None => {
            let mut candidates = jwks.keys.iter().filter(fits);
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
}

/// Whether `jwks` has a key for `parsed` (else the caller fetches the JWKS again: the provider
/// may have rotated its keys).
pub(crate) fn has_key(jwks: &Jwks, parsed: &Parsed<'_>) -> bool {
    find_key(jwks, parsed).is_some()
}

fn member(value: Option<&String>) -> Result<Vec<u8>> {
    let value = value.ok_or(AuthError::MalformedIdToken {
        reason: "JWKS key lacks a member",
    })?;
    b64(value, "JWKS key member is not base64url")
}

fn verify_signature(key: &Jwk, parsed: &Parsed<'_>) -> Result<()> {
    let message = parsed.signing_input.as_bytes();
    let verified = match parsed.alg {
        Alg::Rs256 => {
            let components = RsaPublicKeyComponents {
                n: member(key.n.as_ref())?,
                e: member(key.e.as_ref())?,
            };
            components.verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                message,
                &parsed.signature,
            )
        }
        Alg::Es256 => {
            if key.crv.as_deref() != Some("P-256") {
                return Err(AuthError::UnknownKey {
                    kid: parsed.kid.clone(),
                });
            }
            let (x, y) = (member(key.x.as_ref())?, member(key.y.as_ref())?);
            if x.len() != 32 || y.len() != 32 {
                return Err(AuthError::BadSignature);
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, &parsed.signature)
        }
    };
    verified.map_err(|_| AuthError::BadSignature)
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or(AuthError::MalformedIdToken {
                reason: "a time claim is not a number",
            }),
    }
}

/// Verifies `parsed`'s signature with its key in `jwks`, then its claims against `expected`.
///
/// # Errors
///
/// [`AuthError::UnknownKey`], [`AuthError::BadSignature`], then the claim errors
/// ([`AuthError::WrongIssuer`], [`AuthError::WrongAudience`], [`AuthError::IdTokenExpired`],
/// [`AuthError::IdTokenNotYetValid`], [`AuthError::NonceMismatch`]).
pub(crate) fn verify(
    parsed: &Parsed<'_>,
    jwks: &Jwks,
    expected: &Expected<'_>,
) -> Result<IdTokenClaims> {
    let key = find_key(jwks, parsed).ok_or_else(|| AuthError::UnknownKey {
        kid: parsed.kid.clone(),
    })?;
    verify_signature(key, parsed)?;
    let claims = json_object(&parsed.payload, "claims are not a JSON object")?;
    check_claims(claims, expected)
}

fn check_claims(claims: Map<String, Value>, expected: &Expected<'_>) -> Result<IdTokenClaims> {
    let iss = string_claim(&claims, "iss").unwrap_or_default();
    let expected_issuer = match string_claim(&claims, "tid") {
        Some(tid) if expected.issuer.contains("{tenantid}") => {
            expected.issuer.replace("{tenantid}", &tid)
        }
        _ => expected.issuer.to_owned(),
    };
    if iss != expected_issuer {
        return Err(AuthError::WrongIssuer {
            expected: expected_issuer,
            found: iss,
        });
    }
    let aud: Vec<String> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if !aud.iter().any(|a| a == expected.client_id) {
        return Err(AuthError::WrongAudience);
    }
    // §3.1.3.7 items 4 and 5: with several audiences, `azp` must be this client.
    let azp = string_claim(&claims, "azp");
    if (aud.len() > 1 || azp.is_some()) && azp.as_deref() != Some(expected.client_id) {
        return Err(AuthError::WrongAudience);
    }
    let exp = time_claim(&claims, "exp")?.ok_or(AuthError::MalformedIdToken {
        reason: "no exp claim",
    })?;
    if exp.saturating_add(expected.leeway) <= expected.now {
        return Err(AuthError::IdTokenExpired {
            exp,
            now: expected.now,
        });
    }
    let iat = time_claim(&claims, "iat")?.ok_or(AuthError::MalformedIdToken {
        reason: "no iat claim",
    })?;
    let nbf = time_claim(&claims, "nbf")?.unwrap_or(0);
    if iat.max(nbf) > expected.now.saturating_add(expected.leeway) {
        return Err(AuthError::IdTokenNotYetValid);
    }
    let nonce = string_claim(&claims, "nonce");
    if let Some(want) = expected.nonce {
        let matches = nonce
            .as_deref()
            .is_some_and(|got| crate::flow::constant_time_eq(got.as_bytes(), want.as_bytes()));
        if !matches {
            return Err(AuthError::NonceMismatch);
        }
    }
    let sub = string_claim(&claims, "sub")
        .filter(|s| !s.is_empty())
        .ok_or(AuthError::MalformedIdToken {
            reason: "no sub claim",
        })?;
    Ok(IdTokenClaims {
        iss,
        sub,
        aud,
        exp,
        iat,
        nonce,
        email: string_claim(&claims, "email"),
        email_verified: claims.get("email_verified").and_then(|v| match v {
            Value::Bool(b) => Some(*b),
            // Some providers (older Microsoft and AWS) send the string.
            Value::String(s) => s.parse().ok(),
            _ => None,
        }),
        name: string_claim(&claims, "name"),
        picture: string_claim(&claims, "picture"),
        raw: claims,
    })
}

#[cfg(all(test, feature = "fake-provider"))]
mod tests;
