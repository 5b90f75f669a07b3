//! Shared pieces of the catalog endpoints: cached responses and page links.
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;

use crate::http::extract::absolute_path;
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
