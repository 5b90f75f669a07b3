use actix_web::{web, HttpResponse};
use serde_json::json;

use actix_web::http::header;
use time::format_description::well_known::Rfc3339;

use crate::services::catalog::{CacheHealth, StorageHealth};
use crate::services::Services;

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Up (`degraded` when the shared cache is unreachable)", body = crate::http::openapi::schemas::Health),
        (status = 503, description = "Storage is failing (e.g. a full disk): changes are refused until the server has reopened the database by itself", body = crate::http::openapi::schemas::Health),
    ),
)]
pub async fn healthz(services: web::Data<Services>) -> HttpResponse {
    // A load balancer must take an instance that cannot save orders out of rotation.
    if let StorageHealth::Failing { since, .. } = services.catalog.storage_health() {
        let since = since.format(&Rfc3339).unwrap_or_default();
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .json(
                json!({"status": "degraded", "storage": "failing", "storage_failing_since": since}),
            );
    }
    match services.catalog.cache_health().await {
        CacheHealth::Ok => HttpResponse::Ok().json(json!({"status": "ok"})),
        CacheHealth::Unreachable => {
            HttpResponse::Ok().json(json!({"status": "degraded", "cache": "unreachable"}))
        }
    }
}
