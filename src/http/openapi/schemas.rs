//! The OpenAPI-only types: the shared error responses (of the real `error::Problem`), request
//! bodies whose handlers take a looser shape (one struct for POST, PUT and PATCH), query
//! parameters, and the one schema of request text fields.
#![allow(dead_code)]
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToResponse, ToSchema};

use crate::domain::catalog::Ordering;
use crate::domain::catalog::{MAX_CATEGORY_NAME, MAX_DESCRIPTION, MAX_PRODUCT_NAME};
use crate::domain::order::OrderStatus;
use crate::error::Problem;

#[derive(ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the shared cache is unreachable (200) or storage is failing
    /// (503).
    #[schema(example = "ok")]
    status: String,
    /// The shared cache (Redis): `ok`, `unreachable` (reads fall back to the database), or
    /// `in_process` when none is configured.
    #[schema(example = "ok")]
    cache: String,
    /// The database: `ok`, or `failing` while it cannot be written (a full disk for sled;
    /// PostgreSQL unreachable); the server recovers by itself once it can.
    #[schema(example = "ok")]
    storage: String,
    /// When storage started failing (RFC 3339).
    #[schema(nullable = false)]
    storage_failing_since: Option<String>,
}

/// A category to create (`POST`) or replace (`PUT`).
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[schema(schema_with = name::<{ MAX_CATEGORY_NAME }>)]
    name: String,
    #[serde(default)]
    #[schema(schema_with = optional_text::<{ MAX_DESCRIPTION }>)]
    description: Option<String>,
}

/// A product to create (`POST`) or replace (`PUT`).
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[schema(schema_with = name::<{ MAX_PRODUCT_NAME }>)]
    name: String,
    #[serde(default)]
    #[schema(schema_with = optional_text::<{ MAX_DESCRIPTION }>)]
    description: Option<String>,
    /// A decimal string with at most two places.
    #[schema(pattern = r"^[0-9]{1,8}(\.[0-9]{1,2})?$", example = "19.99")]
    price: String,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: i64,
    #[schema(minimum = 1)]
    category_id: i64,
}

/// The one schema of a text field in a request, as `domain::validation::bounded_text` reads it:
/// at most `max` characters, no control characters but tab, CR and LF; a name also has a
/// character that is not a space. `nullable` for the fields a PATCH may set to null.
fn text_field(max: usize, name: bool, nullable: bool) -> RefOr<Schema> {
    const FREE: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
    const NAME: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .min_length(name.then_some(1))
        .max_length(Some(max))
        .pattern(Some(if name { NAME } else { FREE }))
        .into()
}

// The forms `#[schema(schema_with = ..)]` can name: it takes a function without arguments.

/// Free text that may be left out or null.
pub fn optional_text<const MAX: usize>() -> RefOr<Schema> {
    text_field(MAX, false, true)
}

/// A name a whole body must give.
pub fn name<const MAX: usize>() -> RefOr<Schema> {
    text_field(MAX, true, false)
}

/// A name a PATCH may give (null keeps the current one).
pub fn optional_name<const MAX: usize>() -> RefOr<Schema> {
    text_field(MAX, true, true)
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
    // Spelled out, not `schema_with = text::<..>`: utoipa drops a parameter's description when
    // its schema comes from a function.
    #[param(
        max_length = 100,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$",
        nullable = false
    )]
    search: Option<String>,
    /// Sort order (default `id`).
    #[param(inline, nullable = false)]
    ordering: Option<Ordering>,
}

/// Order list filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilterParams {
    /// Only orders in this status.
    #[param(nullable = false)]
    status: Option<OrderStatus>,
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
