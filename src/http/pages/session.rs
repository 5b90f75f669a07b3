//! Cookie sessions: the access and refresh tokens in HttpOnly, SameSite=Lax cookies. When the
//! access cookie is missing or expired, the refresh token is rotated transparently.
use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::dev::ServiceRequest;
use actix_web::{HttpMessage, HttpResponse};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::auth::TokenIssuer;
use crate::error::AppError;
use crate::http::user_extract::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::services::accounts::TokenPair;
use crate::services::Services;

/// What the response must do with the session cookies.
pub enum CookieAction {
    Keep,
    Set(TokenPair),
    Clear,
}

/// How long a just-rotated refresh token still yields its successor. A page, its htmx
/// requests and the live connection often present the same expired session at once; without
/// this, the second would look like a stolen token and end the session.
const GRACE: Duration = Duration::from_secs(30);

type Rotations = HashMap<[u8; 32], (Instant, TokenPair)>;

/// The recent rotations of one server (app data shared by its workers; not process-wide,
/// so servers in one process do not see each other's sessions).
/// The lock is async: it is held while the store rotates, and a worker thread must not block
/// on it.
#[derive(Default)]
pub struct RotationGrace {
    recent: tokio::sync::Mutex<Rotations>,
}

/// Finds the signed-in user (inserting `CurrentUser` into the request) and says what to do
/// with the cookies.
pub async fn resolve(
    req: &ServiceRequest,
    services: &Services,
    grace: &RotationGrace,
) -> CookieAction {
    let access = req.cookie(ACCESS_COOKIE);
    if let Some(token) = &access {
        if let Ok(user) = services.accounts.authenticate(token.value()).await {
            req.extensions_mut().insert(user);
            return CookieAction::Keep;
        }
    }
    let Some(refresh) = req.cookie(REFRESH_COOKIE) else {
        return match access {
            Some(_) => CookieAction::Clear,
            None => CookieAction::Keep,
        };
    };
    let user = match grace.rotate(services, refresh.value()).await {
        Ok(pair) => services
            .accounts
            .authenticate(&pair.access)
            .await
            .map(|user| (user, pair)),
        Err(e) => Err(e),
    };
    match user {
        Ok((user, pair)) => {
            req.extensions_mut().insert(user);
            CookieAction::Set(pair)
        }
        Err(_) => CookieAction::Clear,
    }
}

impl RotationGrace {
    /// Spends `refresh` once; within the grace period the same (newest) successor is
    /// returned, as long as it is still good: a family revoked meanwhile (reuse detected,
    /// logout) must not live on through this memory.
    async fn rotate(&self, services: &Services, refresh: &str) -> Result<TokenPair, AppError> {
        // One lock around check-and-rotate, so two racing requests cannot both spend the token.
        let mut recent = self.recent.lock().await;
        recent.retain(|_, (at, _)| at.elapsed() < GRACE);
        let first = TokenIssuer::hash_refresh(refresh);
        let mut key = first;
        let mut found = None;
        while let Some((_, pair)) = recent.get(&key) {
            key = TokenIssuer::hash_refresh(&pair.refresh);
            found = Some(pair.clone());
        }
        if let Some(pair) = found {
            if services.accounts.refresh_alive(&pair.refresh).await? {
                return Ok(pair);
            }
            recent.remove(&first);
            return Err(AppError::Unauthorized(
                "the session was revoked; sign in again".into(),
            ));
        }
        let (_, pair) = services.accounts.refresh(refresh).await?;
        recent.insert(key, (Instant::now(), pair.clone()));
        Ok(pair)
    }
}

fn cookie(name: &'static str, value: String, max_age: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieAge::seconds(max_age))
        .finish()
}

/// Both session cookies: the access cookie lives as long as its token, the refresh cookie
/// as long as the refresh token.
pub fn set_cookies(res: &mut HttpResponse, services: &Services, pair: &TokenPair, secure: bool) {
    let tokens = services.accounts.tokens();
    let cookies = [
        cookie(
            ACCESS_COOKIE,
            pair.access.clone(),
            tokens.access_ttl_seconds,
            secure,
        ),
        cookie(
            REFRESH_COOKIE,
            pair.refresh.clone(),
            tokens.refresh_ttl_seconds,
            secure,
        ),
    ];
    for c in cookies {
        let _ = res.add_cookie(&c);
    }
}

pub fn clear_cookies(res: &mut HttpResponse, secure: bool) {
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        let _ = res.add_cookie(&cookie(name, String::new(), 0, secure));
    }
}

/// Whether the handler already decided about the session cookies (log in, log out).
pub fn handler_set_cookies(res: &HttpResponse) -> bool {
    res.cookies()
        .any(|c| c.name() == ACCESS_COOKIE || c.name() == REFRESH_COOKIE)
}
