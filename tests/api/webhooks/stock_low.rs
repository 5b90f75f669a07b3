//! `product.stock_low`: written with the stock change that brings a product to the threshold
//! or below (from above it), by an order or by an admin, and delivered to webhooks that ask.
use serde_json::json;
use std::time::Duration;

use super::receiver::Receiver;
use super::{create_webhook, quick_retries};
use crate::helpers::TestApp;

#[tokio::test]
async fn stock_low_is_sent_when_an_order_or_an_admin_brings_stock_to_the_threshold() {
    let receiver = Receiver::start(0).await;
    let app = TestApp::spawn_with(|s| {
        quick_retries(s);
        s.stock_low_threshold = 5;
    })
    .await;
    let admin = app.admin().await;
    create_webhook(&app, &admin, &receiver.url, &["product.stock_low"]).await;
    let category = app.create_category(&admin, "Low").await;
    let product = app
        .create_product(&admin, "Lamp", "3.00", 7, category)
        .await;
    let shopper = app.new_user().await;
    let buy = |quantity: u64| {
        let (app, shopper) = (&app, &shopper);
        async move {
            app.add_to_cart(shopper, product, quantity).await;
            let placed = app
                .post("/api/orders/", Some(&shopper.access), json!({}))
                .await;
            assert_eq!(placed.status(), 201);
        }
    };
    buy(2).await; // 7 -> 5: low
    buy(1).await; // 5 -> 4: was low already
    let stock = format!("/api/products/{product}/stock/");
    let adjust = |body| app.post(&stock, Some(&admin.access), body);
    assert_eq!(adjust(json!({"adjust": 10})).await.status(), 200); // 14: a restock
    assert_eq!(adjust(json!({"set": 3})).await.status(), 200); // 14 -> 3: low again
    assert_eq!(adjust(json!({"adjust": -1})).await.status(), 200); // 2: still low

    let received = receiver.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "one event per crossing, no order events"
    );
    let bodies: Vec<_> = received.iter().map(|r| r.json()).collect();
    for (body, stock) in bodies.iter().zip([5, 3]) {
        assert_eq!(body["type"], "product.stock_low");
        assert_eq!(body["data"]["product_id"], product);
        assert_eq!(body["data"]["name"], "Lamp");
        assert_eq!(body["data"]["stock"], stock);
        assert_eq!(body["data"]["threshold"], 5);
    }
    assert!(bodies[0]["data"]["id"].as_u64() < bodies[1]["data"]["id"].as_u64());
}

#[tokio::test]
async fn stock_events_stay_out_of_notifications_and_webhooks_that_did_not_ask() {
    let receiver = Receiver::start(0).await;
    let app = TestApp::spawn_with(quick_retries).await;
    let admin = app.admin().await;
    create_webhook(&app, &admin, &receiver.url, &["order.created"]).await;
    let category = app.create_category(&admin, "Few").await;
    let product = app
        .create_product(&admin, "Vase", "3.00", 6, category)
        .await;
    let shopper = app.new_user().await;
    app.add_to_cart(&shopper, product, 6).await;
    let placed = app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await;
    assert_eq!(placed.status(), 201);
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(received[0].json()["type"], "order.created");
    for token in [&shopper.access, &admin.access] {
        let list: serde_json::Value = app
            .get("/api/notifications/", Some(token))
            .await
            .json()
            .await
            .unwrap();
        let kinds: Vec<_> = list["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].clone())
            .collect();
        assert!(kinds.iter().all(|k| k != "product.stock_low"), "{kinds:?}");
    }
}
