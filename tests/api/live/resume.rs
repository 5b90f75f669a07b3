//! Resuming: a client that was offline gets exactly what it missed, in order, then live events.
use std::time::Instant;

use super::client::{Kind, LiveClient, SseClient, WsClient, EVENT_WAIT, SILENCE};
use super::{all_notifications, assert_increasing, created, ids, status, summary, Shop};
use crate::helpers::{TestApp, TestUser};

/// The three ways to resume: WS `?last_event_id=`, SSE `Last-Event-ID` header, SSE query.
async fn resume_all(app: &TestApp, user: &TestUser, last: u64) -> Vec<LiveClient> {
    let sse_query = app.client.get(app.url(&format!(
        "/api/events/?token={}&last_event_id={last}",
        user.access
    )));
    vec![
        LiveClient::connect(Kind::Ws, app, &user.access, Some(last)).await,
        LiveClient::connect(Kind::Sse, app, &user.access, Some(last)).await,
        LiveClient::Sse(
            SseClient::open(sse_query)
                .await
                .expect("SSE with ?last_event_id"),
        ),
    ]
}

/// Orders A, B, C of one user; C is cancelled while the user's clients listen, which gives
/// them a last event id; returns the ids of A and B and that last id.
async fn listen_then_go_offline(app: &TestApp, shop: &Shop, user: &TestUser) -> (u64, u64, u64) {
    let (a, b, c) = (
        shop.order(app, user).await,
        shop.order(app, user).await,
        shop.order(app, user).await,
    );
    let mut ws = LiveClient::connect(Kind::Ws, app, &user.access, None).await;
    let mut sse = LiveClient::connect(Kind::Sse, app, &user.access, None).await;
    shop.cancel(app, &user.access, c).await;
    let last = ws.next_event(EVENT_WAIT).await;
    assert_eq!(sse.next_event(EVENT_WAIT).await, last);
    assert_eq!(summary(&[last.clone()]), vec![status(c, "cancelled")]);
    ws.close().await;
    sse.close().await;
    (a, b, last["id"].as_u64().unwrap())
}

#[tokio::test]
async fn a_reconnect_with_the_last_id_replays_exactly_the_missed_events() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let (user, other) = (app.new_user().await, app.new_user().await);
    let (a, b, last) = listen_then_go_offline(&app, &shop, &user).await;
    let others_order = shop.order(&app, &other).await;

    shop.set_status(&app, a, "shipped").await;
    shop.set_status(&app, others_order, "shipped").await;
    shop.set_status(&app, a, "delivered").await;
    shop.cancel(&app, &shop.admin.access, b).await;

    let missed = vec![
        status(a, "shipped"),
        status(a, "delivered"),
        status(b, "cancelled"),
    ];
    let mut clients = resume_all(&app, &user, last).await;
    let mut replayed_ids = None;
    for client in &mut clients {
        let events = client.next_events(3).await;
        assert_eq!(summary(&events), missed);
        assert!(ids(&events).iter().all(|&id| id > last));
        assert_increasing(&ids(&events));
        assert_eq!(
            *replayed_ids.get_or_insert_with(|| ids(&events)),
            ids(&events)
        );
        client.expect_silence(SILENCE).await;
    }

    // After the replay the same connections carry live events, with no duplicates.
    let d = shop.order(&app, &user).await;
    shop.set_status(&app, d, "shipped").await;
    for client in &mut clients {
        assert_eq!(
            summary(&client.drain(SILENCE).await),
            vec![status(d, "shipped")]
        );
    }
}

#[tokio::test]
async fn resuming_works_across_a_restart_because_the_log_is_durable() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let (a, b, last) = listen_then_go_offline(&app, &shop, &user).await;
    shop.set_status(&app, a, "shipped").await;
    shop.set_status(&app, a, "delivered").await;

    let app = app.restart().await;
    // Event ids keep increasing after a restart.
    shop.cancel(&app, &user.access, b).await;
    let missed = vec![
        status(a, "shipped"),
        status(a, "delivered"),
        status(b, "cancelled"),
    ];
    for mut client in resume_all(&app, &user, last).await {
        let events = client.next_events(3).await;
        assert_eq!(summary(&events), missed);
        assert_increasing(&ids(&events));
        assert!(ids(&events)[0] > last);
        client.expect_silence(SILENCE).await;
    }
    let listed = all_notifications(&app, &user).await;
    assert_eq!(summary(&listed[1..]), missed, "{listed:?}");
}

#[tokio::test]
async fn open_connections_do_not_hold_up_a_restart_and_resume_after_it() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;
    let mut ws = WsClient::connect(&app, &user.access, None).await;
    let mut sse = SseClient::connect(&app, &user.access, None).await;
    shop.set_status(&app, order, "shipped").await;
    let last = ws.try_next_event(EVENT_WAIT).await.unwrap();
    assert_eq!(sse.try_next_event(EVENT_WAIT).await.unwrap(), last);

    let started = Instant::now();
    let app = app.restart().await;
    let took = started.elapsed();
    drop((ws, sse));
    // Live connections end with the server instead of keeping it alive until the
    // shutdown timeout (10 s).
    assert!(
        took.as_secs() < 8,
        "restart with open live connections took {took:?}"
    );

    shop.set_status(&app, order, "delivered").await;
    let mut clients = resume_all(&app, &user, last["id"].as_u64().unwrap()).await;
    for client in &mut clients {
        assert_eq!(
            summary(&client.drain(SILENCE).await),
            vec![status(order, "delivered")]
        );
    }
}

#[tokio::test]
async fn last_event_id_zero_replays_all_of_the_users_events() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let (user, other) = (app.new_user().await, app.new_user().await);
    let (a, b) = (shop.order(&app, &user).await, shop.order(&app, &user).await);
    let others_order = shop.order(&app, &other).await;
    shop.set_status(&app, a, "shipped").await;
    shop.cancel(&app, &other.access, others_order).await;
    shop.set_status(&app, a, "delivered").await;
    shop.cancel(&app, &user.access, b).await;

    let all = vec![
        status(a, "shipped"),
        status(a, "delivered"),
        status(b, "cancelled"),
    ];
    for mut client in resume_all(&app, &user, 0).await {
        assert_eq!(summary(&client.drain(SILENCE).await), all);
    }
    // The admin's replay from 0 is the whole log, creations included.
    let mut admin = LiveClient::connect(Kind::Ws, &app, &shop.admin.access, Some(0)).await;
    assert_eq!(
        summary(&admin.drain(SILENCE).await),
        vec![
            created(a),
            created(b),
            created(others_order),
            status(a, "shipped"),
            status(others_order, "cancelled"),
            status(a, "delivered"),
            status(b, "cancelled"),
        ]
    );
}

#[tokio::test]
async fn resuming_from_the_newest_id_replays_nothing_then_goes_live() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;
    shop.set_status(&app, order, "shipped").await;
    let newest = all_notifications(&app, &user).await[0]["id"]
        .as_u64()
        .unwrap();
    let mut clients = resume_all(&app, &user, newest).await;
    for client in &mut clients {
        client.expect_silence(SILENCE).await;
    }
    shop.set_status(&app, order, "delivered").await;
    for client in &mut clients {
        let events = client.drain(SILENCE).await;
        assert_eq!(summary(&events), vec![status(order, "delivered")]);
        assert!(ids(&events)[0] > newest);
    }
}

#[tokio::test]
async fn resuming_while_events_flow_leaves_no_gap_and_no_duplicate() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(shop.order(&app, &user).await);
    }
    let writer = async {
        for &order in &orders {
            shop.set_status(&app, order, "shipped").await;
            shop.set_status(&app, order, "delivered").await;
        }
    };
    // Two clients that keep dropping their connection after a couple of events and resuming.
    let reader = |kind: Kind| {
        let (app, user) = (&app, &user);
        async move {
            let mut received: Vec<serde_json::Value> = Vec::new();
            let mut connections = 0;
            while received.len() < 16 {
                let last = received
                    .last()
                    .map(|e| e["id"].as_u64().unwrap())
                    .unwrap_or(0);
                let mut client = LiveClient::connect(kind, app, &user.access, Some(last)).await;
                connections += 1;
                for _ in 0..2 {
                    match client.try_next_event(EVENT_WAIT).await {
                        Some(event) => received.push(event),
                        None => break,
                    }
                }
            }
            (received, connections)
        }
    };
    let ((), (by_ws, ws_connections), (by_sse, sse_connections)) =
        tokio::join!(writer, reader(Kind::Ws), reader(Kind::Sse));
    assert!(ws_connections >= 8 && sse_connections >= 8);
    let truth = all_notifications(&app, &user).await;
    assert_eq!(truth.len(), 16);
    assert_eq!(ids(&by_ws), ids(&truth));
    assert_eq!(ids(&by_sse), ids(&truth));
    assert_eq!(summary(&by_ws), summary(&truth));
}
