//! The HTML pages: thin handlers that parse a form or query, call the same services as the
//! JSON API, and render a view. One middleware (`middleware::pages`) resolves the cookie
//! session (rotating the refresh token when the access token expired), checks CSRF on every
//! state-changing request, and turns errors into HTML pages or htmx fragments.
pub mod account;
pub mod admin;
pub mod cart;
pub mod catalog;
pub mod csrf;
pub mod ctx;
pub mod errors;
pub mod middleware;
pub mod notifications;
pub mod orders;
pub mod session;
pub mod sign_in;

use actix_web::http::{header, StatusCode};
use actix_web::middleware::from_fn;
use actix_web::{web, HttpResponse};
use maud::Markup;

use crate::error::AppError;
use crate::http::assets;
use crate::http::extract::MAX_BODY_BYTES;

/// Whether session cookies carry `Secure` (settings.cookie_secure); registered as app data.
#[derive(Debug, Clone, Copy, Default)]
pub struct CookiePolicy {
    pub secure: bool,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{path:.*}", web::get().to(assets::serve))
        .service(
            web::scope("")
                .wrap(from_fn(middleware::pages))
                .app_data(web::FormConfig::default().limit(MAX_BODY_BYTES))
                .route("/", web::get().to(catalog::index))
                .route("/products/{id}", web::get().to(catalog::product))
                .route("/cart", web::get().to(cart::show))
                .route("/cart/guest", web::get().to(cart::guest_lines))
                .route("/cart/items", web::post().to(cart::add))
                .route("/cart/items/{id}", web::post().to(cart::set))
                .route("/cart/items/{id}/remove", web::post().to(cart::remove))
                .route("/cart/checkout", web::post().to(cart::checkout))
                .route("/orders", web::get().to(orders::list))
                .route("/orders/{id}", web::get().to(orders::detail))
                .route("/orders/{id}/cancel", web::post().to(orders::cancel))
                .route("/notifications", web::get().to(notifications::list))
                .route("/notifications/badge", web::get().to(notifications::badge))
                .route(
                    "/notifications/read-all",
                    web::post().to(notifications::read_all),
                )
                .route(
                    "/notifications/{id}/read",
                    web::post().to(notifications::read),
                )
                .route("/login", web::get().to(sign_in::login_form))
                .route("/login", web::post().to(sign_in::login))
                .route("/register", web::get().to(sign_in::register_form))
                .route("/register", web::post().to(sign_in::register))
                .route("/logout", web::post().to(sign_in::logout))
                .route("/account", web::get().to(account::show))
                .route("/account", web::post().to(account::update_profile))
                .route(
                    "/account/emails",
                    web::post().to(account::update_order_emails),
                )
                .route(
                    "/account/password",
                    web::post().to(account::change_password),
                )
                .route("/account/session", web::get().to(account::session))
                .configure(admin::configure)
                .default_service(web::to(not_found)),
        );
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

pub fn html(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// After a successful form post: 303 to `location`, or for htmx a client-side redirect.
pub fn redirect(htmx: bool, location: &str) -> HttpResponse {
    if htmx {
        HttpResponse::Ok()
            .insert_header(("HX-Redirect", location))
            .finish()
    } else {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .finish()
    }
}

/// A `next` target is honoured only when it is a path on this site: "/x", never "//host",
/// "/\host", a scheme or control characters.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_paths_are_followed() {
        assert_eq!(
            safe_next(Some("/orders/3?x=1")).as_deref(),
            Some("/orders/3?x=1")
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "orders",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }
}
