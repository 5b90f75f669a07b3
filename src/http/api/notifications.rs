use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::catalog::page_links;
use super::{json, page_request, path_id};
use crate::auth::CurrentUser;
use crate::domain::catalog::ProductFilter;
use crate::domain::ids::EventId;
use crate::error::AppError;
use crate::http::extract::{query_pairs, query_value};
use crate::services::json::{NotificationJson, Page};
use crate::services::Services;

#[utoipa::path(
    get,
    path = "/api/notifications/",
    operation_id = "notifications_list",
    tag = "notifications",
    params(crate::http::openapi::schemas::PageParams, crate::http::openapi::schemas::NotificationFilterParams),
    responses(
        (status = 200, description = "Newest first", body = Page<NotificationJson>,
         links(
            ("MarkRead" = (operation_id = "notifications_mark_read", parameters(("id" = "$response.body#/results/0/id"))))
         )),
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

#[utoipa::path(
    post,
    path = "/api/notifications/{id}/read/",
    operation_id = "notifications_mark_read",
    tag = "notifications",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Notification (event) id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn mark_read(
    services: web::Data<Services>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: EventId = path_id(&id)?;
    services.notifications.mark_read(user.user.id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/notifications/read-all/",
    operation_id = "notifications_mark_all_read",
    tag = "notifications",
    responses(
        (status = 204, description = "All marked read"),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn mark_all_read(
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    services.notifications.mark_all_read(user.user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
