//! Webhooks: the admin API (CRUD, auth, validation, SSRF refusals) and deliveries to a real
//! HTTP receiver (retries with one stable id, signatures checked by Rust and by the
//! `standardwebhooks` reference library, resumption after kill -9).
mod api;
mod delivery;
mod page;
mod parallel;
pub(crate) mod receiver;
mod restart;
mod stock_low;
mod verify;

use crate::helpers::{TestApp, TestUser};
use serde_json::{json, Value};
use std::time::Duration;

/// Tiny retry delays so a test sees three attempts in well under a second.
pub fn quick_retries(settings: &mut orderstream::config::Settings) {
    settings.webhooks_allow_private = true;
    settings.webhook_retry_base_ms = 100;
    settings.webhook_max_attempts = 5;
}

/// Creates a webhook as `admin`; returns the answer (with its `secret`).
pub async fn create_webhook(app: &TestApp, admin: &TestUser, url: &str, events: &[&str]) -> Value {
    let response = app
        .post(
            "/api/webhooks/",
            Some(&admin.access),
            json!({"url": url, "events": events, "description": "test"}),
        )
        .await;
    assert_eq!(response.status(), 201, "create webhook {url}");
    response.json().await.unwrap()
}

/// Places an order of one product for a fresh shopper; returns the order id.
pub async fn place_order(app: &TestApp, admin: &TestUser) -> u64 {
    let category = app
        .create_category(admin, &format!("c{}", rand_suffix()))
        .await;
    let product = app
        .create_product(admin, "Thing", "1.00", 100, category)
        .await;
    let user = app.new_user().await;
    app.add_to_cart(&user, product, 1).await;
    let response = app
        .post("/api/orders/", Some(&user.access), json!({}))
        .await;
    assert_eq!(response.status(), 201, "place order");
    response.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The webhook's deliveries log, newest first, once it holds `n` entries.
pub async fn deliveries(app: &TestApp, admin: &TestUser, hook: u64, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page: Value = app
            .get(
                &format!("/api/webhooks/{hook}/deliveries/"),
                Some(&admin.access),
            )
            .await
            .json()
            .await
            .unwrap();
        let results = page["results"].as_array().cloned().unwrap_or_default();
        if results.len() >= n {
            return results;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} deliveries, got {page}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
