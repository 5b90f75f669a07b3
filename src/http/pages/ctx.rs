//! Extractors for page handlers: the view context, and the signed-in shopper or admin.
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
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
    let services = req.app_data::<web::Data<Services>>();
    if let (Some(user), Some(services)) = (user, services) {
        if !ctx.htmx.partial() {
            let id = user.user.id;
            ctx.cart_count = services.cart.view(id).map(|c| c.quantity()).unwrap_or(0);
            ctx.unread = services.notifications.unread_count(id).unwrap_or(0);
            ctx.last_event_id = services
                .notifications
                .last_event_id()
                .map(|e| e.get())
                .unwrap_or(0);
        }
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
