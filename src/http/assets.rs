//! Static assets embedded in the binary (no CDN, nothing to deploy beside it), served under
//! `/assets/` with their content type and a year-long cache: URLs carry a content hash.
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::error::AppError;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../../assets/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

static ASSETS: &[Asset] = &[
    asset!("htmx.min.js", JS),
    asset!("storage.js", JS),
    asset!("app.js", JS),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icons/favicon.svg", SVG),
    asset!("icons/pending.svg", SVG),
    asset!("icons/shipped.svg", SVG),
    asset!("icons/delivered.svg", SVG),
    asset!("icons/cancelled.svg", SVG),
    asset!("icons/cart.svg", SVG),
    asset!("icons/bell.svg", SVG),
];

/// A short hash of every asset: changes whenever one does, so cached copies never go stale.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    for asset in ASSETS {
        hasher.update(asset.path.as_bytes());
        hasher.update(asset.body);
    }
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The URL of an asset, with the cache-busting version.
pub fn url(path: &str) -> String {
    format!("/assets/{path}?v={}", *VERSION)
}

pub async fn serve(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.path == path.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.body))
}
