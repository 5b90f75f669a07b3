//! The OpenAPI 3.1 document of the JSON API (generated from the handlers' annotations) at
//! `GET /api/openapi.json`, and Swagger UI rendering it at `/api/docs/`, served from files
//! vendored in `assets/docs/` (nothing is loaded from elsewhere).
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::domain::order::{OrderStatus, Shortage};
use crate::error::AppError;
use crate::error::Problem;
use crate::http::api;
use responses::LiveErrors;

pub mod responses;
pub mod schemas;
pub use schemas::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OrderStream",
        description = "Accounts, catalog, cart, orders and live order status. \
            Errors are RFC 9457 problem details; money is a decimal string; lists are \
            paginated `{count, next, previous, results}`. Paths end with `/`; the same path \
            without it works too."
    ),
    paths(
        api::auth::register,
        api::auth::token,
        api::auth::refresh,
        api::auth::logout,
        api::auth::me,
        api::auth::update_me,
        api::auth::change_password,
        api::categories::list,
        api::categories::create,
        api::categories::detail,
        api::categories::put,
        api::categories::patch,
        api::categories::delete,
        api::products::list,
        api::products::create,
        api::products::detail,
        api::products::put,
        api::products::patch,
        api::products::delete,
        api::products::stock,
        api::cart::get,
        api::cart::clear,
        api::cart::add,
        api::cart::set,
        api::cart::remove,
        api::orders::place,
        api::orders::list,
        api::orders::detail,
        api::orders::change_status,
        api::orders::cancel,
        api::notifications::list,
        api::notifications::mark_read,
        api::notifications::mark_all_read,
        api::webhooks::list,
        api::webhooks::create,
        api::webhooks::detail,
        api::webhooks::patch,
        api::webhooks::delete,
        api::webhooks::rotate_secret,
        api::webhooks::test,
        api::webhooks::deliveries,
        api::webhooks::retry,
        websocket,
        events,
        api::ops::healthz,
        api::backup::backup,
        crate::http::metrics::metrics,
        openapi_json,
        docs_index,
    ),
    components(
        schemas(Problem, Shortage, OrderStatus, crate::services::json::EventJson),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unprocessable,
            TooManyRequests,
            UriTooLong
        )
    ),
    modifiers(&BearerAuth, &EveryOperation),
    tags(
        (name = "auth", description = "Accounts and SimpleJWT-shaped tokens"),
        (name = "catalog", description = "Categories and products"),
        (name = "cart", description = "The caller's cart"),
        (name = "orders", description = "Placing and following orders"),
        (name = "notifications", description = "Order events: list and live streams"),
        (name = "webhooks", description = "Signed webhooks (Standard Webhooks) fed from the event log; admins only"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// What every route may answer: `414` for a path over 2 KiB or a query over 4 KiB (checked before
/// routing, see `extract::limit_uri`).
struct EveryOperation;

impl Modify for EveryOperation {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                operation.responses.responses.insert(
                    "414".into(),
                    utoipa::openapi::Ref::from_response_name("UriTooLong").into(),
                );
            }
        }
    }
}

/// The `bearer` security scheme: `Authorization: Bearer <access token>`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /api/auth/token/ (15 minutes by default)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Live order events over WebSocket: one JSON text frame per event (see `EventJson`).
///
/// The socket lives no longer than the access token it was opened with: when the token
/// expires, is revoked (logout) or is outdated by a password change, the server closes it with
/// code 4001 and a reason; reconnect with a fresh token (and `last_event_id`).
///
/// A `last_event_id` ahead of the event log (after a restore, say) is answered first with
/// `{"id": <newest event id>, "type": "reset", "detail": "..."}`: reload what you show, then
/// keep the frames that follow (live events after that id) and resume from the reset's id.
#[utoipa::path(
    get,
    path = "/ws/",
    operation_id = "live_websocket",
    tag = "notifications",
    params(
        ("token" = Option<String>, Query, nullable = false,
         description = "Access token (else the Authorization header or the session cookie)"),
        ("last_event_id" = Option<u64>, Query, nullable = false,
         description = "Replay every event after this id first; past the newest event: a reset event first"),
    ),
    responses(
        (status = 101, description = "Switching to WebSocket; frames are EventJson"),
        LiveErrors,
    ),
    security((), ("bearer" = []))
)]
#[allow(dead_code)]
fn websocket() {}

/// Live order events as Server-Sent Events (`id:`, `event:`, `data: <EventJson>`).
///
/// The stream lives no longer than the access token it was opened with: when the token
/// expires, is revoked (logout) or is outdated by a password change, a last event
/// `event: auth-expired` (`data: {"type": "auth-expired", "reason": "expired"|"revoked"}`)
/// is sent and the stream ends; reconnect with a fresh token.
///
/// A resume point ahead of the event log (after a restore, say) is answered first with
/// `id: <newest event id>` / `event: reset` / `data: {"id", "type": "reset", "detail"}`: reload
/// what you show; live events after that id follow, and the `id:` line moves the browser's
/// `Last-Event-ID` back into the log.
#[utoipa::path(
    get,
    path = "/api/events/",
    operation_id = "live_events",
    tag = "notifications",
    params(
        ("token" = Option<String>, Query, nullable = false,
         description = "Access token (else the Authorization header or the session cookie)"),
        ("last_event_id" = Option<u64>, Query, nullable = false,
         description = "Replay every event after this id first; past the newest event: a reset event first"),
        ("Last-Event-ID" = Option<u64>, Header, nullable = false,
         description = "As `last_event_id`; wins over it"),
    ),
    responses(
        (status = 200, description = "An endless event stream", content_type = "text/event-stream",
         body = String),
        LiveErrors,
    ),
    security((), ("bearer" = []))
)]
#[allow(dead_code)]
fn events() {}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object))
)]
pub async fn openapi_json() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| document().to_string());
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_str())
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OrderStream API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"#;

/// The API documentation, rendered by Swagger UI (served by this binary, works offline).
#[utoipa::path(
    get,
    path = "/api/docs/",
    operation_id = "docs",
    tag = "operations",
    responses((status = 200, description = "HTML page", content_type = "text/html", body = String))
)]
pub async fn docs_index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(DOCS_PAGE)
}

/// The vendored files of the docs page.
pub async fn docs_asset(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (content_type, body): (&str, &'static [u8]) = match file.as_str() {
        "swagger-ui-bundle.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/docs/swagger-ui-bundle.js"),
        ),
        "swagger-ui.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../../assets/docs/swagger-ui.css"),
        ),
        "init.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/docs/init.js"),
        ),
        "LICENSE-swagger-ui" => (
            "text/plain; charset=utf-8",
            include_bytes!("../../assets/docs/LICENSE-swagger-ui"),
        ),
        _ => return Err(AppError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body))
}

/// The document as JSON, with utoipa 5's snake_case link fields (`operation_id`, …) spelled as
/// OpenAPI has them (`operationId`, …), so that tools can follow the links.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    let operations = doc
        .get_mut("paths")
        .and_then(|p| p.as_object_mut())
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let responses = operation
            .get_mut("responses")
            .and_then(|r| r.as_object_mut())
            .into_iter()
            .flat_map(|r| r.values_mut());
        for response in responses {
            let links = response
                .get_mut("links")
                .and_then(|l| l.as_object_mut())
                .into_iter()
                .flat_map(|l| l.values_mut())
                .filter_map(|link| link.as_object_mut());
            for link in links {
                for (from, to) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(value) = link.remove(from) {
                        link.insert(to.to_owned(), value);
                    }
                }
            }
        }
    }
    doc
}

/// The methods the document lists for a route pattern (`/api/products/{id}`), as an `Allow`
/// header value, e.g. `GET, PUT, PATCH, DELETE`.
pub fn allowed_methods(pattern: &str) -> Option<&'static str> {
    static ALLOW: OnceLock<std::collections::HashMap<String, String>> = OnceLock::new();
    let table = ALLOW.get_or_init(|| {
        let doc = document();
        let mut table = std::collections::HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let methods: Vec<String> = ["get", "post", "put", "patch", "delete"]
                .into_iter()
                .filter(|m| item.get(*m).is_some())
                .map(str::to_uppercase)
                .collect();
            table.insert(path.trim_end_matches('/').to_owned(), methods.join(", "));
        }
        table
    });
    table.get(pattern.trim_end_matches('/')).map(String::as_str)
}
