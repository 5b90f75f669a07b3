use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::catalog::page_links;
use super::{json, page_request, path_id};
use crate::auth::CurrentUser;
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::OrderStatus;
use crate::error::AppError;
use crate::http::extract::{query_pairs, query_value, ApiJson};
use crate::services::json::OrderJson;
use crate::services::orders::parse_idempotency_key;
use crate::services::Services;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: String,
}

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

pub async fn detail(
    services: web::Data<Services>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    Ok(json(
        StatusCode::OK,
        &OrderJson::from(&services.orders.get(&user.user, id)?),
    ))
}

/// Admins move an order forward: pending → shipped → delivered; anything else is 409.
pub async fn change_status(
    services: web::Data<Services>,
    user: CurrentUser,
    id: web::Path<String>,
    body: ApiJson<StatusBody>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    let next = OrderStatus::parse("status", &body.0.status)?;
    if !user.user.is_admin {
        services.orders.get(&user.user, id)?;
        return Err(AppError::Forbidden);
    }
    if !matches!(next, OrderStatus::Shipped | OrderStatus::Delivered) {
        services.orders.get(&user.user, id)?;
        return Err(AppError::Conflict(format!(
            "this endpoint moves orders to shipped or delivered, not {}",
            next.as_str()
        )));
    }
    let order = services.orders.change_status(&user.user, id, next).await?;
    Ok(json(StatusCode::OK, &OrderJson::from(&order)))
}

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
