//! The cart: add (merging into a line), set, remove, clear; validation; live prices and stock.
use super::{problem, shop};
use serde_json::{json, Value};

#[tokio::test]
async fn cart_needs_a_user_and_starts_empty() {
    let shop = shop().await;
    problem(shop.app.get("/api/cart/", None).await, 401).await;
    problem(
        shop.app
            .post(
                "/api/cart/items/",
                None,
                json!({"product_id": 1, "quantity": 1}),
            )
            .await,
        401,
    )
    .await;
    problem(shop.app.delete("/api/cart/", None).await, 401).await;
    let user = shop.app.new_user().await;
    assert_eq!(
        shop.cart(&user).await,
        json!({"items": [], "total": "0.00"})
    );
}

#[tokio::test]
async fn adding_merges_into_the_existing_line_and_totals_add_up() {
    let shop = shop().await;
    let pen = shop.product("Pen", "1.25", 50).await;
    let ink = shop.product("Ink", "10.00", 7).await;
    let user = shop.app.new_user().await;

    let response = shop
        .app
        .post(
            "/api/cart/items/",
            Some(&user.access),
            json!({"product_id": pen, "quantity": 2}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let cart: Value = response.json().await.unwrap();
    assert_eq!(cart["items"][0]["quantity"], 2);

    shop.app.add_to_cart(&user, ink, 1).await;
    shop.app.add_to_cart(&user, pen, 3).await;
    let cart = shop.cart(&user).await;
    assert_eq!(
        cart,
        json!({
            "items": [
                {"product": {"id": pen, "name": "Pen", "price": "1.25", "stock": 50}, "quantity": 5, "line_total": "6.25"},
                {"product": {"id": ink, "name": "Ink", "price": "10.00", "stock": 7}, "quantity": 1, "line_total": "10.00"},
            ],
            "total": "16.25",
        })
    );
}

#[tokio::test]
async fn set_quantity_remove_a_line_and_clear() {
    let shop = shop().await;
    let a = shop.product("Alpha", "2.00", 10).await;
    let b = shop.product("Beta", "3.00", 10).await;
    let c = shop.product("Gamma", "4.00", 10).await;
    let user = shop.app.new_user().await;
    shop.app.add_to_cart(&user, a, 1).await;
    shop.app.add_to_cart(&user, b, 1).await;

    let response = shop
        .app
        .patch(
            &format!("/api/cart/items/{a}/"),
            Some(&user.access),
            json!({"quantity": 4}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cart: Value = response.json().await.unwrap();
    assert_eq!(cart["items"][0]["quantity"], 4, "set replaces, not adds");
    assert_eq!(cart["total"], "11.00");

    // A product that exists but is not in the cart has no line to set or remove.
    problem(
        shop.app
            .patch(
                &format!("/api/cart/items/{c}/"),
                Some(&user.access),
                json!({"quantity": 1}),
            )
            .await,
        404,
    )
    .await;
    problem(
        shop.app
            .delete(&format!("/api/cart/items/{c}/"), Some(&user.access))
            .await,
        404,
    )
    .await;

    let response = shop
        .app
        .delete(&format!("/api/cart/items/{a}/"), Some(&user.access))
        .await;
    assert_eq!(response.status(), 204);
    let cart = shop.cart(&user).await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    assert_eq!(cart["items"][0]["product"]["id"], b);
    assert_eq!(cart["total"], "3.00");
    problem(
        shop.app
            .delete(&format!("/api/cart/items/{a}/"), Some(&user.access))
            .await,
        404,
    )
    .await;

    shop.app.add_to_cart(&user, c, 2).await;
    let response = shop.app.delete("/api/cart/", Some(&user.access)).await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        shop.cart(&user).await,
        json!({"items": [], "total": "0.00"})
    );
    // Clearing an empty cart is fine too.
    assert_eq!(
        shop.app
            .delete("/api/cart", Some(&user.access))
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn bad_cart_input_is_rejected_and_changes_nothing() {
    let shop = shop().await;
    let p = shop.product("Widget", "5.00", 100).await;
    let user = shop.app.new_user().await;
    shop.app.add_to_cart(&user, p, 9_999).await;
    let before = shop.cart(&user).await;
    let token = Some(user.access.as_str());

    problem(
        shop.app
            .post(
                "/api/cart/items/",
                token,
                json!({"product_id": 999_999, "quantity": 1}),
            )
            .await,
        404,
    )
    .await;
    for quantity in [0, -1, 10_001] {
        let body = problem(
            shop.app
                .post(
                    "/api/cart/items/",
                    token,
                    json!({"product_id": p, "quantity": quantity}),
                )
                .await,
            400,
        )
        .await;
        assert!(
            body["errors"]["quantity"].is_array(),
            "errors name the field: {body}"
        );
        let body = problem(
            shop.app
                .patch(
                    &format!("/api/cart/items/{p}/"),
                    token,
                    json!({"quantity": quantity}),
                )
                .await,
            400,
        )
        .await;
        assert!(
            body["errors"]["quantity"].is_array(),
            "errors name the field: {body}"
        );
    }
    // 9,999 + 2 would pass 10,000 in one line.
    let body = problem(
        shop.app
            .post(
                "/api/cart/items/",
                token,
                json!({"product_id": p, "quantity": 2}),
            )
            .await,
        400,
    )
    .await;
    assert!(body["errors"]["quantity"].is_array(), "{body}");
    // Malformed bodies.
    problem(
        shop.app
            .post("/api/cart/items/", token, json!({"product_id": p}))
            .await,
        400,
    )
    .await;
    problem(
        shop.app
            .post(
                "/api/cart/items/",
                token,
                json!({"product_id": p, "quantity": "1"}),
            )
            .await,
        400,
    )
    .await;
    problem(
        shop.app
            .post(
                "/api/cart/items/",
                token,
                json!({"product_id": p, "quantity": 1, "extra": true}),
            )
            .await,
        400,
    )
    .await;
    problem(
        shop.app
            .post(
                "/api/cart/items/",
                token,
                json!({"product_id": p, "quantity": 1.5}),
            )
            .await,
        400,
    )
    .await;

    assert_eq!(shop.cart(&user).await, before);
    // The limit itself is allowed.
    let response = shop
        .app
        .patch(
            &format!("/api/cart/items/{p}/"),
            token,
            json!({"quantity": 10_000}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(shop.cart(&user).await["items"][0]["quantity"], 10_000);
}

#[tokio::test]
async fn carts_are_per_user() {
    let shop = shop().await;
    let p = shop.product("Mug", "8.00", 5).await;
    let (alice, bob) = (shop.app.new_user().await, shop.app.new_user().await);
    shop.app.add_to_cart(&alice, p, 2).await;
    assert_eq!(shop.cart(&bob).await["items"], json!([]));
    shop.app.add_to_cart(&bob, p, 1).await;
    assert_eq!(
        shop.app
            .delete("/api/cart/", Some(&bob.access))
            .await
            .status(),
        204
    );
    assert_eq!(
        shop.cart(&alice).await["items"][0]["quantity"],
        2,
        "bob's clear left alice's cart alone"
    );
}

#[tokio::test]
async fn the_cart_shows_current_price_and_stock_and_reserves_nothing() {
    let shop = shop().await;
    let p = shop.product("Lamp", "20.00", 3).await;
    let (alice, bob) = (shop.app.new_user().await, shop.app.new_user().await);
    shop.app.add_to_cart(&alice, p, 3).await;
    assert_eq!(shop.stock(p).await, 3, "a cart reserves no stock");

    // Bob buys two while they sit in Alice's cart; then the price changes.
    shop.order(&bob, &[(p, 2)]).await;
    let response = shop
        .app
        .patch(
            &format!("/api/products/{p}/"),
            Some(&shop.admin.access),
            json!({"price": "25.50"}),
        )
        .await;
    assert_eq!(response.status(), 200);

    let cart = shop.cart(&alice).await;
    assert_eq!(cart["items"][0]["product"]["stock"], 1);
    assert_eq!(cart["items"][0]["product"]["price"], "25.50");
    assert_eq!(cart["items"][0]["line_total"], "76.50");
    assert_eq!(cart["total"], "76.50");
}
