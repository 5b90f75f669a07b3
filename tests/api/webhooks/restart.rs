//! The real binary killed (SIGKILL) between two attempts of a delivery: after a restart on the
//! same data the delivery goes on from the durable cursor, with the same `webhook-id`.
use crate::binary::start_with;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

use super::receiver::Receiver;
use super::verify::{python_verifies, python_with_standardwebhooks, rust_verifies};

/// Long enough to kill the server between the first and second attempt (at least 1.9 s apart),
/// even on a busy machine.
const ENV: [(&str, &str); 2] = [
    ("ORDERSTREAM_WEBHOOKS_ALLOW_PRIVATE", "true"),
    ("ORDERSTREAM_WEBHOOK_RETRY_BASE_MS", "2500"),
];

#[tokio::test]
async fn a_delivery_survives_kill_9_between_attempts() {
    let python = python_with_standardwebhooks();
    let receiver = Receiver::start(2).await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_with(dir.path(), 1, &ENV).await;
    let admin = server.api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = Some(admin.as_str());
    let body = json!({"url": receiver.url, "events": ["order.created"]});
    let hook = server
        .api
        .post(201, "/api/webhooks/", token, Some(body))
        .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();

    let category = server
        .api
        .post(
            201,
            "/api/categories/",
            token,
            Some(json!({"name": "Things", "description": ""})),
        )
        .await["id"]
        .clone();
    let product = json!({"name": "Thing", "description": "", "price": "1.00", "stock": 5, "category_id": category});
    let product = server
        .api
        .post(201, "/api/products/", token, Some(product))
        .await["id"]
        .clone();
    let line = json!({"product_id": product, "quantity": 1});
    server
        .api
        .post(201, "/api/cart/items/", token, Some(line))
        .await;
    server
        .api
        .post(201, "/api/orders/", token, Some(json!({})))
        .await;

    receiver.wait_for(1, Duration::from_secs(10)).await;
    // Let the first attempt's record reach the disk (it is flushed right after the attempt).
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill();
    assert_eq!(
        receiver.received().len(),
        1,
        "killed before the second attempt"
    );

    let server = start_with(dir.path(), 2, &ENV).await;
    let received = receiver.wait_for(3, Duration::from_secs(40)).await;
    let answered: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(answered, [500, 500, 204]);
    assert!(
        received.iter().all(|r| r.id == received[0].id),
        "one webhook-id across the restart"
    );
    for message in &received {
        assert!(rust_verifies(&secret, message));
    }
    if let Some(python) = &python {
        python_verifies(python, &secret, &received);
    }
    let admin = server.api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let path = format!("/api/webhooks/{}/deliveries/", hook["id"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let log: Value = server
            .api
            .expect(200, Method::GET, &path, Some(&admin), None)
            .await;
        if log["results"][0]["status"] == "succeeded" {
            assert_eq!(log["results"][0]["attempt"], 3, "{log}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
