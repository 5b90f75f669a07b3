//! The OpenAPI-only types: the problem document, shared error responses, request bodies whose
//! handlers take a looser shape (one struct for POST, PUT and PATCH), and query parameters.
#![allow(dead_code)]
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToResponse, ToSchema};

use crate::services::json::OrderStatusSchema;

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(ToSchema)]
pub struct Problem {
    #[schema(example = "about:blank")]
    r#type: String,
    #[schema(example = "Bad request")]
    title: String,
    #[schema(example = 400, minimum = 400, maximum = 599)]
    status: u16,
    #[schema(example = "some fields are invalid")]
    detail: String,
    /// On validation failures: the messages for each field.
    #[schema(nullable = false)]
    errors: Option<BTreeMap<String, Vec<String>>>,
    /// On `409` when placing an order: the products short of stock.
    #[schema(nullable = false)]
    products: Option<Vec<Shortage>>,
}

/// A product an order cannot be filled with.
#[derive(ToSchema)]
pub struct Shortage {
    #[schema(minimum = 1)]
    product_id: u64,
    name: String,
    requested: u32,
    available: u32,
}

#[derive(ToSchema)]
pub struct TokenPair {
    /// Access token: send it as `Authorization: Bearer <access>`.
    access: String,
    /// Refresh token: exchange it at `/api/auth/token/refresh/` (it rotates).
    refresh: String,
}

#[derive(ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the shared cache is unreachable (200) or storage is failing
    /// (503).
    #[schema(example = "ok")]
    status: String,
    /// `unreachable` when the shared cache cannot be reached.
    #[schema(nullable = false)]
    cache: Option<String>,
    /// `failing` while the database cannot be written (e.g. a full disk); the server reopens it
    /// by itself once it can.
    #[schema(nullable = false)]
    storage: Option<String>,
    /// When storage started failing (RFC 3339).
    #[schema(nullable = false)]
    storage_failing_since: Option<String>,
}

/// A category to create (`POST`) or replace (`PUT`).
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$",
        example = "Tea"
    )]
    name: String,
    #[serde(default)]
    #[schema(
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    description: Option<String>,
}

/// A product to create (`POST`) or replace (`PUT`).
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$",
        example = "Green tea"
    )]
    name: String,
    #[serde(default)]
    #[schema(
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    description: Option<String>,
    /// A decimal string with at most two places.
    #[schema(pattern = r"^[0-9]{1,8}(\.[0-9]{1,2})?$", example = "19.99")]
    price: String,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: i64,
    #[schema(minimum = 1)]
    category_id: i64,
}

/// Malformed or invalid input; `errors` names the fields.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(Problem);

/// Missing, invalid, expired or revoked token (or bad credentials).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String))
)]
pub struct Unauthorized(Problem);

/// Authenticated but not allowed (not an admin, or not the owner).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(Problem);

/// No such resource (or page past the end, or another user's order).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(Problem);

/// The change conflicts with the current state.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(Problem);

/// The body is over 1 MiB.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(Problem);

/// The body is not `application/json`.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(Problem);

/// The `Idempotency-Key` was already used for a different order.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(Problem);

/// Too many attempts; `Retry-After` says when to try again.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "seconds"))
)]
pub struct TooManyRequests(Problem);

/// The path is over 2 KiB or the query string over 4 KiB.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UriTooLong(Problem);

/// `?page=` and `?page_size=` of every list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1; a page past the end is `404`.
    #[param(minimum = 1, maximum = 10_000_000, nullable = false)]
    page: Option<u64>,
    /// Items per page: 10 by default, at most 100.
    #[param(minimum = 1, maximum = 100, nullable = false)]
    page_size: Option<u64>,
}

/// Product list filters, combinable.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilterParams {
    /// Only products of this category.
    #[param(minimum = 1, nullable = false)]
    category: Option<u64>,
    /// Lowest price, inclusive.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,8}(\.[0-9]{1,2})?$", nullable = false)]
    min_price: Option<String>,
    /// Highest price, inclusive.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,8}(\.[0-9]{1,2})?$", nullable = false)]
    max_price: Option<String>,
    /// Only products with (`true`) or without (`false`) stock.
    #[param(nullable = false)]
    in_stock: Option<bool>,
    /// Words to find in the name (case-insensitive, accents folded: `creme` finds `Crème`).
    /// Several whitespace-separated words must all occur, in any order, each anywhere in the
    /// name (`ug lu` finds `Blue Mug`). Blank means no search.
    #[param(
        max_length = 100,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$",
        nullable = false
    )]
    search: Option<String>,
    /// Sort order (default `id`).
    #[param(inline, nullable = false)]
    ordering: Option<ProductOrdering>,
}

#[derive(ToSchema)]
pub enum ProductOrdering {
    #[schema(rename = "id")]
    IdAsc,
    #[schema(rename = "-id")]
    IdDesc,
    #[schema(rename = "price")]
    PriceAsc,
    #[schema(rename = "-price")]
    PriceDesc,
    #[schema(rename = "name")]
    NameAsc,
    #[schema(rename = "-name")]
    NameDesc,
    #[schema(rename = "created_at")]
    CreatedAsc,
    #[schema(rename = "-created_at")]
    CreatedDesc,
}

/// Order list filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilterParams {
    /// Only orders in this status.
    #[param(nullable = false)]
    status: Option<OrderStatusSchema>,
    /// Admins only: only this user's orders.
    #[param(minimum = 1, nullable = false)]
    user: Option<u64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilterParams {
    /// Only unread notifications.
    #[param(nullable = false)]
    unread: Option<bool>,
}

/// A backup file, for `orderstream restore --from FILE` (binary).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct BackupFile(Vec<u8>);
