//! Admin pages under `/admin/`: signed-out visitors go to the login page, others get 403.
pub mod backups;
pub mod categories;
pub mod dashboard;
pub mod orders;
pub mod products;
pub mod webhooks;

use actix_web::web;

use crate::domain::FieldErrors;
use crate::error::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(dashboard::show))
        .route("/admin/categories", web::get().to(categories::list))
        .route("/admin/categories", web::post().to(categories::create))
        .route("/admin/categories/{id}", web::post().to(categories::update))
        .route(
            "/admin/categories/{id}/delete",
            web::post().to(categories::delete),
        )
        .route("/admin/products", web::get().to(products::list))
        .route("/admin/products", web::post().to(products::create))
        .route("/admin/products/{id}", web::get().to(products::edit))
        .route("/admin/products/{id}", web::post().to(products::update))
        .route(
            "/admin/products/{id}/delete",
            web::post().to(products::delete),
        )
        .route(
            "/admin/products/{id}/stock",
            web::post().to(products::stock),
        )
        .route("/admin/orders", web::get().to(orders::list))
        .route("/admin/orders/{id}", web::get().to(orders::detail))
        .route(
            "/admin/orders/{id}/status",
            web::post().to(orders::change_status),
        )
        .route("/admin/backups", web::get().to(backups::list))
        .route("/admin/backups", web::post().to(backups::create))
        .route("/admin/backups/{name}", web::get().to(backups::download))
        .route("/admin/webhooks", web::get().to(webhooks::list))
        .route("/admin/webhooks", web::post().to(webhooks::create))
        .route("/admin/webhooks/{id}", web::get().to(webhooks::detail))
        .route(
            "/admin/webhooks/{id}/delete",
            web::post().to(webhooks::delete),
        )
        .route("/admin/webhooks/{id}/test", web::post().to(webhooks::test))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery_id}/retry",
            web::post().to(webhooks::retry),
        )
        // Anything else under /admin is still admin-only: 403 before 404.
        .route("/admin/{rest:.*}", web::to(admin_not_found));
}

async fn admin_not_found(_: super::ctx::AdminPage) -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// A form's validation errors, or the error itself when it is not about the form.
pub fn form_errors(e: AppError) -> Result<FieldErrors, AppError> {
    match e {
        AppError::Validation { errors, .. } => Ok(errors),
        AppError::Conflict(m) => Ok(FieldErrors::from([(
            "non_field_errors".to_owned(),
            vec![m],
        )])),
        other => Err(other),
    }
}
