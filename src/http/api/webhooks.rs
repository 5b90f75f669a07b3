//! `/api/webhooks/`: admins manage webhooks and read their deliveries (API.md, "Webhooks").
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::catalog::page_links;
use super::{json, page_request, path_id};
use crate::domain::ids::WebhookId;
use crate::domain::webhook::WebhookEvent;
use crate::domain::webhook::WebhookInput;
use crate::error::AppError;
use crate::http::extract::{query_pairs, ApiJson};
use crate::http::openapi::responses::{AdminBodyErrors, AdminReadErrors, NoBodyChangeErrors};
use crate::http::user_extract::Admin;
use crate::services::json::Page;
use crate::services::webhooks::json::{DeliveryJson, WebhookJson};
use crate::services::Services;

/// A webhook to create (`url` and `events` required) or the fields to change (`PATCH`:
/// absent or null ones keep their value).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// http(s) only; loopback, link-local and private addresses are refused unless the server
    /// sets `webhooks_allow_private`.
    #[schema(
        format = "uri",
        max_length = 2000,
        pattern = "^https?://",
        example = "https://hooks.example.com/orders"
    )]
    url: Option<String>,
    #[schema(value_type = Option<Vec<WebhookEvent>>, min_items = 1, example = json!(["order.status"]))]
    events: Option<Vec<String>>,
    /// Deliveries stop while false (events are kept for when it is active again).
    active: Option<bool>,
    #[schema(max_length = 500)]
    description: Option<String>,
    /// Allows several deliveries at once, out of event order (faster behind a slow receiver);
    /// false (the default) delivers one event at a time, in event order.
    parallel: Option<bool>,
}

impl WebhookBody {
    fn input(&self) -> WebhookInput<'_> {
        WebhookInput {
            url: self.url.as_deref(),
            events: self.events.as_deref(),
            active: self.active,
            description: self.description.as_deref(),
            parallel: self.parallel,
        }
    }
}

#[utoipa::path(
    get, path = "/api/webhooks/", operation_id = "webhooks_list", tag = "webhooks",
    params(crate::http::openapi::schemas::PageParams),
    responses(
        (status = 200, description = "Every webhook, oldest first (no secrets)", body = Page<WebhookJson>),
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        AdminReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    req: HttpRequest,
    services: web::Data<Services>,
    _: Admin,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let page = page_request(&pairs)?;
    let hooks = services.webhooks.list().await?;
    let count = hooks.len() as u64;
    if !page.exists_within(count) {
        return Err(AppError::NotFound);
    }
    let results = hooks
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(WebhookJson::new)
        .collect();
    let links = page_links(&req, "/api/webhooks/", &pairs);
    Ok(json(StatusCode::OK, &links.page(page, count, results)))
}

#[utoipa::path(
    post, path = "/api/webhooks/", operation_id = "webhooks_create", tag = "webhooks",
    request_body = WebhookBody,
    responses(
        (status = 201, description = "Created; the answer carries the `secret`, shown this once", body = WebhookJson,
         links(
            ("Get" = (operation_id = "webhooks_get", parameters(("id" = "$response.body#/id")))),
            ("Patch" = (operation_id = "webhooks_patch", parameters(("id" = "$response.body#/id")))),
            ("Delete" = (operation_id = "webhooks_delete", parameters(("id" = "$response.body#/id"))))
         )),
        AdminBodyErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    services: web::Data<Services>,
    _: Admin,
    body: ApiJson<WebhookBody>,
) -> Result<HttpResponse, AppError> {
    let draft = services.webhooks.draft(body.0.input(), None)?;
    let hook = services.webhooks.create(draft).await?;
    Ok(json(StatusCode::CREATED, &WebhookJson::with_secret(&hook)))
}

#[utoipa::path(
    get, path = "/api/webhooks/{id}/", operation_id = "webhooks_get", tag = "webhooks",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook (no secret)", body = WebhookJson),
        AdminReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn detail(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let hook = services.webhooks.get(path_id(&id)?).await?;
    Ok(json(StatusCode::OK, &WebhookJson::new(&hook)))
}

#[utoipa::path(
    patch, path = "/api/webhooks/{id}/", operation_id = "webhooks_patch", tag = "webhooks",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Webhook id")),
    request_body = WebhookBody,
    responses(
        (status = 200, description = "The webhook", body = WebhookJson),
        AdminBodyErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<WebhookBody>,
) -> Result<HttpResponse, AppError> {
    let id: WebhookId = path_id(&id)?;
    let current = services.webhooks.get(id).await?;
    let draft = services.webhooks.draft(body.0.input(), Some(&current))?;
    let hook = services.webhooks.update(id, draft).await?;
    Ok(json(StatusCode::OK, &WebhookJson::new(&hook)))
}

#[utoipa::path(
    delete, path = "/api/webhooks/{id}/", operation_id = "webhooks_delete", tag = "webhooks",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted, with its delivery log"),
        AdminReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    services.webhooks.delete(path_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post, path = "/api/webhooks/{id}/rotate-secret/", operation_id = "webhooks_rotate_secret", tag = "webhooks",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook with its new `secret`; the old one no longer signs", body = WebhookJson),
        AdminReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let hook = services.webhooks.rotate_secret(path_id(&id)?).await?;
    Ok(json(StatusCode::OK, &WebhookJson::with_secret(&hook)))
}

#[utoipa::path(
    post, path = "/api/webhooks/{id}/test/", operation_id = "webhooks_test", tag = "webhooks",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Webhook id")),
    responses(
        (status = 200, description = "A `ping` was sent; the attempt as logged (`succeeded` or `failed`)", body = DeliveryJson),
        AdminReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn test(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let delivery = services.webhooks.ping(path_id(&id)?).await?;
    Ok(json(StatusCode::OK, &DeliveryJson::from(&delivery)))
}

#[utoipa::path(
    get, path = "/api/webhooks/{id}/deliveries/", operation_id = "webhooks_deliveries", tag = "webhooks",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Webhook id"), crate::http::openapi::schemas::PageParams),
    responses(
        (status = 200, description = "Delivery attempts, newest first", body = Page<DeliveryJson>),
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        AdminReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn deliveries(
    req: HttpRequest,
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: WebhookId = path_id(&id)?;
    let pairs = query_pairs(&req)?;
    let page = page_request(&pairs)?;
    let found = services
        .webhooks
        .deliveries(id, page.offset(), page.size)
        .await?;
    if !page.exists_within(found.count) {
        return Err(AppError::NotFound);
    }
    let results = found.deliveries.iter().map(DeliveryJson::from).collect();
    let links = page_links(&req, &format!("/api/webhooks/{id}/deliveries/"), &pairs);
    Ok(json(
        StatusCode::OK,
        &links.page(page, found.count, results),
    ))
}

#[utoipa::path(
    post, path = "/api/webhooks/{id}/deliveries/{delivery_id}/retry/", operation_id = "webhooks_retry", tag = "webhooks",
    params(
        ("id" = u64, Path, minimum = 1, example = 1, description = "Webhook id"),
        ("delivery_id" = u64, Path, minimum = 1, example = 1, description = "Delivery (attempt) id"),
    ),
    responses(
        (status = 200, description = "A `pending` delivery is due at once (answered as it was); a `failed` one is sent again now and the new attempt answered", body = DeliveryJson),
        NoBodyChangeErrors,
    ),
    security(("bearer" = []))
)]
pub async fn retry(
    services: web::Data<Services>,
    _: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, delivery) = path.into_inner();
    let delivery = services
        .webhooks
        .retry(path_id(&id)?, path_id(&delivery)?)
        .await?;
    Ok(json(StatusCode::OK, &DeliveryJson::from(&delivery)))
}
