//! The status machine: pending → shipped → delivered, pending → cancelled; who may do what;
//! history; cancelling returns stock; concurrent actors cannot interleave.
use super::{history, problem, shop, Shop};
use futures_util::future::join_all;
use serde_json::{json, Value};

#[tokio::test]
async fn admin_ships_then_delivers_and_history_records_each_step() {
    let shop = shop().await;
    let p = shop.product("Desk", "150.00", 5).await;
    let user = shop.app.new_user().await;
    let order = shop.order(&user, &[(p, 1)]).await;
    let id = order["id"].as_u64().unwrap();
    let admin = shop.admin.access.clone();

    let response = shop.set_status(&admin, id, "shipped").await;
    assert_eq!(response.status(), 200);
    let shipped: Value = response.json().await.unwrap();
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(history(&shipped), ["pending", "shipped"]);

    let response = shop.set_status(&admin, id, "delivered").await;
    assert_eq!(response.status(), 200);
    let delivered: Value = response.json().await.unwrap();
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(
        shop.order_json(&user.access, id).await,
        delivered,
        "the owner sees the same order"
    );
    assert_eq!(history(&delivered), ["pending", "shipped", "delivered"]);
    let times: Vec<&str> = delivered["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["at"].as_str().unwrap())
        .collect();
    assert_eq!(times[0], order["created_at"]);
    assert_eq!(times[2], delivered["updated_at"]);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(delivered["created_at"], order["created_at"]);
    assert_eq!(delivered["items"], order["items"]);
    // Shipping and delivering do not touch stock.
    assert_eq!(shop.stock(p).await, 4);
}

#[tokio::test]
async fn every_illegal_transition_is_409_and_changes_nothing() {
    let shop = shop().await;
    let p = shop.product("Stool", "15.00", 100).await;
    let user = shop.app.new_user().await;
    let admin = shop.admin.access.clone();
    let mut placed = Vec::new();
    for _ in 0..4 {
        placed.push(shop.order(&user, &[(p, 1)]).await["id"].as_u64().unwrap());
    }
    let [pending, shipped, delivered, cancelled] = placed[..] else {
        unreachable!()
    };
    assert_eq!(
        shop.set_status(&admin, shipped, "shipped").await.status(),
        200
    );
    assert_eq!(
        shop.set_status(&admin, delivered, "shipped").await.status(),
        200
    );
    assert_eq!(
        shop.set_status(&admin, delivered, "delivered")
            .await
            .status(),
        200
    );
    assert_eq!(shop.cancel(&user.access, cancelled).await.status(), 200);
    let stock = shop.stock(p).await;
    assert_eq!(stock, 97);

    let illegal = [
        (pending, "delivered"),
        (pending, "pending"),
        (pending, "cancelled"), // cancelling has its own endpoint
        (shipped, "shipped"),
        (shipped, "pending"),
        (shipped, "cancelled"),
        (delivered, "shipped"),
        (delivered, "delivered"),
        (delivered, "pending"),
        (cancelled, "shipped"),
        (cancelled, "delivered"),
    ];
    for (id, to) in illegal {
        let before = shop.order_json(&admin, id).await;
        problem(shop.set_status(&admin, id, to).await, 409).await;
        assert_eq!(
            shop.order_json(&admin, id).await,
            before,
            "{} -> {to}",
            before["status"]
        );
    }
    for id in [shipped, delivered, cancelled] {
        let before = shop.order_json(&admin, id).await;
        problem(shop.cancel(&admin, id).await, 409).await;
        problem(shop.cancel(&user.access, id).await, 409).await;
        assert_eq!(
            shop.order_json(&admin, id).await,
            before,
            "cancel {}",
            before["status"]
        );
    }
    assert_eq!(shop.stock(p).await, stock, "no refused move touched stock");

    // Not a status at all, or a malformed body: 400.
    problem(shop.set_status(&admin, pending, "bogus").await, 400).await;
    problem(shop.set_status(&admin, pending, "Shipped").await, 400).await;
    problem(
        shop.app
            .post(
                &format!("/api/orders/{pending}/status/"),
                Some(&admin),
                json!({}),
            )
            .await,
        400,
    )
    .await;
    problem(
        shop.app
            .post(
                &format!("/api/orders/{pending}/status/"),
                Some(&admin),
                json!({"status": "shipped", "x": 1}),
            )
            .await,
        400,
    )
    .await;
    assert_eq!(
        history(&shop.order_json(&admin, pending).await),
        ["pending"]
    );
}

#[tokio::test]
async fn who_may_move_and_see_an_order() {
    let shop = shop().await;
    let p = shop.product("Vase", "9.00", 10).await;
    let (owner, other) = (shop.app.new_user().await, shop.app.new_user().await);
    let id = shop.order(&owner, &[(p, 1)]).await["id"].as_u64().unwrap();

    // The owner may look and cancel, but not ship.
    problem(shop.set_status(&owner.access, id, "shipped").await, 403).await;
    // Another user cannot even learn that the order exists.
    problem(
        shop.app
            .get(&format!("/api/orders/{id}/"), Some(&other.access))
            .await,
        404,
    )
    .await;
    problem(shop.set_status(&other.access, id, "shipped").await, 404).await;
    problem(shop.cancel(&other.access, id).await, 404).await;
    // Nobody signed in: 401.
    problem(shop.app.get(&format!("/api/orders/{id}/"), None).await, 401).await;
    problem(
        shop.app
            .post(
                &format!("/api/orders/{id}/status/"),
                None,
                json!({"status": "shipped"}),
            )
            .await,
        401,
    )
    .await;
    problem(
        shop.app
            .post(&format!("/api/orders/{id}/cancel/"), None, json!({}))
            .await,
        401,
    )
    .await;
    // Orders that do not exist.
    problem(
        shop.set_status(&shop.admin.access, 999_999, "shipped")
            .await,
        404,
    )
    .await;
    for missing in ["999999", "0", "abc"] {
        problem(
            shop.app
                .get(&format!("/api/orders/{missing}/"), Some(&shop.admin.access))
                .await,
            404,
        )
        .await;
        problem(
            shop.app
                .post(
                    &format!("/api/orders/{missing}/cancel/"),
                    Some(&shop.admin.access),
                    json!({}),
                )
                .await,
            404,
        )
        .await;
    }
    let order = shop.order_json(&owner.access, id).await;
    assert_eq!(history(&order), ["pending"], "no refused request moved it");
    assert_eq!(
        shop.order_json(&shop.admin.access, id).await,
        order,
        "admins see every order"
    );

    let response = shop.cancel(&owner.access, id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );

    // An admin may cancel someone else's pending order.
    let id = shop.order(&other, &[(p, 2)]).await["id"].as_u64().unwrap();
    let response = shop.cancel(&shop.admin.access, id).await;
    assert_eq!(response.status(), 200);
    let cancelled: Value = response.json().await.unwrap();
    assert_eq!(history(&cancelled), ["pending", "cancelled"]);
    assert_eq!(cancelled["user_id"], other.id);
    assert_eq!(shop.stock(p).await, 10);
}

async fn out_of_stock(shop: &Shop) -> u64 {
    let response = shop.app.get("/api/products/?in_stock=false", None).await;
    response.json::<Value>().await.unwrap()["count"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn cancelling_returns_the_stock_and_refreshes_cached_reads() {
    let shop = shop().await;
    let a = shop.product("Teapot", "22.00", 10).await;
    let b = shop.product("Cup", "4.00", 6).await;
    let user = shop.app.new_user().await;
    let id = shop.order(&user, &[(a, 3), (b, 6)]).await["id"]
        .as_u64()
        .unwrap();
    // Read twice so the second read is served from the cache.
    assert_eq!(shop.stock(a).await, 7);
    let cached = shop.app.get(&format!("/api/products/{a}/"), None).await;
    assert_eq!(
        cached
            .headers()
            .get("x-cache")
            .map(|v| v.to_str().unwrap().to_owned())
            .as_deref(),
        Some("HIT")
    );
    assert_eq!(out_of_stock(&shop).await, 1);

    let response = shop.cancel(&user.access, id).await;
    assert_eq!(response.status(), 200);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "cancelled");
    assert_eq!(history(&order), ["pending", "cancelled"]);
    assert_eq!(
        order["items"][0]["quantity"], 3,
        "the order keeps its items"
    );

    assert_eq!(shop.stock(a).await, 10);
    assert_eq!(shop.stock(b).await, 6);
    assert_eq!(
        out_of_stock(&shop).await,
        0,
        "the cached list was refreshed too"
    );
    // Cancelling twice does not return the stock twice.
    problem(shop.cancel(&user.access, id).await, 409).await;
    assert_eq!(shop.stock(a).await, 10);
}

#[tokio::test]
async fn concurrent_actors_on_one_order_cannot_interleave() {
    let shop = shop().await;
    let p = shop.product("Globe", "60.00", 100).await;
    let user = shop.app.new_user().await;
    // Two admin sessions and the owner race on each of several orders.
    let second_admin = shop.app.admin().await.access;
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(shop.order(&user, &[(p, 5)]).await["id"].as_u64().unwrap());
    }
    assert_eq!(shop.stock(p).await, 60);

    let races = orders.iter().map(|&id| {
        let (shop, admin, second_admin, owner) =
            (&shop, &shop.admin.access, &second_admin, &user.access);
        async move {
            let (ship, admin_cancel, owner_cancel, ship_again) = tokio::join!(
                shop.set_status(admin, id, "shipped"),
                shop.cancel(second_admin, id),
                shop.cancel(owner, id),
                shop.set_status(second_admin, id, "shipped"),
            );
            let codes = [
                ship.status(),
                admin_cancel.status(),
                owner_cancel.status(),
                ship_again.status(),
            ]
            .map(|s| s.as_u16());
            (id, codes)
        }
    });
    let mut returned = 0;
    for (id, codes) in join_all(races).await {
        assert_eq!(
            codes.iter().filter(|c| **c == 200).count(),
            1,
            "exactly one move wins: {codes:?}"
        );
        assert!(codes.iter().all(|c| *c == 200 || *c == 409), "{codes:?}");
        let order = shop.order_json(&user.access, id).await;
        let expected = if codes[0] == 200 || codes[3] == 200 {
            "shipped"
        } else {
            "cancelled"
        };
        assert_eq!(order["status"], expected);
        assert_eq!(history(&order), ["pending", expected]);
        if expected == "cancelled" {
            returned += 5;
        }
    }
    assert_eq!(
        shop.stock(p).await,
        60 + returned,
        "each cancelled order returned its stock once"
    );
}
