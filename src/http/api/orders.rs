use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::catalog::page_links;
use super::{json, page_request, path_id};
use crate::auth::CurrentUser;
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::OrderStatus;
use crate::error::AppError;
use crate::http::extract::{query_pairs, query_value, ApiJson};
use crate::http::openapi::responses::{AdminWriteErrors, NoBodyChangeErrors};
use crate::services::json::{OrderJson, Page};
use crate::services::orders::parse_idempotency_key;
use crate::services::Services;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `shipped` or `delivered`; anything else is `409`.
    #[schema(value_type = crate::domain::order::OrderStatus)]
    status: String,
}

#[utoipa::path(
    post,
    path = "/api/orders/",
    operation_id = "orders_place",
    tag = "orders",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]+$", nullable = false, description = "Repeat a placement safely: the same key returns the same order")),
    responses(
        (status = 201, description = "Placed from the cart, which is now empty", body = OrderJson,
         links(
            ("GetOrder" = (operation_id = "orders_get", parameters(("id" = "$response.body#/id")))),
            ("CancelOrder" = (operation_id = "orders_cancel", parameters(("id" = "$response.body#/id")))),
            ("ChangeStatus" = (operation_id = "orders_change_status", parameters(("id" = "$response.body#/id"))))
         )),
        (status = 200, description = "The order placed earlier with this Idempotency-Key", body = OrderJson),
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
        (status = 422, response = crate::http::openapi::schemas::Unprocessable),
    ),
    security(("bearer" = []))
)]
pub async fn place(
    req: HttpRequest,
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let key = match req.headers().get("Idempotency-Key") {
        Some(raw) => Some(parse_idempotency_key(raw.to_str().unwrap_or(""))?),
        None => None,
    };
    let placed = services.orders.place(user.user.id, key).await?;
    let status = if placed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &OrderJson::from(&placed.order)))
}

#[utoipa::path(
    get,
    path = "/api/orders/",
    operation_id = "orders_list",
    tag = "orders",
    params(crate::http::openapi::schemas::PageParams, crate::http::openapi::schemas::OrderFilterParams),
    responses(
        (status = 200, description = "Newest first: the caller's orders, or every order for admins", body = Page<OrderJson>),
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    req: HttpRequest,
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let page = page_request(&pairs)?;
    let status = query_value(&pairs, "status")?
        .map(|s| OrderStatus::parse("status", s))
        .transpose()?;
    let owner = query_value(&pairs, "user")?
        .map(|raw| {
            raw.parse::<UserId>()
                .map_err(|_| AppError::field("user", "must be a positive integer"))
        })
        .transpose()?;
    let found = services
        .orders
        .list(&user.user, status, owner, page.offset(), page.size)
        .await?;
    if !page.exists_within(found.count) {
        return Err(AppError::NotFound);
    }
    let links = page_links(&req, "/api/orders/", &pairs);
    let results = found.orders.iter().map(OrderJson::from).collect();
    Ok(json(
        StatusCode::OK,
        &links.page(page, found.count, results),
    ))
}

#[utoipa::path(
    get,
    path = "/api/orders/{id}/",
    operation_id = "orders_get",
    tag = "orders",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderJson),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn detail(
    services: web::Data<Services>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    Ok(json(
        StatusCode::OK,
        &OrderJson::from(&services.orders.get(&user.user, id).await?),
    ))
}

/// Admins move an order forward: pending → shipped → delivered; anything else is 409.
#[utoipa::path(
    post,
    path = "/api/orders/{id}/status/",
    operation_id = "orders_change_status",
    tag = "orders",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Order id")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The order", body = OrderJson),
        AdminWriteErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn change_status(
    services: web::Data<Services>,
    user: CurrentUser,
    id: web::Path<String>,
    body: ApiJson<StatusBody>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    let next = OrderStatus::parse("status", &body.0.status)?;
    if !user.user.is_admin {
        services.orders.get(&user.user, id).await?;
        return Err(AppError::Forbidden);
    }
    if !matches!(next, OrderStatus::Shipped | OrderStatus::Delivered) {
        services.orders.get(&user.user, id).await?;
        return Err(AppError::Conflict(format!(
            "this endpoint moves orders to shipped or delivered, not {}",
            next.as_str()
        )));
    }
    let order = services.orders.change_status(&user.user, id, next).await?;
    Ok(json(StatusCode::OK, &OrderJson::from(&order)))
}

#[utoipa::path(
    post,
    path = "/api/orders/{id}/cancel/",
    operation_id = "orders_cancel",
    tag = "orders",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Order id")),
    responses(
        (status = 200, description = "Cancelled; the stock is returned", body = OrderJson),
        NoBodyChangeErrors,
    ),
    security(("bearer" = []))
)]
pub async fn cancel(
    services: web::Data<Services>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    let order = services
        .orders
        .change_status(&user.user, id, OrderStatus::Cancelled)
        .await?;
    Ok(json(StatusCode::OK, &OrderJson::from(&order)))
}
