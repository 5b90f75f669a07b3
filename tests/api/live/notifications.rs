//! The notification list: the user's order.status events, newest first, with read flags.
use serde_json::{json, Value};

use super::client::{Kind, LiveClient, SILENCE};
use super::{all_notifications, ids, Shop};
use crate::helpers::{TestApp, TestUser};

async fn list(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let response = app
        .get(&format!("/api/notifications/{query}"), Some(&user.access))
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

async fn mark_read(app: &TestApp, user: &TestUser, id: u64) -> u16 {
    let response = app
        .post(
            &format!("/api/notifications/{id}/read/"),
            Some(&user.access),
            json!({}),
        )
        .await;
    response.status().as_u16()
}

fn results(page: &Value) -> Vec<Value> {
    page["results"].as_array().unwrap().clone()
}

/// A user with three status changes: A shipped, A delivered, B cancelled.
async fn user_with_three_notifications(app: &TestApp, shop: &Shop) -> (TestUser, u64, u64) {
    let user = app.new_user().await;
    let (a, b) = (shop.order(app, &user).await, shop.order(app, &user).await);
    shop.set_status(app, a, "shipped").await;
    shop.set_status(app, a, "delivered").await;
    shop.cancel(app, &user.access, b).await;
    (user, a, b)
}

#[tokio::test]
async fn notifications_are_the_users_status_events_newest_first() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let (user, a, b) = user_with_three_notifications(&app, &shop).await;
    let bystander = app.new_user().await;
    shop.order(&app, &bystander).await;

    let page = list(&app, &user, "").await;
    assert_eq!(page["count"], 3);
    let items = results(&page);
    let seen: Vec<(u64, &str)> = items
        .iter()
        .map(|n| {
            (
                n["order_id"].as_u64().unwrap(),
                n["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![(b, "cancelled"), (a, "delivered"), (a, "shipped")]
    );
    let listed_ids = ids(&items);
    assert!(
        listed_ids.windows(2).all(|w| w[0] > w[1]),
        "newest first: {listed_ids:?}"
    );
    for n in &items {
        assert_eq!(n["kind"], "order.status", "{n}");
        assert_eq!(n["read"], false, "{n}");
        assert!(!n["message"].as_str().unwrap().trim().is_empty(), "{n}");
        assert!(n["created_at"].as_str().unwrap().contains('T'), "{n}");
    }
    assert_ne!(items[0]["message"], items[1]["message"]);

    // The same log the streams replay.
    let mut replay = LiveClient::connect(Kind::Ws, &app, &user.access, Some(0)).await;
    let mut streamed = ids(&replay.drain(SILENCE).await);
    streamed.reverse();
    assert_eq!(streamed, listed_ids);

    // Someone with only a pending order has nothing; nobody sees another user's events.
    assert_eq!(list(&app, &bystander, "").await["count"], 0);

    let first = list(&app, &user, "?page_size=2").await;
    assert_eq!(
        (first["count"].as_u64(), results(&first).len()),
        (Some(3), 2)
    );
    assert!(first["next"].is_string());
    let second = list(&app, &user, "?page_size=2&page=2").await;
    assert_eq!(ids(&results(&second)), listed_ids[2..].to_vec());
    let past = app
        .get("/api/notifications/?page_size=2&page=3", Some(&user.access))
        .await;
    assert_eq!(past.status(), 404);
    assert_eq!(
        app.get("/api/notifications/?unread=maybe", Some(&user.access))
            .await
            .status(),
        400
    );
    assert_eq!(app.get("/api/notifications/", None).await.status(), 401);
}

#[tokio::test]
async fn read_flags_one_at_a_time_and_all_at_once() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let (user, _, _) = user_with_three_notifications(&app, &shop).await;
    let (other, _, _) = user_with_three_notifications(&app, &shop).await;
    let mine = ids(&all_notifications(&app, &user).await);
    let theirs = ids(&all_notifications(&app, &other).await);

    let unread = list(&app, &user, "?unread=true").await;
    assert_eq!(ids(&results(&unread)).len(), 3);

    assert_eq!(mark_read(&app, &user, mine[1]).await, 204);
    assert_eq!(
        mark_read(&app, &user, mine[1]).await,
        204,
        "marking twice is fine"
    );
    let flags: Vec<(u64, bool)> = all_notifications(&app, &user)
        .await
        .iter()
        .map(|n| (n["id"].as_u64().unwrap(), n["read"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        flags,
        vec![(mine[0], false), (mine[1], true), (mine[2], false)]
    );
    let unread = list(&app, &user, "?unread=true").await;
    assert_eq!(unread["count"], 2);
    assert_eq!(ids(&results(&unread)), vec![mine[2], mine[0]]);
    assert_eq!(list(&app, &user, "?unread=false").await["count"], 3);

    // Another user's notification, an unknown one, and garbage ids are all not found.
    assert_eq!(mark_read(&app, &user, theirs[0]).await, 404);
    assert_eq!(
        all_notifications(&app, &other)
            .await
            .iter()
            .filter(|n| n["read"] == true)
            .count(),
        0
    );
    assert_eq!(mark_read(&app, &user, 999_999).await, 404);
    let garbage = app
        .post(
            "/api/notifications/abc/read/",
            Some(&user.access),
            json!({}),
        )
        .await;
    assert_eq!(garbage.status(), 404);
    let anonymous = app
        .post(
            &format!("/api/notifications/{}/read/", mine[0]),
            None,
            json!({}),
        )
        .await;
    assert_eq!(anonymous.status(), 401);

    let response = app
        .post(
            "/api/notifications/read-all/",
            Some(&user.access),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 204);
    let unread = list(&app, &user, "?unread=true").await;
    assert_eq!(
        (unread["count"].as_u64(), results(&unread).len()),
        (Some(0), 0)
    );
    assert!(all_notifications(&app, &user)
        .await
        .iter()
        .all(|n| n["read"] == true));
    // Only the caller's flags changed.
    assert_eq!(list(&app, &other, "?unread=true").await["count"], 3);

    // A new event arrives unread.
    let order = shop.order(&app, &user).await;
    shop.set_status(&app, order, "shipped").await;
    let unread = list(&app, &user, "?unread=true").await;
    assert_eq!(unread["count"], 1);
    assert_eq!(results(&unread)[0]["order_id"].as_u64(), Some(order));
}
