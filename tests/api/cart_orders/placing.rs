//! Placing an order: stock, items and prices, cart emptied, event; errors change nothing;
//! idempotency keys.
use super::{history, ids, problem, shop, Shop};
use futures_util::future::join_all;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn placing_takes_stock_empties_the_cart_and_keeps_the_price() {
    let shop = shop().await;
    let pen = shop.product("Pen", "1.25", 50).await;
    let ink = shop.product("Ink", "10.00", 7).await;
    // Prime the cached product reads: the order must invalidate them.
    assert_eq!(shop.stock(pen).await, 50);
    assert_eq!(shop.stock(ink).await, 7);
    let user = shop.app.new_user().await;
    shop.app.add_to_cart(&user, pen, 4).await;
    shop.app.add_to_cart(&user, ink, 7).await;

    let response = shop.place(&user).await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    let id = order["id"].as_u64().expect("id");
    assert_eq!(order["user_id"], user.id);
    assert_eq!(order["status"], "pending");
    assert_eq!(
        order["items"],
        json!([
            {"product_id": pen, "name": "Pen", "unit_price": "1.25", "quantity": 4, "line_total": "5.00"},
            {"product_id": ink, "name": "Ink", "unit_price": "10.00", "quantity": 7, "line_total": "70.00"},
        ])
    );
    assert_eq!(order["total_price"], "75.00");
    assert_eq!(history(&order), ["pending"]);
    assert!(order["history"][0]["at"].is_string());
    assert!(order["created_at"].is_string() && order["updated_at"].is_string());

    assert_eq!(
        shop.cart(&user).await,
        json!({"items": [], "total": "0.00"})
    );
    assert_eq!(shop.stock(pen).await, 46);
    assert_eq!(shop.stock(ink).await, 0);
    assert_eq!(shop.product_json(ink).await["in_stock"], false);
    assert_eq!(
        shop.order_json(&user.access, id).await,
        order,
        "detail shows what was acknowledged"
    );

    // A later price change leaves the order's unit price alone.
    let response = shop
        .app
        .patch(
            &format!("/api/products/{pen}/"),
            Some(&shop.admin.access),
            json!({"price": "2.00"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let again = shop.order_json(&user.access, id).await;
    assert_eq!(again["items"][0]["unit_price"], "1.25");
    assert_eq!(again["total_price"], "75.00");
    // The next order uses the new price.
    let next = shop.order(&user, &[(pen, 1)]).await;
    assert_eq!(next["items"][0]["unit_price"], "2.00");
}

#[tokio::test]
async fn orders_need_a_user_and_an_empty_cart_is_400() {
    let shop = shop().await;
    problem(shop.app.post("/api/orders/", None, json!({})).await, 401).await;
    problem(shop.app.get("/api/orders/", None).await, 401).await;
    let user = shop.app.new_user().await;
    problem(shop.place(&user).await, 400).await;
    problem(shop.place_with_key(&user, "empty-1").await, 400).await;
    assert_eq!(shop.orders(&user.access, "").await["count"], 0);
    assert_eq!(shop.orders(&shop.admin.access, "").await["count"], 0);
}

#[tokio::test]
async fn short_stock_is_409_naming_each_short_product_and_changes_nothing() {
    let shop = shop().await;
    let scarce = shop.product("Scarce Widget", "3.00", 1).await;
    let plenty = shop.product("Plenty Gadget", "4.00", 5).await;
    let gone = shop.product("Gone Gizmo", "5.00", 2).await;
    let user = shop.app.new_user().await;
    shop.app.add_to_cart(&user, scarce, 3).await;
    shop.app.add_to_cart(&user, plenty, 2).await;
    shop.app.add_to_cart(&user, gone, 1).await;
    let response = shop
        .app
        .post(
            &format!("/api/products/{gone}/stock/"),
            Some(&shop.admin.access),
            json!({"set": 0}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cart_before = shop.cart(&user).await;

    let body = problem(shop.place(&user).await, 409).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Scarce Widget") && detail.contains("Gone Gizmo"),
        "{detail}"
    );
    assert!(!detail.contains("Plenty Gadget"), "{detail}");
    let mut short: Vec<Value> = body["products"].as_array().expect("products").clone();
    short.sort_by_key(|p| p["product_id"].as_u64());
    assert_eq!(short.len(), 2, "{body}");
    assert_eq!(
        (
            &short[0]["product_id"],
            &short[0]["requested"],
            &short[0]["available"]
        ),
        (&json!(scarce), &json!(3), &json!(1))
    );
    assert_eq!(
        (
            &short[1]["product_id"],
            &short[1]["requested"],
            &short[1]["available"]
        ),
        (&json!(gone), &json!(1), &json!(0))
    );

    // All or nothing: the line that could be filled was not taken either.
    assert_eq!(shop.stock(plenty).await, 5);
    assert_eq!(shop.stock(scarce).await, 1);
    assert_eq!(shop.cart(&user).await, cart_before);
    assert_eq!(shop.orders(&user.access, "").await["count"], 0);

    // Fixing the cart makes it go through.
    shop.app
        .patch(
            &format!("/api/cart/items/{scarce}/"),
            Some(&user.access),
            json!({"quantity": 1}),
        )
        .await;
    shop.app
        .delete(&format!("/api/cart/items/{gone}/"), Some(&user.access))
        .await;
    assert_eq!(shop.place(&user).await.status(), 201);
    assert_eq!(shop.stock(scarce).await, 0);
    assert_eq!(shop.stock(plenty).await, 3);
}

/// Reads the admin's SSE replay from the start until `until` shows up; returns the text.
async fn admin_events(shop: &Shop, until: &str) -> String {
    let response = shop
        .app
        .client
        .get(shop.app.url("/api/events/?last_event_id=0"))
        .bearer_auth(&shop.admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    let read = async {
        while !text.contains(until) {
            let chunk = stream.next().await.expect("stream open").expect("chunk");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("no {until} in {text}"));
    text
}

#[tokio::test]
async fn placing_appends_one_order_created_event_and_a_failed_placement_none() {
    let shop = shop().await;
    let p = shop.product("Kettle", "30.00", 1).await;
    let (alice, bob) = (shop.app.new_user().await, shop.app.new_user().await);
    shop.app.add_to_cart(&bob, p, 1).await;
    let order = shop.order(&alice, &[(p, 1)]).await;
    let id = order["id"].as_u64().unwrap();
    problem(shop.place(&bob).await, 409).await;
    assert_eq!(shop.cancel(&alice.access, id).await.status(), 200);

    let text = admin_events(&shop, "\"cancelled\"").await;
    let created: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("data:") && l.contains("\"order.created\""))
        .collect();
    assert_eq!(created.len(), 1, "{text}");
    assert!(created[0].contains(&format!("\"order_id\":{id}")), "{text}");
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_same_order_and_changes_nothing() {
    let shop = shop().await;
    let p = shop.product("Chair", "40.00", 10).await;
    let q = shop.product("Table", "90.00", 10).await;
    let (alice, bob) = (shop.app.new_user().await, shop.app.new_user().await);
    shop.app.add_to_cart(&alice, p, 2).await;

    let first = shop.place_with_key(&alice, "order-key-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let retry = shop.place_with_key(&alice, "order-key-1").await;
    assert_eq!(retry.status(), 200, "a replay is 200");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(shop.stock(p).await, 8, "stock taken once");

    // The same cart content again with the same key: still the same order, nothing taken.
    shop.app.add_to_cart(&alice, p, 2).await;
    let retry = shop.place_with_key(&alice, "order-key-1").await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(shop.stock(p).await, 8);

    // A different cart under a used key is a client mistake: 422, nothing changes.
    shop.app.add_to_cart(&alice, q, 1).await;
    let cart = shop.cart(&alice).await;
    problem(shop.place_with_key(&alice, "order-key-1").await, 422).await;
    assert_eq!(shop.cart(&alice).await, cart);
    assert_eq!((shop.stock(p).await, shop.stock(q).await), (8, 10));
    assert_eq!(
        ids(&shop.orders(&alice.access, "").await),
        [first["id"].as_u64().unwrap()]
    );

    // A fresh key places the new cart; keys are per user, so Bob's "order-key-1" is his own.
    assert_eq!(
        shop.place_with_key(&alice, "order-key-2").await.status(),
        201
    );
    shop.app.add_to_cart(&bob, q, 1).await;
    let bobs = shop.place_with_key(&bob, "order-key-1").await;
    assert_eq!(bobs.status(), 201);
    let bobs: Value = bobs.json().await.unwrap();
    assert_ne!(bobs["id"], first["id"]);
    assert_eq!(bobs["user_id"], bob.id);
    assert_eq!(shop.orders(&alice.access, "").await["count"], 2);
}

#[tokio::test]
async fn ten_concurrent_requests_with_one_key_make_one_order() {
    let shop = shop().await;
    let p = shop.product("Bike", "300.00", 20).await;
    let user = shop.app.new_user().await;
    shop.app.add_to_cart(&user, p, 3).await;

    let requests = (0..10).map(|_| shop.place_with_key(&user, "concurrent-key"));
    let responses = join_all(requests).await;
    let mut statuses = Vec::new();
    let mut order_ids = Vec::new();
    for response in responses {
        statuses.push(response.status().as_u16());
        order_ids.push(response.json::<Value>().await.unwrap()["id"].as_u64());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        order_ids[0].is_some() && order_ids.iter().all(|id| *id == order_ids[0]),
        "{order_ids:?}"
    );
    let listed = shop.orders(&user.access, "").await;
    assert_eq!(listed["count"], 1);
    assert_eq!(ids(&listed), [order_ids[0].unwrap()]);
    assert_eq!(shop.stock(p).await, 17, "stock taken once");
}

#[tokio::test]
async fn idempotency_key_is_at_most_255_visible_characters() {
    let shop = shop().await;
    let p = shop.product("Rug", "12.00", 10).await;
    let user = shop.app.new_user().await;
    shop.app.add_to_cart(&user, p, 1).await;
    problem(shop.place_with_key(&user, &"k".repeat(256)).await, 400).await;
    assert_eq!(
        shop.cart(&user).await["items"][0]["quantity"],
        1,
        "a rejected key leaves the cart"
    );
    assert_eq!(shop.stock(p).await, 10);
    let key = "k".repeat(255);
    assert_eq!(shop.place_with_key(&user, &key).await.status(), 201);
    assert_eq!(shop.place_with_key(&user, &key).await.status(), 200);
    assert_eq!(shop.orders(&user.access, "").await["count"], 1);
}
