//! Merging a guest cart into the signed-in user's cart (POST /api/cart/merge/).
use super::shop;
use serde_json::{json, Value};

#[tokio::test]
async fn merge_adds_lines_caps_quantities_and_skips_what_cannot_be_added() {
    let shop = shop().await;
    let (mug, tea) = (
        shop.product("Mug", "4.00", 5).await,
        shop.product("Tea", "2.50", 0).await,
    );
    let user = shop.app.new_user().await;
    shop.app.add_to_cart(&user, mug, 9_000).await;
    let body = json!({"items": [
        {"product_id": mug, "quantity": 2_000},
        {"product_id": tea, "quantity": 2},
        {"product_id": 999_999, "quantity": 1},
        {"product_id": tea, "quantity": 0}
    ]});
    let response = shop
        .app
        .post("/api/cart/merge/", Some(&user.access), body)
        .await;
    assert_eq!(response.status(), 200);
    let merged: Value = response.json().await.unwrap();
    let lines: Vec<(u64, u64)> = merged["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product"]["id"].as_u64().unwrap(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    // 9,000 + 2,000 is capped at the 10,000 a line may hold; price comes from the server.
    assert_eq!(lines, vec![(mug, 10_000), (tea, 2)]);
    assert_eq!(merged["total"], "40005.00");
    assert_eq!(merged["skipped"], json!([999_999, tea]));
    assert_eq!(shop.cart(&user).await["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn merge_needs_a_user_and_refuses_malformed_bodies_without_writing() {
    let shop = shop().await;
    let mug = shop.product("Mug", "4.00", 5).await;
    let line = json!({"items": [{"product_id": mug, "quantity": 1}]});
    assert_eq!(
        shop.app.post("/api/cart/merge/", None, line).await.status(),
        401
    );
    let user = shop.app.new_user().await;
    let too_many: Vec<Value> = (0..101)
        .map(|_| json!({"product_id": mug, "quantity": 1}))
        .collect();
    for bad in [
        json!({"items": too_many}),
        json!({"items": [{"product_id": mug, "quantity": 1, "price": "0.01"}]}),
        json!({}),
    ] {
        let response = shop
            .app
            .post("/api/cart/merge/", Some(&user.access), bad)
            .await;
        assert_eq!(response.status(), 400);
    }
    assert_eq!(shop.cart(&user).await["items"], json!([]));
}
