//! Admin orders: filter by status, open one, ship / deliver / cancel with one click.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::domain::ids::OrderId;
use crate::domain::order::OrderStatus;
use crate::error::AppError;
use crate::http::extract::{page_request, path_id};
use crate::http::extract::{query_pairs, query_value};
use crate::http::pages::ctx::AdminPage;
use crate::http::pages::{html, redirect};
use crate::http::views::admin::orders::{self, AdminOrderList};
use crate::http::views::components::pages;
use crate::services::Services;

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn list(
    req: HttpRequest,
    admin: AdminPage,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let mut params = query_pairs(&req)?;
    params.retain(|(_, v)| !v.is_empty());
    let page = page_request(&params)?;
    let status = query_value(&params, "status")?
        .map(|s| OrderStatus::parse("status", s))
        .transpose()?;
    let found = services
        .orders
        .list(&admin.user.user, status, None, page.offset(), page.size)
        .await?;
    if !page.exists_within(found.count) {
        return Err(AppError::NotFound);
    }
    let customers = services
        .accounts
        .emails(found.orders.iter().map(|o| o.user_id))
        .await?;
    let view = AdminOrderList {
        orders: &found.orders,
        status,
        params: &params,
        page: page.page,
        pages: pages(found.count, page.size),
        count: found.count,
        customers: &customers,
    };
    if admin.ctx.htmx.wants("admin-orders") {
        return Ok(html(
            StatusCode::OK,
            orders::list_section(&admin.ctx, &view),
        ));
    }
    Ok(html(StatusCode::OK, orders::list(&admin.ctx, &view)))
}

pub async fn detail(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    let order = services.orders.get(&admin.user.user, id).await?;
    if admin.ctx.htmx.wants("admin-order") {
        return Ok(html(StatusCode::OK, orders::live(&admin.ctx, &order)));
    }
    let customers = services.accounts.emails([order.user_id]).await?;
    Ok(html(
        StatusCode::OK,
        orders::detail(&admin.ctx, &order, &customers),
    ))
}

/// One click: the change goes through the order's actor, and from there to the shopper live.
pub async fn change_status(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let id: OrderId = path_id(&id)?;
    let next = OrderStatus::parse("status", &form.status)?;
    let order = services
        .orders
        .change_status(&admin.user.user, id, next)
        .await?;
    if admin.ctx.htmx.partial() {
        return Ok(html(StatusCode::OK, orders::live(&admin.ctx, &order)));
    }
    Ok(redirect(false, &format!("/admin/orders/{id}")))
}
