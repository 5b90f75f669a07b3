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

pub use crate::http::extract::{page_request, path_id};

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).json(body)
}
