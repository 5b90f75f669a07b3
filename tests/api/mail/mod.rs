//! Order emails through a real SMTP server (the `aiosmtpd` sink): placed, shipped and
//! delivered reach the shopper with the order number and link; a mail outage only delays
//! them; a shopper who turned them off gets none; with mail unset nothing piles up.
mod emails;
mod sink;

use orderstream::config::{Secret, Settings};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::helpers::{TestApp, TestUser};

pub const PUBLIC_URL: &str = "https://shop.example";

/// The virtualenv's python with `aiosmtpd`, or None (skip, with the reason printed) outside CI.
pub fn python_with_aiosmtpd() -> Option<PathBuf> {
    crate::python_venv::python_with("mail-venv", "aiosmtpd==1.4.6", "aiosmtpd")
}

/// Mail on, through 127.0.0.1:`port`, with quick retries (a test waits seconds, not hours).
pub fn mail_to(settings: &mut Settings, port: u16) {
    settings.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
    settings.mail_from = Some("OrderStream <orders@shop.example>".into());
    settings.public_url = Some(PUBLIC_URL.into());
    settings.webhook_retry_base_ms = 100;
    settings.webhook_retry_cap_ms = 400;
    settings.webhook_max_attempts = 100;
}

/// A shopper orders one product; returns the order id.
pub async fn place_order(app: &TestApp, admin: &TestUser, shopper: &TestUser) -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!("mail-{}", N.fetch_add(1, Ordering::Relaxed));
    let category = app.create_category(admin, &name).await;
    let product = app
        .create_product(admin, "Teapot", "12.50", 100, category)
        .await;
    app.add_to_cart(shopper, product, 2).await;
    let placed = app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await;
    assert_eq!(placed.status(), 201, "place order");
    placed.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap()
}

pub async fn set_status(app: &TestApp, admin: &TestUser, order: u64, status: &str) {
    let path = format!("/api/orders/{order}/status/");
    let changed = app
        .post(&path, Some(&admin.access), json!({"status": status}))
        .await;
    assert_eq!(changed.status(), 200, "{status}");
}
