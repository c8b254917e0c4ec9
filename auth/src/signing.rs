//! [`SigningKey`]: ID tokens signed the way providers sign them, for the
//! [`FakeProvider`](crate::fake::FakeProvider) and the tests.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::Value;

use crate::error::{AuthError, Result};
use crate::jwt::Jwk;

/// The key pair behind a [`SigningKey`].
enum Pair {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

/// A private key that signs JWTs (RS256 or ES256) and publishes its public half as a [`Jwk`].
pub struct SigningKey {
    /// The key pair.
    pair: Pair,
    /// The `kid` of the tokens it signs and of its JWK.
    kid: String,
    /// ring's generator, for ECDSA nonces and RSA blinding.
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn rejected(what: &str) -> AuthError {
    AuthError::Config {
        reason: format!("signing key: {what}"),
    }
}

impl SigningKey {
    /// A new P-256 key (ES256), made from the OS generator.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] if ring cannot make or load the key.
    pub fn generate_es256(kid: impl Into<String>) -> Result<Self> {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|_| rejected("generate"))?;
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng)
            .map_err(|_| rejected("load the generated key"))?;
        Ok(Self {
            pair: Pair::Es256(pair),
            kid: kid.into(),
            rng,
        })
    }

    /// An RSA key (RS256) from its PKCS#8 DER (`openssl genpkey -algorithm RSA -outform DER`).
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] for bytes ring does not take as an RSA key of 2048 bits or more.
    pub fn rs256_from_pkcs8(kid: impl Into<String>, der: &[u8]) -> Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|e| rejected(&format!("not an RSA PKCS#8 key ({e})")))?;
        Ok(Self {
            pair: Pair::Rs256(pair),
            kid: kid.into(),
            rng: SystemRandom::new(),
        })
    }

    /// `RS256` or `ES256`.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Es256(_) => "ES256",
            Pair::Rs256(_) => "RS256",
        }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, for a JWKS.
    pub fn jwk(&self) -> Jwk {
        let b64 = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
        let base = Jwk {
            kid: Some(self.kid.clone()),
            alg: Some(self.alg().to_owned()),
            use_: Some("sig".to_owned()),
            ..Jwk::default()
        };
        match &self.pair {
            Pair::Es256(pair) => {
                // The uncompressed point: 0x04, x, y.
                let point = pair.public_key().as_ref();
                Jwk {
                    kty: "EC".to_owned(),
                    crv: Some("P-256".to_owned()),
                    x: point.get(1..33).and_then(b64),
                    y: point.get(33..65).and_then(b64),
                    ..base
                }
            }
            Pair::Rs256(pair) => {
                let components = PublicKeyComponents::<Vec<u8>>::from(pair.public());
                Jwk {
                    kty: "RSA".to_owned(),
                    n: b64(&components.n),
                    e: b64(&components.e),
                    ..base
                }
            }
        }
    }

    /// Signs `claims` as a compact JWS with header `{"alg", "kid", "typ": "JWT"}`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] if ring fails to sign.
    pub fn sign(&self, claims: &Value) -> Result<String> {
        let header = serde_json::json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"});
        self.sign_with_header(&header, claims)
    }

    /// Signs `claims` under any `header` (tests forge `alg` this way).
    ///
    /// # Errors
    ///
    /// As [`sign`](Self::sign).
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> Result<String> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &self.pair {
            Pair::Es256(pair) => pair
                .sign(&self.rng, input.as_bytes())
                .map_err(|_| rejected("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
            Pair::Rs256(pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    input.as_bytes(),
                    &mut out,
                )
                .map_err(|_| rejected("RSA signing failed"))?;
                out
            }
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
