//! Who may read `/metrics`: it tells order counts by status and live connections, so the public
//! listener serves it only with `Authorization: Bearer <metrics_token>` (404 otherwise, as if it
//! were not there); a scraper on the private `metrics_addr` listener needs nothing.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::metrics::{metrics, Metrics};
use crate::config::Secret;
use crate::error::AppError;
use crate::services::Services;

/// `metrics_token`, registered as app data on the public listener.
#[derive(Debug, Clone, Default)]
pub struct MetricsToken(pub Option<Secret>);

pub async fn public_metrics(
    req: HttpRequest,
    token: web::Data<MetricsToken>,
    registry: web::Data<Metrics>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let Some(expected) = &token.0 else {
        return Err(AppError::NotFound);
    };
    let sent = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match sent {
        Some(sent) if same(sent.as_bytes(), expected.expose().as_bytes()) => {
            Ok(metrics(registry, services).await)
        }
        _ => Err(AppError::NotFound),
    }
}

/// The private listener: `/metrics` and nothing else.
pub fn configure_listener(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics))
        .default_service(web::to(|| async { HttpResponse::NotFound().finish() }));
}

/// Compares without an early exit, so the time taken says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
