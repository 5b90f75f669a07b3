use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::services::catalog::CacheHealth;
use crate::services::Services;

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Up (`degraded` when the shared cache is unreachable)", body = crate::http::openapi::schemas::Health),
    ),
)]
pub async fn healthz(services: web::Data<Services>) -> HttpResponse {
    match services.catalog.cache_health().await {
        CacheHealth::Ok => HttpResponse::Ok().json(json!({"status": "ok"})),
        CacheHealth::Unreachable => {
            HttpResponse::Ok().json(json!({"status": "degraded", "cache": "unreachable"}))
        }
    }
}
