//! Tests: catalog (categories, products, stock, the product list with its filters, and the cache).
mod cache;
mod categories;
mod listing;
mod products;
mod property;
mod search;
mod start_up;
mod stock_bounds;

use crate::helpers::*;
use serde_json::{json, Value};

pub use crate::auth::{field_error, problem};

/// A GET: status, the `X-Cache` header and the body as JSON.
pub async fn fetch(app: &TestApp, path: &str) -> (u16, Option<String>, Value) {
    let response = app.get(path, None).await;
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, cache, response.json().await.expect("JSON body"))
}

/// A GET that must succeed; returns the body.
pub async fn ok_json(app: &TestApp, path: &str) -> Value {
    let (status, _, body) = fetch(app, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

pub fn product_body(name: &str, price: &str, stock: i64, category: u64) -> Value {
    json!({"name": name, "description": format!("about {name}"), "price": price, "stock": stock, "category_id": category})
}

/// The ids of a page of results, in order.
pub fn ids(page: &Value) -> Vec<u64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}
