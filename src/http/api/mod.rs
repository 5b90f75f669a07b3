//! The JSON API of API.md, one file per resource.
pub mod auth;
pub mod backup;
pub mod cart;
pub mod catalog;
pub mod categories;
pub mod cookie_guard;
pub mod notifications;
pub mod ops;
pub mod orders;
pub mod products;
pub mod webhooks;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

use crate::domain::catalog::PageRequest;
use crate::error::AppError;
use crate::http::extract::query_value;

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

pub fn page_request(pairs: &[(String, String)]) -> Result<PageRequest, AppError> {
    Ok(PageRequest::parse(
        query_value(pairs, "page")?,
        query_value(pairs, "page_size")?,
    )?)
}

/// Parses a typed id from a path segment: 404 for anything that is not a positive integer,
/// since no such resource can exist.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}
