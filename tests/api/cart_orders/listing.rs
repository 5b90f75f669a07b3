//! The order list: own orders for shoppers, all for admins; newest first; pages; filters.
use super::{ids, problem, shop};
use serde_json::Value;

#[tokio::test]
async fn shoppers_list_their_own_orders_newest_first_and_admins_list_all() {
    let shop = shop().await;
    let p = shop.product("Candle", "3.50", 100).await;
    let (alice, bob) = (shop.app.new_user().await, shop.app.new_user().await);
    let mut alices = Vec::new();
    let mut bobs = Vec::new();
    for _ in 0..3 {
        alices.push(shop.order(&alice, &[(p, 1)]).await["id"].as_u64().unwrap());
        bobs.push(shop.order(&bob, &[(p, 2)]).await["id"].as_u64().unwrap());
    }
    alices.reverse();
    bobs.reverse();
    let admin = shop.admin.access.clone();
    assert_eq!(shop.cancel(&alice.access, alices[1]).await.status(), 200);
    assert_eq!(
        shop.set_status(&admin, bobs[0], "shipped").await.status(),
        200
    );

    let page = shop.orders(&alice.access, "").await;
    assert_eq!(page["count"], 3);
    assert_eq!(ids(&page), alices, "newest first, only her own");
    assert!(page["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["user_id"] == alice.id && o["items"][0]["product_id"] == p));
    assert!(page["next"].is_null() && page["previous"].is_null());

    // A shopper's ?user= cannot widen the view.
    let page = shop
        .orders(&alice.access, &format!("?user={}", bob.id))
        .await;
    assert_eq!(ids(&page), alices);

    let all = shop.orders(&admin, "").await;
    assert_eq!(all["count"], 6);
    let all_ids = ids(&all);
    assert!(
        all_ids.windows(2).all(|w| w[0] > w[1]),
        "newest first: {all_ids:?}"
    );
    assert_eq!(
        ids(&shop.orders(&admin, &format!("?user={}", bob.id)).await),
        bobs
    );
    assert_eq!(
        ids(&shop
            .orders(&admin, &format!("?user={}&status=pending", bob.id))
            .await),
        bobs[1..]
    );
    assert_eq!(
        ids(&shop.orders(&admin, "?status=cancelled").await),
        [alices[1]]
    );
    assert_eq!(
        ids(&shop.orders(&admin, "?status=shipped").await),
        [bobs[0]]
    );
    assert_eq!(shop.orders(&admin, "?status=delivered").await["count"], 0);
    assert_eq!(
        ids(&shop.orders(&alice.access, "?status=pending").await),
        [alices[0], alices[2]]
    );
    assert_eq!(
        shop.orders(&alice.access, "?status=shipped").await["count"],
        0
    );
}

#[tokio::test]
async fn the_order_list_is_paginated_and_checks_its_parameters() {
    let shop = shop().await;
    let p = shop.product("Soap", "2.00", 100).await;
    let user = shop.app.new_user().await;
    let mut placed = Vec::new();
    for _ in 0..5 {
        placed.push(shop.order(&user, &[(p, 1)]).await["id"].as_u64().unwrap());
    }
    placed.reverse();
    let token = user.access.clone();

    let first = shop.orders(&token, "?page_size=2").await;
    assert_eq!(first["count"], 5);
    assert_eq!(ids(&first), placed[0..2]);
    assert!(first["previous"].is_null());
    let next = first["next"].as_str().expect("a next link");
    assert!(
        next.contains("page=2") && next.contains("page_size=2"),
        "{next}"
    );
    let second: Value = shop
        .app
        .client
        .get(next)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&second), placed[2..4]);
    let third = shop.orders(&token, "?page_size=2&page=3").await;
    assert_eq!(ids(&third), placed[4..]);
    assert!(third["next"].is_null() && third["previous"].is_string());

    problem(
        shop.app
            .get("/api/orders/?page_size=2&page=4", Some(&token))
            .await,
        404,
    )
    .await;
    for bad in [
        "?status=bogus",
        "?user=abc",
        "?page=0",
        "?page=x",
        "?page_size=101",
        "?page_size=0",
    ] {
        problem(
            shop.app
                .get(&format!("/api/orders/{bad}"), Some(&token))
                .await,
            400,
        )
        .await;
        problem(
            shop.app
                .get(&format!("/api/orders/{bad}"), Some(&shop.admin.access))
                .await,
            400,
        )
        .await;
    }
}
