//! Cookie sessions: the access and refresh tokens in HttpOnly, SameSite=Lax cookies. When the
//! access cookie is missing or expired, the refresh token is rotated transparently.
use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::dev::ServiceRequest;
use actix_web::{HttpMessage, HttpResponse};

use crate::http::user_extract::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::services::accounts::TokenPair;
use crate::services::Services;

/// What the response must do with the session cookies.
pub enum CookieAction {
    Keep,
    Set(TokenPair),
    Clear,
}

/// Finds the signed-in user (inserting `CurrentUser` into the request) and says what to do
/// with the cookies.
pub async fn resolve(req: &ServiceRequest, services: &Services) -> CookieAction {
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
    // Within the grace window after a rotation, the page's other requests (on any instance)
    // get the same successor: see `Accounts::refresh_session`.
    let user = match services.accounts.refresh_session(refresh.value()).await {
        Ok((_, pair)) => services
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
