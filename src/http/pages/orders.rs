//! The shopper's orders: history, the live order page, cancel while pending.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::ctx::Shopper;
use super::{html, redirect};
use crate::domain::ids::OrderId;
use crate::domain::order::OrderStatus;
use crate::error::AppError;
use crate::http::extract::query_pairs;
use crate::http::extract::{page_request, path_id};
use crate::http::views::components::pages;
use crate::http::views::orders::{self, OrderList};
use crate::services::Services;

pub async fn list(
    req: HttpRequest,
    user: Shopper,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let params = query_pairs(&req)?;
    let page = page_request(&params)?;
    let found = services
        .orders
        .list(&user.user.user, None, None, page.offset(), page.size)
        .await?;
    if !page.exists_within(found.count) {
        return Err(AppError::NotFound);
    }
    let view = OrderList {
        orders: &found.orders,
        params: &params,
        page: page.page,
        pages: pages(found.count, page.size),
    };
    if user.ctx.htmx.wants("orders") {
        return Ok(html(StatusCode::OK, orders::list_section(&user.ctx, &view)));
    }
    Ok(html(StatusCode::OK, orders::list(&user.ctx, &view)))
}

/// The order page; htmx asks for the live part only when the order's status changed.
pub async fn detail(
    user: Shopper,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    let order = services.orders.get(&user.user.user, id).await?;
    if user.ctx.htmx.wants("order-live") {
        return Ok(html(StatusCode::OK, orders::live(&user.ctx, &order)));
    }
    Ok(html(StatusCode::OK, orders::detail(&user.ctx, &order)))
}

pub async fn cancel(
    user: Shopper,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    let order = services
        .orders
        .change_status(&user.user.user, id, OrderStatus::Cancelled)
        .await?;
    if user.ctx.htmx.partial() {
        return Ok(html(StatusCode::OK, orders::live(&user.ctx, &order)));
    }
    Ok(redirect(false, &format!("/orders/{id}")))
}
