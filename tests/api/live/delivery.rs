//! Fan-out: a status change reaches every connection of its owner and of admins, once, in order.
use serde_json::Value;
use std::time::Duration;

use super::client::{Kind, LiveClient, SseClient, WsClient, EVENT_WAIT, SILENCE};
use super::{all_notifications, assert_increasing, created, ids, status, summary, Shop};
use crate::helpers::TestApp;

async fn silence_all(clients: &mut [LiveClient]) {
    for client in clients {
        client.expect_silence(SILENCE).await;
    }
}

/// Checks the JSON shape of one status event.
fn assert_status_event(event: &Value, user: u64, order: u64, now: &str, before: &str) {
    assert_eq!(event["type"], "order.status", "{event}");
    assert_eq!(event["user_id"].as_u64(), Some(user), "{event}");
    assert_eq!(event["order_id"].as_u64(), Some(order), "{event}");
    assert_eq!(event["status"], now, "{event}");
    assert_eq!(event["previous"], before, "{event}");
    let at = event["at"].as_str().expect("at is a string");
    assert!(
        at.len() >= 20 && at.contains('T') && at.ends_with('Z'),
        "at is RFC 3339 UTC: {at}"
    );
}

#[tokio::test]
async fn a_status_change_reaches_every_connection_of_the_owner_once_in_order() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let (owner, other) = (app.new_user().await, app.new_user().await);
    let order = shop.order(&app, &owner).await;
    let others_order = shop.order(&app, &other).await;

    let mut mine = vec![
        LiveClient::connect(Kind::Ws, &app, &owner.access, None).await,
        LiveClient::connect(Kind::Ws, &app, &owner.access, None).await,
        LiveClient::connect(Kind::Sse, &app, &owner.access, None).await,
    ];
    let mut theirs = vec![
        LiveClient::connect(Kind::Ws, &app, &other.access, None).await,
        LiveClient::connect(Kind::Sse, &app, &other.access, None).await,
    ];
    let mut admin = LiveClient::connect(Kind::Ws, &app, &shop.admin.access, None).await;

    // A new order is news for admins only.
    let third = shop.order(&app, &owner).await;
    assert_eq!(
        summary(&[admin.next_event(EVENT_WAIT).await]),
        vec![created(third)]
    );
    silence_all(&mut mine).await;

    shop.set_status(&app, order, "shipped").await;
    shop.set_status(&app, order, "delivered").await;
    shop.cancel(&app, &owner.access, third).await;
    let expected = vec![
        status(order, "shipped"),
        status(order, "delivered"),
        status(third, "cancelled"),
    ];
    let mut seen_ids = None;
    for client in &mut mine {
        let events = client.next_events(3).await;
        assert_eq!(summary(&events), expected);
        assert_status_event(&events[0], owner.id, order, "shipped", "pending");
        assert_status_event(&events[1], owner.id, order, "delivered", "shipped");
        assert_status_event(&events[2], owner.id, third, "cancelled", "pending");
        assert_increasing(&ids(&events));
        // Every connection sees the same events, not copies with new ids.
        assert_eq!(*seen_ids.get_or_insert_with(|| ids(&events)), ids(&events));
        client.expect_silence(SILENCE).await;
    }
    silence_all(&mut theirs).await;
    let admin_events = admin.next_events(3).await;
    assert_eq!(summary(&admin_events), expected);
    assert_eq!(Some(ids(&admin_events)), seen_ids);

    // The other user's change goes to them (and the admin), never to the owner.
    shop.cancel(&app, &other.access, others_order).await;
    for client in &mut theirs {
        let event = client.next_event(EVENT_WAIT).await;
        assert_status_event(&event, other.id, others_order, "cancelled", "pending");
        client.expect_silence(SILENCE).await;
    }
    assert_eq!(
        summary(&[admin.next_event(EVENT_WAIT).await]),
        vec![status(others_order, "cancelled")]
    );
    silence_all(&mut mine).await;
    admin.expect_silence(SILENCE).await;

    // The live stream and the notification list are one log.
    let listed = all_notifications(&app, &owner).await;
    assert_eq!(Some(ids(&listed)), seen_ids);
}

#[tokio::test]
async fn an_admin_sse_stream_carries_creations_and_every_users_changes() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let mut admin = LiveClient::connect(Kind::Sse, &app, &shop.admin.access, None).await;
    let (a, b) = (app.new_user().await, app.new_user().await);
    let order_a = shop.order(&app, &a).await;
    let order_b = shop.order(&app, &b).await;
    shop.set_status(&app, order_b, "shipped").await;
    shop.cancel(&app, &shop.admin.access, order_a).await;
    let events = admin.next_events(4).await;
    assert_eq!(
        summary(&events),
        vec![
            created(order_a),
            created(order_b),
            status(order_b, "shipped"),
            status(order_a, "cancelled")
        ]
    );
    assert_eq!(events[0]["user_id"].as_u64(), Some(a.id));
    assert_eq!(events[2]["user_id"].as_u64(), Some(b.id));
    assert_increasing(&ids(&events));
    admin.expect_silence(SILENCE).await;
}

#[tokio::test]
async fn a_new_connection_without_a_resume_point_gets_only_new_events() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;
    shop.set_status(&app, order, "shipped").await;

    let mut clients = vec![
        LiveClient::connect(Kind::Ws, &app, &user.access, None).await,
        LiveClient::connect(Kind::Sse, &app, &user.access, None).await,
    ];
    silence_all(&mut clients).await;
    shop.set_status(&app, order, "delivered").await;
    for client in &mut clients {
        assert_eq!(
            summary(&client.drain(SILENCE).await),
            vec![status(order, "delivered")]
        );
    }
}

#[tokio::test]
async fn websocket_pings_and_sse_keep_alives_arrive_on_schedule() {
    let app = TestApp::spawn_with(|s| {
        s.ws_ping_seconds = 1;
        s.ws_timeout_seconds = 3;
        s.sse_keepalive_seconds = 1;
    })
    .await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;
    let mut ws = WsClient::connect(&app, &user.access, None).await;
    let mut sse = SseClient::connect(&app, &user.access, None).await;

    let frame = ws
        .next_frame(Duration::from_secs(3))
        .await
        .expect("a frame within 3 s");
    assert!(frame.is_ping(), "expected a ping, got {frame:?}");
    // A client that answers pings (tungstenite does while reading) outlives the timeout.
    let started = tokio::time::Instant::now();
    while started.elapsed() < Duration::from_millis(3500) {
        let frame = ws
            // Pings are due every second; 2.9 s (under the 3 s timeout) leaves room for a
            // loaded test machine without letting a stopped ping timer pass.
            .next_frame(Duration::from_millis(2900))
            .await
            .expect("pings keep coming");
        assert!(frame.is_ping(), "expected a ping, got {frame:?}");
    }
    assert!(
        sse.try_next_frame(Duration::from_millis(1500))
            .await
            .is_none(),
        "no event yet"
    );
    assert!(
        sse.comments.iter().any(|c| c.contains("keep-alive")),
        "comments: {:?}",
        sse.comments
    );

    shop.set_status(&app, order, "shipped").await;
    assert_eq!(
        summary(&[ws.try_next_event(EVENT_WAIT).await.unwrap()]),
        vec![status(order, "shipped")]
    );
    assert_eq!(
        summary(&[sse.try_next_event(EVENT_WAIT).await.unwrap()]),
        vec![status(order, "shipped")]
    );
}

#[tokio::test]
async fn a_websocket_client_that_never_answers_is_dropped_after_the_timeout() {
    let app = TestApp::spawn_with(|s| {
        s.ws_ping_seconds = 1;
        s.ws_timeout_seconds = 1;
    })
    .await;
    let user = app.new_user().await;
    let mut ws = WsClient::connect(&app, &user.access, None).await;
    // Not reading means no pongs go back.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never closed the connection"
        );
        match ws.next_frame(Duration::from_secs(5)).await {
            Some(frame) if frame.is_ping() => continue,
            Some(frame) => {
                assert!(frame.is_close(), "expected a close frame, got {frame:?}");
                break;
            }
            None => panic!("the server never closed the connection"),
        }
    }
}
