//! Admin backups: the files in `backup_dir`, each downloadable, and "Back up now".
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::http::pages::ctx::AdminPage;
use crate::http::pages::{html, redirect};
use crate::http::views::admin::backups::{self, BackupsView};
use crate::services::Services;

async fn page(
    admin: AdminPage,
    services: &Services,
    status: StatusCode,
    problem: Option<String>,
) -> Result<HttpResponse, AppError> {
    let files = services.backups.list().await?;
    let view = BackupsView {
        schedule: services.backups.schedule(),
        files: &files,
        problem,
    };
    Ok(html(status, backups::render(&admin.ctx, &view)))
}

pub async fn list(
    admin: AdminPage,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    page(admin, &services, StatusCode::OK, None).await
}

/// "Back up now": a backup into `backup_dir`, then the list again (303, or HX-Redirect).
pub async fn create(
    admin: AdminPage,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    match services.backups.back_up_now().await {
        Ok(_) => Ok(redirect(admin.ctx.htmx.request, "/admin/backups")),
        Err(AppError::Conflict(message)) => {
            page(admin, &services, StatusCode::CONFLICT, Some(message)).await
        }
        Err(other) => Err(other),
    }
}

/// One backup file, to admins only (the extractor refuses everyone else).
pub async fn download(
    _: AdminPage,
    services: web::Data<Services>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let body = services.backups.file(&name).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}
