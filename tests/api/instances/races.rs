//! Races between instances: the database decides, whichever instance a request reached.
use super::*;
use crate::cart_orders::problem;
use std::collections::{BTreeSet, HashMap};

/// 200 buyers, each served by instance i % 3 from registration to order, race for 25 units:
/// exactly 25 orders are placed, every other buyer is told 409 naming the sold-out product,
/// and every instance then shows stock 0 and the same 25 orders.
#[tokio::test]
async fn two_hundred_buyers_on_three_instances_buy_exactly_twenty_five_units() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start(3, &[]).await;
    let admin = admin(deployment.api(0)).await;
    let category = create_category(deployment.api(0), &admin, "Limited").await;
    let product = create_product(
        deployment.api(1),
        &admin,
        "Limited Edition",
        "99.00",
        25,
        category,
    )
    .await;
    let detail = format!("/api/products/{product}/");
    // Every instance caches the product with its stock before the race.
    for (_, api) in deployment.running() {
        assert_eq!(read(api, &detail).await["stock"], 25);
    }

    let mut buyers: Vec<User> = Vec::new();
    for chunk in 0..4 {
        let chunk = join_all((0..50).map(|k| {
            let api = deployment.api(chunk * 50 + k);
            new_user(api, "buyer")
        }))
        .await;
        buyers.extend(chunk);
    }
    join_all(
        buyers
            .iter()
            .enumerate()
            .map(|(i, b)| add_to_cart(deployment.api(i), &b.access, product, 1)),
    )
    .await;

    let outcomes = join_all(
        buyers
            .iter()
            .enumerate()
            .map(|(i, b)| place(deployment.api(i), &b.access, None)),
    )
    .await;
    let (mut sold, mut rejected) = (0u64, 0u64);
    let mut sold_by_instance = [0u64; 3];
    let mut buyers_served = BTreeSet::new();
    for (i, response) in outcomes.into_iter().enumerate() {
        match response.status().as_u16() {
            201 => {
                let order: Value = response.json().await.unwrap();
                assert_eq!(order["items"][0]["product_id"], product, "{order}");
                assert_eq!(order["user_id"], buyers[i].id, "{order}");
                sold += order["items"][0]["quantity"].as_u64().unwrap();
                sold_by_instance[i % 3] += 1;
                buyers_served.insert(buyers[i].id);
            }
            409 => {
                let body = problem(response, 409).await;
                let short = body["products"].as_array().expect("products named");
                assert_eq!(short.len(), 1, "{body}");
                assert_eq!(short[0]["product_id"], product, "{body}");
                assert_eq!(short[0]["available"], 0, "{body}");
                rejected += 1;
            }
            other => panic!(
                "buyer {i} on instance {}: unexpected {other}: {}",
                i % 3,
                response.text().await.unwrap()
            ),
        }
    }
    eprintln!("units sold by instance: {sold_by_instance:?}");
    assert_eq!((sold, rejected), (25, 175));
    assert_eq!(buyers_served.len(), 25, "one order per successful buyer");

    let detail = &detail;
    for (i, api) in deployment.running() {
        // Each instance's cached detail moves to the new stock within the catch-up bound.
        let fresh = within(
            CATCH_UP,
            || async move { read(api, detail).await["stock"] == 0 },
        )
        .await;
        assert!(fresh.is_some(), "instance {i} still shows stock left");
        let list = api.get("/api/orders/?page_size=100", Some(&admin)).await;
        assert_eq!(list["count"], 25, "orders listed by instance {i}");
        let listed: BTreeSet<u64> = list["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["user_id"].as_u64().unwrap())
            .collect();
        assert_eq!(listed, buyers_served, "orders listed by instance {i}");
    }
}

/// The same `Idempotency-Key` sent by one user to two instances at the same moment (a client
/// retrying through the balancer): one order, and both answers name it.
#[tokio::test]
async fn one_idempotency_key_sent_to_two_instances_at_once_places_one_order() {
    if skip_unless_postgres() {
        return;
    }
    const USERS: usize = 30;
    let deployment = Deployment::start(3, &[]).await;
    let admin = admin(deployment.api(0)).await;
    let category = create_category(deployment.api(0), &admin, "Retries").await;
    let product =
        create_product(deployment.api(0), &admin, "Kettle", "20.00", 1000, category).await;
    let users = join_all((0..USERS).map(|i| new_user(deployment.api(i), "retrier"))).await;
    join_all(
        users
            .iter()
            .enumerate()
            .map(|(i, u)| add_to_cart(deployment.api(i), &u.access, product, 2)),
    )
    .await;

    // Every user's two requests go out together, to instances i and i + 1; all users at once.
    let pairs = join_all(users.iter().enumerate().map(|(i, u)| {
        let key = format!("checkout-{i}");
        let (first, second) = (deployment.api(i), deployment.api(i + 1));
        async move {
            let (a, b) = tokio::join!(
                place(first, &u.access, Some(&key)),
                place(second, &u.access, Some(&key))
            );
            let (status_a, status_b) = (a.status().as_u16(), b.status().as_u16());
            let body_a: Value = a.json().await.unwrap();
            let body_b: Value = b.json().await.unwrap();
            ((status_a, body_a), (status_b, body_b))
        }
    }))
    .await;

    let mut placed_by_user = HashMap::new();
    for (i, ((status_a, a), (status_b, b))) in pairs.into_iter().enumerate() {
        let mut statuses = [status_a, status_b];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 201],
            "user {i}: one placement and one replay, got {a} / {b}"
        );
        assert!(a["id"].as_u64().is_some(), "{a}");
        assert_eq!(
            a["id"], b["id"],
            "user {i}: both answers name the same order"
        );
        for field in ["user_id", "items", "total_price", "status"] {
            assert_eq!(a[field], b[field], "user {i}: {field}");
        }
        placed_by_user.insert(i, a["id"].as_u64().unwrap());
    }

    for (i, user) in users.iter().enumerate() {
        // Read on the third instance, which answered neither request.
        let list = deployment
            .api(i + 2)
            .get("/api/orders/", Some(&user.access))
            .await;
        assert_eq!(list["count"], 1, "user {i}'s orders: {list}");
        assert_eq!(list["results"][0]["id"], placed_by_user[&i], "user {i}");
        let cart = deployment
            .api(i + 2)
            .get("/api/cart/", Some(&user.access))
            .await;
        assert_eq!(cart["items"], json!([]), "user {i}'s cart is empty");
    }
    let detail = &format!("/api/products/{product}/");
    let expected = 1000 - 2 * USERS as u64;
    for (i, api) in deployment.running() {
        let fresh = within(CATCH_UP, || async move {
            read(api, detail).await["stock"] == expected
        })
        .await;
        assert!(fresh.is_some(), "instance {i}: stock taken once per user");
    }
}
