//! Extractors for page handlers: the view context, and the signed-in shopper or admin.
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};

use super::csrf::CsrfToken;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::http::views::{Ctx, Htmx, Viewer};
use crate::services::Services;

pub fn htmx(req: &HttpRequest) -> Htmx {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    Htmx {
        request: header("HX-Request") == Some("true"),
        target: header("HX-Target").map(str::to_owned),
        history_restore: header("HX-History-Restore-Request") == Some("true"),
    }
}

/// The navigation counts of a whole page for a signed-in user, read by the page middleware
/// before the handler (on the blocking pool), so building a context, an error page's too,
/// never touches the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct NavCounts {
    cart: u32,
    unread: u64,
    last_event_id: u64,
}

/// Reads the `NavCounts` of this request into its extensions, unless nothing will show them.
pub async fn load_nav_counts(req: &HttpRequest, services: &Services) {
    let user = req.extensions().get::<CurrentUser>().map(|u| u.user.id);
    let Some(id) = user.filter(|_| !htmx(req).partial()) else {
        return;
    };
    let (cart, unread, last_event_id) = futures_util::future::join3(
        services.cart.view(id),
        services.notifications.unread_count(id),
        services.notifications.last_event_id(),
    )
    .await;
    req.extensions_mut().insert(NavCounts {
        cart: cart.map(|c| c.quantity()).unwrap_or(0),
        unread: unread.unwrap_or(0),
        last_event_id: last_event_id.map(|e| e.get()).unwrap_or(0),
    });
}

/// The context of a page: viewer, CSRF token, and (for whole pages) the navigation counts.
pub fn build(req: &HttpRequest) -> Ctx {
    let user = req.extensions().get::<CurrentUser>().cloned();
    let csrf = req
        .extensions()
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    let htmx = htmx(req);
    let mut ctx = Ctx {
        user: user.as_ref().map(|u| Viewer {
            name: u.user.name.clone(),
            email: u.user.email.as_str().to_owned(),
            is_admin: u.user.is_admin,
        }),
        csrf,
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into()),
        htmx,
        ..Ctx::default()
    };
    if let Some(counts) = req.extensions().get::<NavCounts>() {
        ctx.cart_count = counts.cart;
        ctx.unread = counts.unread;
        ctx.last_event_id = counts.last_event_id;
    }
    ctx
}

/// Any visitor.
pub struct Page(pub Ctx);

/// A signed-in user; visitors are sent to the login page.
pub struct Shopper {
    pub user: CurrentUser,
    pub ctx: Ctx,
}

/// A signed-in admin: visitors go to the login page, other users get 403.
pub struct AdminPage {
    pub user: CurrentUser,
    pub ctx: Ctx,
}

fn signed_in(req: &HttpRequest) -> Result<CurrentUser, AppError> {
    req.extensions()
        .get::<CurrentUser>()
        .cloned()
        .ok_or_else(|| AppError::Unauthorized("please log in".into()))
}

impl FromRequest for Page {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Page(build(req))))
    }
}

impl FromRequest for Shopper {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(req).map(|user| Shopper {
            user,
            ctx: build(req),
        }))
    }
}

impl FromRequest for AdminPage {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(req).and_then(|user| {
            if user.user.is_admin {
                Ok(AdminPage {
                    user,
                    ctx: build(req),
                })
            } else {
                Err(AppError::Forbidden)
            }
        }))
    }
}
