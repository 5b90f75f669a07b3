//! `parallel: true` lets a webhook's deliveries overlap (out of order); the default stays one
//! at a time in event order.
use serde_json::{json, Value};
use std::time::Duration;

use super::receiver::Receiver;
use super::{place_order, quick_retries};
use crate::helpers::{TestApp, TestUser};

async fn create(app: &TestApp, admin: &TestUser, url: &str, parallel: Option<bool>) -> u64 {
    let mut body = json!({"url": url, "events": ["order.created"], "active": false});
    if let Some(parallel) = parallel {
        body["parallel"] = json!(parallel);
    }
    let created = app.post("/api/webhooks/", Some(&admin.access), body).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["parallel"], json!(parallel.unwrap_or(false)));
    created["id"].as_u64().unwrap()
}

fn event_ids(receiver: &Receiver) -> Vec<u64> {
    let received = receiver.received();
    received
        .iter()
        .map(|r| r.json()["data"]["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_parallel_webhook_overlaps_deliveries_and_an_ordered_one_keeps_event_order() {
    let slow = Duration::from_millis(300);
    let (fast_lane, one_by_one) = (
        Receiver::start_with(0, slow).await,
        Receiver::start_with(0, slow).await,
    );
    let app = TestApp::spawn_with(quick_retries).await;
    let admin = app.admin().await;
    // Created inactive: the orders below wait in the log, then both start with all of them.
    let parallel = create(&app, &admin, &fast_lane.url, Some(true)).await;
    let ordered = create(&app, &admin, &one_by_one.url, None).await;
    for _ in 0..8 {
        place_order(&app, &admin).await;
    }
    for hook in [parallel, ordered] {
        let path = format!("/api/webhooks/{hook}/");
        let on = app
            .patch(&path, Some(&admin.access), json!({"active": true}))
            .await;
        assert_eq!(on.status(), 200);
    }
    fast_lane.wait_for(8, Duration::from_secs(10)).await;
    one_by_one.wait_for(8, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;

    let ordered_ids = event_ids(&one_by_one);
    let mut sorted = ordered_ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ordered_ids, sorted, "ordered: each once, in event order");
    assert_eq!(
        one_by_one.most_at_once(),
        1,
        "ordered: one request at a time"
    );
    let mut parallel_ids = event_ids(&fast_lane);
    parallel_ids.sort();
    assert_eq!(parallel_ids, sorted, "parallel: the same events, each once");
    assert!(fast_lane.most_at_once() > 1, "parallel requests overlapped");

    // Switching it off again is an ordinary update.
    let path = format!("/api/webhooks/{parallel}/");
    let off: Value = app
        .patch(&path, Some(&admin.access), json!({"parallel": false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(off["parallel"], false);
    let bad = app
        .patch(&path, Some(&admin.access), json!({"parallel": "yes"}))
        .await;
    assert_eq!(bad.status(), 400);
}
