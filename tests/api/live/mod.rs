//! Live order updates (WebSocket `/ws/`, SSE `/api/events/`) and the notification list,
//! driven through the real server with real clients.
mod access;
pub(crate) mod client;
mod commit_order;
mod credentials;
mod delivery;
mod limits;
mod notifications;
mod origin;
mod randomized;
mod reset;
mod resume;

use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser};

/// An admin and one well-stocked product, so tests can place orders freely.
pub struct Shop {
    pub admin: TestUser,
    pub product: u64,
}

impl Shop {
    pub async fn open(app: &TestApp) -> Shop {
        let admin = app.admin().await;
        let category = app.create_category(&admin, "Live").await;
        let product = app
            .create_product(&admin, "Lamp", "12.50", 10_000, category)
            .await;
        Shop { admin, product }
    }

    /// Places a one-item order for `user`; returns its id.
    pub async fn order(&self, app: &TestApp, user: &TestUser) -> u64 {
        app.add_to_cart(user, self.product, 1).await;
        let response = app
            .post("/api/orders/", Some(&user.access), json!({}))
            .await;
        assert_eq!(response.status(), 201, "place order");
        response.json::<Value>().await.unwrap()["id"]
            .as_u64()
            .unwrap()
    }

    /// Ships or delivers `order` as the admin.
    pub async fn set_status(&self, app: &TestApp, order: u64, status: &str) {
        let path = format!("/api/orders/{order}/status/");
        let response = app
            .post(&path, Some(&self.admin.access), json!({"status": status}))
            .await;
        assert_eq!(response.status(), 200, "{status} order {order}");
    }

    /// Cancels `order` with `token` (its owner's or the admin's).
    pub async fn cancel(&self, app: &TestApp, token: &str, order: u64) {
        let response = app
            .post(
                &format!("/api/orders/{order}/cancel/"),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(response.status(), 200, "cancel order {order}");
    }
}

/// The event ids of `events`.
pub fn ids(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e["id"].as_u64().expect("event id"))
        .collect()
}

/// `(type, order_id, status)` of each event (or `kind` of each notification): what a test
/// usually compares.
pub fn summary(events: &[Value]) -> Vec<(String, u64, String)> {
    let field = |e: &Value, name: &str| {
        e[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {e}"))
            .to_owned()
    };
    events
        .iter()
        .map(|e| {
            let kind = if e.get("type").is_some() {
                field(e, "type")
            } else {
                field(e, "kind")
            };
            (
                kind,
                e["order_id"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("no order_id in {e}")),
                field(e, "status"),
            )
        })
        .collect()
}

pub fn status(order: u64, status: &str) -> (String, u64, String) {
    ("order.status".to_owned(), order, status.to_owned())
}

pub fn created(order: u64) -> (String, u64, String) {
    ("order.created".to_owned(), order, "pending".to_owned())
}

pub fn assert_increasing(ids: &[u64]) {
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "event ids not strictly increasing: {ids:?}"
    );
}

/// All of `user`'s notifications (at most 100), oldest first.
pub async fn all_notifications(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let response = app
        .get("/api/notifications/?page_size=100", Some(&user.access))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let mut results = body["results"].as_array().unwrap().clone();
    assert_eq!(
        body["count"].as_u64().unwrap() as usize,
        results.len(),
        "more than one page"
    );
    results.sort_by_key(|n| n["id"].as_u64().unwrap());
    results
}
