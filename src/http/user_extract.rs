//! Request extractors: `CurrentUser` (401 without a valid token), `Admin` (403 for
//! non-admins), `MaybeUser` (pages that also serve visitors). They live in http because they
//! ask the accounts service; the user type itself is auth's.
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use std::future::ready;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::Services;

/// The cookie pages use to carry the access token.
pub const ACCESS_COOKIE: &str = "os_access";
pub const REFRESH_COOKIE: &str = "os_refresh";

#[derive(Debug, Clone)]
pub struct Admin(pub CurrentUser);

#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

/// The bearer token of a request: header first, then the session cookie.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(value) = header {
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    req.cookie(ACCESS_COOKIE).map(|c| c.value().to_owned())
}

/// Resolves the request's user. The token is read now; the store lookups run on the blocking
/// pool (see `Accounts::authenticate`), so the extractors are futures.
fn authenticate(req: &HttpRequest) -> LocalBoxFuture<'static, Result<CurrentUser, AppError>> {
    // A page middleware may already have resolved (and refreshed) the session.
    if let Some(user) = req.extensions().get::<CurrentUser>() {
        return Box::pin(ready(Ok(user.clone())));
    }
    let services = req.app_data::<web::Data<Services>>().cloned();
    let token = bearer_token(req);
    Box::pin(async move {
        let services = services.ok_or_else(|| AppError::internal("services missing"))?;
        let token = token.ok_or_else(|| {
            AppError::Unauthorized("authentication credentials were not provided".into())
        })?;
        services.accounts.authenticate(&token).await
    })
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        authenticate(req)
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(req);
        Box::pin(async move {
            let user = user.await?;
            if user.user.is_admin {
                Ok(Admin(user))
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(req);
        Box::pin(async move { Ok(MaybeUser(user.await.ok())) })
    }
}
