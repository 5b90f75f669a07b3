//! Deliveries to a real receiver: retries keep one `webhook-id`, signatures verify (Rust and
//! the `standardwebhooks` reference library), events arrive in log order, failures are logged.
use crate::helpers::TestApp;
use serde_json::{json, Value};
use std::time::Duration;

use super::receiver::Receiver;
use super::verify::{python_verifies, python_with_standardwebhooks, rust_verifies};
use super::{create_webhook, deliveries, place_order, quick_retries};

const WITHIN: Duration = Duration::from_secs(15);

#[tokio::test]
async fn the_third_attempt_succeeds_with_the_same_id_and_every_signature_verifies() {
    let python = python_with_standardwebhooks();
    let receiver = Receiver::start(2).await;
    let app = TestApp::spawn_with(quick_retries).await;
    let admin = app.admin().await;
    let hook = create_webhook(
        &app,
        &admin,
        &receiver.url,
        &["order.created", "order.status"],
    )
    .await;
    let (id, secret) = (
        hook["id"].as_u64().unwrap(),
        hook["secret"].as_str().unwrap(),
    );

    let order = place_order(&app, &admin).await;
    let received = receiver.wait_for(3, WITHIN).await;
    let answered: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(answered, [500, 500, 204]);
    assert!(
        received.iter().all(|r| r.id == received[0].id),
        "one webhook-id for every retry"
    );
    assert!(
        received.iter().all(|r| r.body == received[0].body),
        "the same body every time"
    );
    let body = received[0].json();
    assert_eq!(body["type"], "order.created");
    assert_eq!(body["data"]["order_id"], order);
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
    for message in &received {
        assert!(rust_verifies(secret, message), "signature of {message:?}");
    }
    if let Some(python) = &python {
        python_verifies(python, secret, &received);
    }

    let log = deliveries(&app, &admin, id, 3).await;
    let attempts: Vec<(u64, &str)> = log
        .iter()
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [(3, "succeeded"), (2, "pending"), (1, "pending")]);
    assert_eq!(log[0]["response_code"], 204);
    assert_eq!(log[1]["response_code"], 500);
    assert!(log[1]["next_attempt_at"].is_string() && log[0]["next_attempt_at"].is_null());
    assert_eq!(log[0]["type"], "order.created");

    // The next event follows, signed alike, with an id of its own.
    let shipped = app
        .post(
            &format!("/api/orders/{order}/status/"),
            Some(&admin.access),
            json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(shipped.status(), 200);
    let received = receiver.wait_for(4, WITHIN).await;
    let body = received[3].json();
    assert_eq!(
        (body["type"].clone(), body["data"]["status"].clone()),
        (json!("order.status"), json!("shipped"))
    );
    assert_eq!(body["data"]["previous"], "pending");
    assert_ne!(received[3].id, received[0].id);
    assert!(rust_verifies(secret, &received[3]));
    if let Some(python) = &python {
        python_verifies(python, secret, &received[3..]);
    }
}

#[tokio::test]
async fn events_arrive_once_each_in_log_order_and_only_the_subscribed_kinds() {
    let receiver = Receiver::start(0).await;
    let app = TestApp::spawn_with(quick_retries).await;
    let admin = app.admin().await;
    create_webhook(&app, &admin, &receiver.url, &["order.status"]).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        orders.push(place_order(&app, &admin).await);
    }
    for order in &orders {
        for status in ["shipped", "delivered"] {
            let path = format!("/api/orders/{order}/status/");
            let changed = app
                .post(&path, Some(&admin.access), json!({"status": status}))
                .await;
            assert_eq!(changed.status(), 200);
        }
    }
    let received = receiver.wait_for(6, WITHIN).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received_later = receiver.received();
    assert_eq!(received_later.len(), 6, "each event once, no order.created");
    let ids: Vec<u64> = received
        .iter()
        .map(|r| r.json()["data"]["id"].as_u64().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "in event order");
    assert!(received.iter().all(|r| r.json()["type"] == "order.status"));
}

#[tokio::test]
async fn a_delivery_is_marked_failed_after_the_last_attempt_and_the_next_event_goes_on() {
    let receiver = Receiver::start(2).await;
    let app = TestApp::spawn_with(|s| {
        quick_retries(s);
        s.webhook_max_attempts = 2;
    })
    .await;
    let admin = app.admin().await;
    let hook = create_webhook(&app, &admin, &receiver.url, &["order.created"]).await;
    let id = hook["id"].as_u64().unwrap();
    place_order(&app, &admin).await;
    let log = deliveries(&app, &admin, id, 2).await;
    assert_eq!(
        (log[0]["attempt"].clone(), log[0]["status"].clone()),
        (json!(2), json!("failed"))
    );
    assert!(log[0]["next_attempt_at"].is_null());
    assert_eq!(log[0]["error"], "HTTP 500");
    place_order(&app, &admin).await;
    let received = receiver.wait_for(3, WITHIN).await;
    assert_eq!(received[2].answered, 204);
    assert_ne!(
        received[2].id, received[0].id,
        "the next event, not a third try"
    );
}

#[tokio::test]
async fn a_test_ping_is_sent_signed_and_logged() {
    let receiver = Receiver::start(0).await;
    let app = TestApp::spawn_with(quick_retries).await;
    let admin = app.admin().await;
    let hook = create_webhook(&app, &admin, &receiver.url, &["order.status"]).await;
    let id = hook["id"].as_u64().unwrap();
    let ping = app
        .post(
            &format!("/api/webhooks/{id}/test/"),
            Some(&admin.access),
            json!({}),
        )
        .await;
    assert_eq!(ping.status(), 200);
    let ping: Value = ping.json().await.unwrap();
    assert_eq!(
        (ping["status"].clone(), ping["type"].clone()),
        (json!("succeeded"), json!("ping"))
    );
    assert!(ping["event_id"].is_null());
    let received = receiver.wait_for(1, WITHIN).await;
    assert_eq!(received[0].json()["type"], "ping");
    assert!(rust_verifies(
        hook["secret"].as_str().unwrap(),
        &received[0]
    ));
    assert_eq!(deliveries(&app, &admin, id, 1).await[0]["id"], ping["id"]);
}

#[tokio::test]
async fn retry_now_sends_a_failed_delivery_again_with_the_same_id() {
    let receiver = Receiver::start(1).await;
    let app = TestApp::spawn_with(|s| {
        quick_retries(s);
        s.webhook_max_attempts = 1;
    })
    .await;
    let admin = app.admin().await;
    let hook = create_webhook(&app, &admin, &receiver.url, &["order.created"]).await;
    let id = hook["id"].as_u64().unwrap();
    place_order(&app, &admin).await;
    let failed = deliveries(&app, &admin, id, 1).await.remove(0);
    assert_eq!(failed["status"], "failed");
    let retry =
        |delivery: &Value| format!("/api/webhooks/{id}/deliveries/{}/retry/", delivery["id"]);
    let again = app
        .post(&retry(&failed), Some(&admin.access), json!({}))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["status"].clone(), again["attempt"].clone()),
        (json!("succeeded"), json!(2))
    );
    assert_eq!(again["event_id"], failed["event_id"]);
    let received = receiver.wait_for(2, WITHIN).await;
    assert_eq!(
        received[0].id, received[1].id,
        "the same delivery, the same webhook-id"
    );
    let twice = app
        .post(&retry(&again), Some(&admin.access), json!({}))
        .await;
    assert_eq!(twice.status(), 409, "a success is not sent again");
    let unknown = format!("/api/webhooks/{id}/deliveries/999999/retry/");
    assert_eq!(
        app.post(&unknown, Some(&admin.access), json!({}))
            .await
            .status(),
        404
    );
}

/// The dispatcher has a thread of its own: an endpoint that takes 20 s to answer holds up
/// neither order placement nor status changes nor the notifications fed by the same log.
#[tokio::test]
async fn a_hanging_endpoint_holds_up_neither_orders_nor_live_updates() {
    let receiver = Receiver::start_with(0, Duration::from_secs(20)).await;
    let app = TestApp::spawn_with(|s| {
        quick_retries(s);
        s.webhook_timeout_seconds = 30;
    })
    .await;
    let admin = app.admin().await;
    create_webhook(
        &app,
        &admin,
        &receiver.url,
        &["order.created", "order.status"],
    )
    .await;
    let category = app.create_category(&admin, "Slow").await;
    let product = app
        .create_product(&admin, "Thing", "1.00", 100, category)
        .await;
    let user = app.new_user().await;
    let started = std::time::Instant::now();
    for _ in 0..10 {
        app.add_to_cart(&user, product, 1).await;
        let placed = app
            .post("/api/orders/", Some(&user.access), json!({}))
            .await;
        assert_eq!(placed.status(), 201);
        let order = placed.json::<Value>().await.unwrap()["id"]
            .as_u64()
            .unwrap();
        let path = format!("/api/orders/{order}/status/");
        let shipped = app
            .post(&path, Some(&admin.access), json!({"status": "shipped"}))
            .await;
        assert_eq!(shipped.status(), 200);
    }
    let notes: Value = app
        .get("/api/notifications/", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        notes["count"], 10,
        "every status change reached the shopper"
    );
    // One request is still hanging at the receiver; the rest of the server went on. (Loose:
    // blocked behind the endpoint this would take 20 s or more.)
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(receiver.received().len() <= 1);
}
