//! Routes: JSON API, live endpoints, pages and assets. Handlers parse, call a service, render.
pub mod api;
pub mod assets;
pub mod cached_reads;
pub mod client_address;
pub mod deadline;
pub mod extract;
pub mod live;
pub mod live_settings;
pub mod metrics;
pub mod metrics_access;
pub mod openapi;
pub mod origin;
pub mod pages;
pub mod request_id;
pub mod user_extract;
pub mod views;

use actix_web::http::StatusCode;
use actix_web::middleware::{DefaultHeaders, NormalizePath};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{AppError, Problem};
use api::{auth, backup, cart, categories, notifications, ops, orders, products, webhooks};

/// Trailing slashes are trimmed before routing, so `/api/me/` and `/api/me` are one route.
pub fn normalize_path() -> NormalizePath {
    NormalizePath::trim()
}

/// On every response (lower-case names, so the fast path can use them as static header names).
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
];

pub fn security_headers() -> DefaultHeaders {
    SECURITY_HEADERS
        .into_iter()
        .fold(DefaultHeaders::new(), |headers, pair| headers.add(pair))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/metrics", web::get().to(metrics_access::public_metrics))
        .route("/ws", web::get().to(live::websocket))
        .service(
            web::scope("/api")
                .wrap(actix_web::middleware::from_fn(api::cookie_guard::guard))
                .route("/openapi.json", web::get().to(openapi::openapi_json))
                .route("/docs", web::get().to(openapi::docs_index))
                .route("/docs/{file}", web::get().to(openapi::docs_asset))
                .route("/auth/register", web::post().to(auth::register))
                .route("/auth/token", web::post().to(auth::token))
                .route("/auth/token/refresh", web::post().to(auth::refresh))
                .route("/auth/logout", web::post().to(auth::logout))
                .route("/me", web::get().to(auth::me))
                .route("/me", web::patch().to(auth::update_me))
                .route("/me/password", web::post().to(auth::change_password))
                .route("/categories", web::get().to(categories::list))
                .route("/categories", web::post().to(categories::create))
                .route("/categories/{id}", web::get().to(categories::detail))
                .route("/categories/{id}", web::put().to(categories::put))
                .route("/categories/{id}", web::patch().to(categories::patch))
                .route("/categories/{id}", web::delete().to(categories::delete))
                .route("/products", web::get().to(products::list))
                .route("/products", web::post().to(products::create))
                .route("/products/{id}", web::get().to(products::detail))
                .route("/products/{id}", web::put().to(products::put))
                .route("/products/{id}", web::patch().to(products::patch))
                .route("/products/{id}", web::delete().to(products::delete))
                .route("/products/{id}/stock", web::post().to(products::stock))
                .route("/cart", web::get().to(cart::get))
                .route("/cart", web::delete().to(cart::clear))
                .route("/cart/items", web::post().to(cart::add))
                .route("/cart/merge", web::post().to(cart::merge))
                .route("/cart/items/{product_id}", web::patch().to(cart::set))
                .route("/cart/items/{product_id}", web::delete().to(cart::remove))
                .route("/orders", web::post().to(orders::place))
                .route("/orders", web::get().to(orders::list))
                .route("/orders/{id}", web::get().to(orders::detail))
                .route("/orders/{id}/status", web::post().to(orders::change_status))
                .route("/orders/{id}/cancel", web::post().to(orders::cancel))
                .route("/notifications", web::get().to(notifications::list))
                .route(
                    "/notifications/read-all",
                    web::post().to(notifications::mark_all_read),
                )
                .route(
                    "/notifications/{id}/read",
                    web::post().to(notifications::mark_read),
                )
                .route("/webhooks", web::get().to(webhooks::list))
                .route("/webhooks", web::post().to(webhooks::create))
                .route("/webhooks/{id}", web::get().to(webhooks::detail))
                .route("/webhooks/{id}", web::patch().to(webhooks::patch))
                .route("/webhooks/{id}", web::delete().to(webhooks::delete))
                .route(
                    "/webhooks/{id}/rotate-secret",
                    web::post().to(webhooks::rotate_secret),
                )
                .route("/webhooks/{id}/test", web::post().to(webhooks::test))
                .route(
                    "/webhooks/{id}/deliveries",
                    web::get().to(webhooks::deliveries),
                )
                .route(
                    "/webhooks/{id}/deliveries/{delivery_id}/retry",
                    web::post().to(webhooks::retry),
                )
                .route("/events", web::get().to(live::sse))
                .route("/admin/backup", web::post().to(backup::backup))
                .default_service(web::to(api_fallback)),
        )
        .configure(pages::configure);
}

/// Unknown API path → 404; known path, wrong method → 405 with `Allow`; both as problem+json.
async fn api_fallback(req: HttpRequest) -> Result<HttpResponse, AppError> {
    // A path some route matches has a pattern; an unknown one has none.
    let Some(pattern) = req.match_pattern() else {
        return Err(AppError::NotFound);
    };
    let allow = openapi::allowed_methods(&pattern).unwrap_or_default();
    let problem = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        format!("{} is not allowed here", req.method()),
    );
    let mut response = HttpResponse::MethodNotAllowed();
    if !allow.is_empty() {
        response.insert_header((actix_web::http::header::ALLOW, allow));
    }
    Ok(response
        .content_type("application/problem+json")
        .body(problem.body()))
}
