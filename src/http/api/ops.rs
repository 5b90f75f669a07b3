use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::cache::CacheHealth;
use crate::services::Services;

pub async fn healthz(services: web::Data<Services>) -> HttpResponse {
    match services.catalog.cache().health().await {
        CacheHealth::Ok => HttpResponse::Ok().json(json!({"status": "ok"})),
        CacheHealth::Unreachable => {
            HttpResponse::Ok().json(json!({"status": "degraded", "cache": "unreachable"}))
        }
    }
}
