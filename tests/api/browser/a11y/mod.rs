//! Accessibility, measured (issue #20): axe-core finds no WCAG 2 A/AA violation on any page
//! or state, at desktop and phone width; the shop works with the keyboard alone, the focus
//! always visible; a live status change is announced once.
mod announcer;
mod axe;
mod keyboard;
mod keys;
mod pages;

use serde_json::{json, Value};

use super::Shop;
use crate::helpers::TestUser;

/// Orders of `shopper`, one at each status: (id, status).
pub async fn orders_at_each_status(shop: &Shop, shopper: &TestUser) -> Vec<(u64, &'static str)> {
    let steps: [(&str, &[&str]); 4] = [
        ("pending", &[]),
        ("shipped", &["shipped"]),
        ("delivered", &["shipped", "delivered"]),
        ("cancelled", &[]),
    ];
    let mut orders = Vec::new();
    for (status, moves) in steps {
        let order = place_order(shop, shopper).await;
        for next in moves {
            move_order(shop, order, next).await;
        }
        if status == "cancelled" {
            let path = format!("/api/orders/{order}/cancel/");
            let cancelled = shop.app.post(&path, Some(&shopper.access), json!({})).await;
            assert_eq!(cancelled.status(), 200, "cancel order {order}");
        }
        orders.push((order, status));
    }
    orders
}

/// One espresso, ordered through the API; returns the order id.
pub async fn place_order(shop: &Shop, shopper: &TestUser) -> u64 {
    shop.app.add_to_cart(shopper, shop.espresso, 1).await;
    let placed = shop
        .app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await;
    assert_eq!(placed.status(), 201, "order placed");
    placed.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap()
}

/// The admin moves `order` on to `status` through the API.
pub async fn move_order(shop: &Shop, order: u64, status: &str) {
    let path = format!("/api/orders/{order}/status/");
    let body = json!({ "status": status });
    let moved = shop.app.post(&path, Some(&shop.admin.access), body).await;
    assert_eq!(moved.status(), 200, "order {order} → {status}");
}
