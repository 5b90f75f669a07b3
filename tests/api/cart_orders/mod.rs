//! Cart and orders: cart operations, placing orders (atomic, idempotent, no oversell),
//! the status machine, permissions, listing, and durability across a kill -9.
mod cart;
mod crash;
mod listing;
mod merge;
mod oversell;
mod placing;
mod status;

use crate::helpers::{TestApp, TestUser};
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// A running app with its admin signed in and one category to put products in.
pub struct Shop {
    pub app: TestApp,
    pub admin: TestUser,
    pub category: u64,
}

pub async fn shop() -> Shop {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Things").await;
    Shop {
        app,
        admin,
        category,
    }
}

impl Shop {
    pub async fn product(&self, name: &str, price: &str, stock: u64) -> u64 {
        self.app
            .create_product(&self.admin, name, price, stock, self.category)
            .await
    }

    /// The product as the public (cached) detail endpoint shows it.
    pub async fn product_json(&self, id: u64) -> Value {
        let response = self.app.get(&format!("/api/products/{id}/"), None).await;
        assert_eq!(response.status(), 200, "product {id}");
        response.json().await.unwrap()
    }

    pub async fn stock(&self, id: u64) -> u64 {
        self.product_json(id).await["stock"]
            .as_u64()
            .expect("stock is an integer")
    }

    pub async fn cart(&self, user: &TestUser) -> Value {
        let response = self.app.get("/api/cart/", Some(&user.access)).await;
        assert_eq!(response.status(), 200, "get cart");
        response.json().await.unwrap()
    }

    pub async fn place(&self, user: &TestUser) -> Response {
        self.app
            .post("/api/orders/", Some(&user.access), json!({}))
            .await
    }

    pub async fn place_with_key(&self, user: &TestUser, key: &str) -> Response {
        place_with_key(&self.app, &user.access, key).await
    }

    /// Fills the cart with `lines` and places it; panics unless 201. Returns the order.
    pub async fn order(&self, user: &TestUser, lines: &[(u64, u64)]) -> Value {
        for (product, quantity) in lines {
            self.app.add_to_cart(user, *product, *quantity).await;
        }
        let response = self.place(user).await;
        assert_eq!(response.status(), 201, "place order");
        response.json().await.unwrap()
    }

    pub async fn set_status(&self, token: &str, order: u64, status: &str) -> Response {
        self.app
            .post(
                &format!("/api/orders/{order}/status/"),
                Some(token),
                json!({ "status": status }),
            )
            .await
    }

    pub async fn cancel(&self, token: &str, order: u64) -> Response {
        self.app
            .request(
                Method::POST,
                &format!("/api/orders/{order}/cancel/"),
                Some(token),
                None,
            )
            .await
    }

    pub async fn order_json(&self, token: &str, order: u64) -> Value {
        let response = self
            .app
            .get(&format!("/api/orders/{order}/"), Some(token))
            .await;
        assert_eq!(response.status(), 200, "get order {order}");
        response.json().await.unwrap()
    }

    /// One page of the order list; panics unless 200.
    pub async fn orders(&self, token: &str, query: &str) -> Value {
        let response = self
            .app
            .get(&format!("/api/orders/{query}"), Some(token))
            .await;
        assert_eq!(response.status(), 200, "list orders {query}");
        response.json().await.unwrap()
    }
}

pub async fn place_with_key(app: &TestApp, token: &str, key: &str) -> Response {
    app.client
        .post(app.url("/api/orders/"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .send()
        .await
        .expect("request sent")
}

/// Asserts an RFC 9457 error with `status`; returns its body.
pub async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    body
}

/// The statuses in an order's history, oldest first.
pub fn history(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Ids of a page of orders, in the order listed.
pub fn ids(page: &Value) -> Vec<u64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect()
}
