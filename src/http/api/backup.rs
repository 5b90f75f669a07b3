//! `POST /api/admin/backup/`: a consistent snapshot of the running server, streamed.
use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::http::user_extract::Admin;
use crate::services::Services;

/// A consistent snapshot of the whole database as a backup file, for `orderstream restore`.
/// Writers wait only while the snapshot is copied in memory (milliseconds); the file is
/// streamed after they resume. A server on PostgreSQL answers 409: back that database up with
/// `pg_dump` or the host's backups.
#[utoipa::path(
    post,
    path = "/api/admin/backup/",
    operation_id = "admin_backup",
    tag = "operations",
    responses(
        (status = 200, description = "The backup file (attachment); header \
            `X-Backup-Writer-Pause-Us` says how long writes were held off, `X-Backup-Records` how \
            many records the file holds",
         content_type = "application/octet-stream", body = crate::http::openapi::schemas::BackupFile),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 403, response = crate::http::openapi::schemas::Forbidden),
        // A server on PostgreSQL answers 409: its backups are the database's (pg_dump).
        (status = 409, response = crate::http::openapi::schemas::Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn backup(services: web::Data<Services>, _: Admin) -> Result<HttpResponse, AppError> {
    let live = services.backups.stream().await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", live.file_name),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "x-backup-writer-pause-us",
            live.writer_pause.as_micros().to_string(),
        ))
        .insert_header(("x-backup-records", live.records.to_string()))
        .streaming(live.body))
}
