//! Access tokens are short-lived JWTs; refresh tokens are opaque random values stored as hashes.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::clock::Clock;
use crate::domain::ids::UserId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The user's token version when minted; a password change makes older ones invalid.
    pub ver: u32,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub token_type: String,
}

impl AccessClaims {
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok()
    }
}

#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl_seconds: i64,
    pub refresh_ttl_seconds: i64,
    /// Issue and expiry are read on the application's clock, not jsonwebtoken's.
    clock: Clock,
    /// Keys the derivation of a refresh token's successor (see `successor`).
    successor_key: [u8; 32],
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

impl TokenIssuer {
    pub fn new(
        secret: &[u8],
        access_ttl_seconds: i64,
        refresh_ttl_seconds: i64,
        clock: Clock,
    ) -> TokenIssuer {
        TokenIssuer {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl_seconds,
            refresh_ttl_seconds,
            clock,
            // Its own key, derived from the secret: a successor is not a signature of anything.
            successor_key: Sha256::new()
                .chain_update(b"orderstream refresh successor\0")
                .chain_update(secret)
                .finalize()
                .into(),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A new secret for a fresh installation.
    pub fn generate_secret() -> String {
        random_token(48)
    }

    /// An access token issued at `now` (seconds on this issuer's clock; the caller passes
    /// it so the refresh token issued alongside expires from the same instant).
    pub fn issue_access(&self, user: UserId, token_version: u32, now: i64) -> String {
        let claims = AccessClaims {
            sub: user.to_string(),
            ver: token_version,
            jti: random_token(16),
            iat: now,
            exp: now + self.access_ttl_seconds,
            token_type: "access".into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding")
    }

    /// Checks signature, algorithm and expiry (no leeway: a token is dead when it says so).
    /// jsonwebtoken would check `exp` against the system time; the check here reads the
    /// application's clock instead, so it is the only one that decides.
    pub fn decode_access(&self, token: &str) -> Option<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        let alive = self.clock.unix_seconds() <= claims.exp;
        (alive && claims.token_type == "access").then_some(claims)
    }

    /// A new opaque refresh token and the hash under which it is stored.
    pub fn new_refresh(&self) -> (String, [u8; 32]) {
        let token = random_token(32);
        let hash = Self::hash_refresh(&token);
        (token, hash)
    }

    /// The token that replaces `refresh` when it is rotated, and its hash: derived (keyed by
    /// the server's secret), not drawn, so any instance can give the same successor again to
    /// a page that presents the old token within the grace window after its rotation
    /// (`Accounts::refresh_session`). Unpredictable without both the old token and the secret.
    pub fn successor(&self, refresh: &str) -> (String, [u8; 32]) {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.successor_key).expect("any key length");
        mac.update(refresh.as_bytes());
        let token = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let hash = Self::hash_refresh(&token);
        (token, hash)
    }

    pub fn hash_refresh(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_round_trip_and_expire() {
        let clock = Clock::system();
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef", 60, 600, clock.clone());
        let now = clock.unix_seconds();
        let token = issuer.issue_access(UserId::new(7), 3, now);
        let claims = issuer.decode_access(&token).unwrap();
        assert_eq!(claims.user_id(), Some(UserId::new(7)));
        assert_eq!(claims.ver, 3);
        let expired = issuer.issue_access(UserId::new(7), 3, now - 120);
        assert!(issuer.decode_access(&expired).is_none());
        let other = TokenIssuer::new(b"another secret another secret!!!", 60, 600, clock);
        assert!(other.decode_access(&token).is_none());
    }

    /// Expiry is decided on the issuer's clock: moving it past `exp` kills a token that the
    /// system time still considers good.
    #[test]
    fn access_tokens_expire_when_the_clock_passes_exp() {
        let clock = Clock::system();
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef", 60, 600, clock.clone());
        let token = issuer.issue_access(UserId::new(7), 0, clock.unix_seconds());
        clock.advance(std::time::Duration::from_secs(59));
        assert!(
            issuer.decode_access(&token).is_some(),
            "still within its 60 s"
        );
        clock.advance(std::time::Duration::from_secs(2));
        assert!(
            issuer.decode_access(&token).is_none(),
            "past exp on the clock"
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let issuer = TokenIssuer::new(b"k", 60, 600, Clock::system());
        let (a, hash_a) = issuer.new_refresh();
        let (b, _) = issuer.new_refresh();
        assert_ne!(a, b);
        assert_eq!(TokenIssuer::hash_refresh(&a), hash_a);
    }
}
