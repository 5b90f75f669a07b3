use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::catalog::page_links;
use super::{json, page_request, path_id};
use crate::auth::CurrentUser;
use crate::domain::catalog::ProductFilter;
use crate::domain::ids::EventId;
use crate::error::AppError;
use crate::http::extract::{query_pairs, query_value};
use crate::services::json::NotificationJson;
use crate::services::Services;

pub async fn list(
    req: HttpRequest,
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let page = page_request(&pairs)?;
    let unread = query_value(&pairs, "unread")?
        .map(|v| ProductFilter::parse_bool("unread", v))
        .transpose()?
        .unwrap_or(false);
    let found = services
        .notifications
        .list(user.user.id, unread, page.offset(), page.size)
        .await?;
    if !page.exists_within(found.count) {
        return Err(AppError::NotFound);
    }
    let links = page_links(&req, "/api/notifications/", &pairs);
    let results = found
        .events
        .iter()
        .map(|(e, read)| NotificationJson::new(e, *read))
        .collect();
    Ok(json(
        StatusCode::OK,
        &links.page(page, found.count, results),
    ))
}

pub async fn mark_read(
    services: web::Data<Services>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: EventId = path_id(&id)?;
    services.notifications.mark_read(user.user.id, id)?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn mark_all_read(
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    services.notifications.mark_all_read(user.user.id)?;
    Ok(HttpResponse::NoContent().finish())
}
