use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::http::pages::ctx::AdminPage;
use crate::http::pages::html;
use crate::http::views::admin::dashboard::{self, Dashboard};
use crate::services::Services;

const RECENT: u64 = 10;

/// Counts by status and the newest orders; the live part is refreshed on every event.
pub async fn show(
    admin: AdminPage,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let me = &admin.user.user;
    let counts = services.orders.status_counts(me).await?;
    let recent = services.orders.list(me, None, None, 0, RECENT).await?;
    let customers = services
        .accounts
        .emails(recent.orders.iter().map(|o| o.user_id))
        .await?;
    let view = Dashboard {
        counts: &counts,
        recent: &recent.orders,
        customers: &customers,
    };
    if admin.ctx.htmx.wants("dashboard") {
        return Ok(html(StatusCode::OK, dashboard::live(&admin.ctx, &view)));
    }
    Ok(html(StatusCode::OK, dashboard::render(&admin.ctx, &view)))
}
