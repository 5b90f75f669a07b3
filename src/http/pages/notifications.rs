//! The notification list, its badge, and marking notifications read.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::ctx::Shopper;
use super::{errors::referer_path, html, redirect};
use crate::domain::ids::EventId;
use crate::error::AppError;
use crate::http::extract::query_pairs;
use crate::http::extract::{page_request, path_id};
use crate::http::views::components::pages;
use crate::http::views::layout::unread_badge;
use crate::http::views::notifications::{self, NotificationList};
use crate::services::Services;

async fn render(
    req: &HttpRequest,
    user: &Shopper,
    services: &Services,
) -> Result<HttpResponse, AppError> {
    let id = user.user.user.id;
    let params = query_pairs(req)?;
    let page = page_request(&params)?;
    let found = services
        .notifications
        .list(id, false, page.offset(), page.size)
        .await?;
    if !page.exists_within(found.count) {
        return Err(AppError::NotFound);
    }
    let view = NotificationList {
        events: &found.events,
        params: &params,
        page: page.page,
        pages: pages(found.count, page.size),
        unread: services.notifications.unread_count(id).await?,
    };
    if user.ctx.htmx.partial() {
        // The list, and the badge out of band so both agree.
        return Ok(html(
            StatusCode::OK,
            notifications::section_update(&user.ctx, &view),
        ));
    }
    let mut ctx = user.ctx.clone();
    ctx.unread = view.unread;
    Ok(html(StatusCode::OK, notifications::page(&ctx, &view)))
}

pub async fn list(
    req: HttpRequest,
    user: Shopper,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    render(&req, &user, &services).await
}

pub async fn badge(user: Shopper, services: web::Data<Services>) -> Result<HttpResponse, AppError> {
    let count = services
        .notifications
        .unread_count(user.user.user.id)
        .await?;
    Ok(html(StatusCode::OK, unread_badge(count, false)))
}

pub async fn read(
    req: HttpRequest,
    user: Shopper,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let event: EventId = path_id(&id)?;
    services
        .notifications
        .mark_read(user.user.user.id, event)
        .await?;
    after_change(&req, &user, &services).await
}

pub async fn read_all(
    req: HttpRequest,
    user: Shopper,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    services
        .notifications
        .mark_all_read(user.user.user.id)
        .await?;
    after_change(&req, &user, &services).await
}

async fn after_change(
    req: &HttpRequest,
    user: &Shopper,
    services: &Services,
) -> Result<HttpResponse, AppError> {
    if user.ctx.htmx.partial() {
        // The list is at the address the form was on; render the first page.
        return render(req, user, services).await;
    }
    Ok(redirect(
        false,
        &referer_path(req).unwrap_or_else(|| "/notifications".into()),
    ))
}
