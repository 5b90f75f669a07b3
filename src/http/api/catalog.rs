//! Shared pieces of the catalog endpoints: cached responses and the product filter.
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;

use crate::domain::catalog::{Ordering, ProductFilter};
use crate::domain::money::Money;
use crate::error::AppError;
use crate::http::extract::{absolute_path, query_value};
use crate::services::catalog::{CacheStatus, Catalog};
use crate::services::json::PageLinks;

/// Serialized bytes as a JSON response, marked with where they came from; also remembered for
/// the request's exact URL (see `http::cached_reads`).
pub fn cached_json(
    req: &HttpRequest,
    catalog: &Catalog,
    (body, status): (Bytes, CacheStatus),
) -> HttpResponse {
    crate::http::cached_reads::remember_answer(req, catalog, &body);
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("X-Cache", status.as_str()))
        .body(body)
}

/// Known parameters parsed; a malformed value is a 400 naming it. Others are ignored, as DRF does.
pub fn product_filter(pairs: &[(String, String)]) -> Result<ProductFilter, AppError> {
    let mut errors = Vec::new();
    let mut filter = ProductFilter::default();
    let mut take = |result: Result<(), crate::domain::ValidationError>| {
        if let Err(e) = result {
            errors.push(e);
        }
    };
    if let Some(raw) = query_value(pairs, "category")? {
        take(raw.parse().map(|c| filter.category = Some(c)).map_err(|_| {
            crate::domain::ValidationError::new("category", "must be a positive integer")
        }));
    }
    if let Some(raw) = query_value(pairs, "min_price")? {
        take(Money::parse("min_price", raw).map(|m| filter.min_price = Some(m)));
    }
    if let Some(raw) = query_value(pairs, "max_price")? {
        take(Money::parse("max_price", raw).map(|m| filter.max_price = Some(m)));
    }
    if let Some(raw) = query_value(pairs, "in_stock")? {
        take(ProductFilter::parse_bool("in_stock", raw).map(|b| filter.in_stock = Some(b)));
    }
    if let Some(raw) = query_value(pairs, "search")? {
        take(ProductFilter::parse_search(raw).map(|s| filter.search = s));
    }
    if let Some(raw) = query_value(pairs, "ordering")? {
        take(Ordering::parse(raw).map(|o| filter.ordering = o));
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors.into())
    }
}

/// Links for a list at `path`: every parameter but `page` kept, in a canonical order.
pub fn page_links(req: &HttpRequest, path: &str, pairs: &[(String, String)]) -> PageLinks {
    let mut params: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| k != "page").cloned().collect();
    params.sort();
    PageLinks {
        base: absolute_path(req, path),
        params,
    }
}
