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
        (status = 503, description = "Storage is failing (a full disk on sled, PostgreSQL unreachable): changes are refused until the server has recovered by itself", body = crate::http::openapi::schemas::Health),
    ),
)]
pub async fn healthz(services: web::Data<Services>) -> HttpResponse {
    // Each part on its own line of the answer, so an operator sees which one is down.
    let cache = match services.catalog.cache_health().await {
        CacheHealth::InProcess => "in_process",
        CacheHealth::Ok => "ok",
        CacheHealth::Unreachable => "unreachable",
    };
    // A load balancer must take an instance that cannot save orders out of rotation.
    if let StorageHealth::Failing { since, .. } = services.catalog.storage_health() {
        let since = since.format(&Rfc3339).unwrap_or_default();
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .json(json!({
                "status": "degraded",
                "storage": "failing",
                "storage_failing_since": since,
                "cache": cache,
            }));
    }
    // Without its shared cache an instance still serves everything, from the database.
    let status = if cache == "unreachable" {
        "degraded"
    } else {
        "ok"
    };
    HttpResponse::Ok().json(json!({"status": status, "storage": "ok", "cache": cache}))
}
