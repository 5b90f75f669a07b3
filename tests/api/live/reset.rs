//! A resume point ahead of the event log (what a browser sends after a restore) is answered
//! with a `reset` event naming the newest id, then live events; never with silence.
use serde_json::Value;

use super::client::{Kind, LiveClient, SseClient, EVENT_WAIT};
use super::{status, summary, Shop};
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
        LiveClient::Sse(SseClient::open(sse_query).await.expect("SSE stream")),
    ]
}

/// The id of `user`'s newest event (their notification list is their part of the log).
async fn newest_of(app: &TestApp, user: &TestUser) -> u64 {
    let response = app
        .get("/api/notifications/?page_size=1", Some(&user.access))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["results"][0]["id"].as_u64().expect("an event")
}

#[tokio::test]
async fn a_resume_point_ahead_of_the_log_gets_a_reset_then_live_events() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;
    shop.set_status(&app, order, "shipped").await;
    // The shipment was the last event committed: the newest of the whole log.
    let newest = newest_of(&app, &user).await;

    let mut clients = Vec::new();
    for resume in [newest + 1000, u64::MAX] {
        for mut client in resume_all(&app, &user, resume).await {
            let reset = client.next_event(EVENT_WAIT).await;
            assert_eq!(reset["type"], "reset", "first after {resume}: {reset}");
            assert_eq!(reset["id"], newest, "{reset}");
            assert!(reset["detail"].is_string(), "{reset}");
            clients.push(client);
        }
    }
    shop.set_status(&app, order, "delivered").await;
    for client in &mut clients {
        let event = client.next_event(EVENT_WAIT).await;
        assert_eq!(summary(&[event]), vec![status(order, "delivered")]);
    }
}

#[tokio::test]
async fn a_resume_point_within_the_log_gets_no_reset() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;
    shop.set_status(&app, order, "shipped").await;
    let newest = newest_of(&app, &user).await;
    for mut client in resume_all(&app, &user, newest).await {
        client.expect_silence(super::client::SILENCE).await;
    }
}
