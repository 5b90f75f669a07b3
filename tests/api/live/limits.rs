//! Live connection limits: per user (WS and SSE together) → 429, for the whole server → 503,
//! both as problem+json with Retry-After before any upgrade; a closed stream frees its place.
use std::time::Duration;
use tokio_tungstenite::tungstenite;

use super::client::{live_query, SseClient, WsClient};
use crate::helpers::{TestApp, TestUser};

/// Status, Retry-After and problem body of a refused WebSocket handshake.
async fn refused_ws(app: &TestApp, user: &TestUser) -> (u16, String, serde_json::Value) {
    let url = app.ws_url(&format!("/ws/{}", live_query(&user.access, None)));
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(response)) => {
            let retry = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .to_owned();
            let body = response.body().clone().unwrap_or_default();
            let problem = serde_json::from_slice(&body).expect("a problem+json body");
            (response.status().as_u16(), retry, problem)
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

async fn refused_sse(app: &TestApp, user: &TestUser) -> u16 {
    let response = app
        .client
        .get(app.url("/api/events/"))
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    assert!(response.headers().contains_key("retry-after"));
    response.status().as_u16()
}

/// Opens a WebSocket for `user` as soon as a place is free (closing is noticed asynchronously).
async fn connect_when_free(app: &TestApp, user: &TestUser) -> WsClient {
    let url = app.ws_url(&format!("/ws/{}", live_query(&user.access, None)));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match WsClient::connect_request(url.as_str()).await {
            Ok(client) => return client,
            Err(tungstenite::Error::Http(r)) if r.status() == 429 || r.status() == 503 => {
                assert!(tokio::time::Instant::now() < deadline, "no place was freed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("{other}"),
        }
    }
}

#[tokio::test]
async fn one_user_gets_429_past_the_per_user_limit_and_a_closed_stream_frees_its_place() {
    // Closed SSE streams are noticed at the next write: keep-alives every second.
    let app = TestApp::spawn_with(|s| {
        s.max_live_connections_per_user = 3;
        s.sse_keepalive_seconds = 1;
    })
    .await;
    let user = app.new_user().await;
    let bystander = app.new_user().await;
    let first = WsClient::connect(&app, &user.access, None).await;
    let sse = SseClient::connect(&app, &user.access, None).await;
    let _third = WsClient::connect(&app, &user.access, None).await;

    let (status, retry_after, problem) = refused_ws(&app, &user).await;
    assert_eq!(status, 429);
    assert!(retry_after.parse::<u64>().unwrap() >= 1);
    assert_eq!(problem["status"], 429);
    assert!(
        problem["detail"].as_str().unwrap().contains('3'),
        "{problem}"
    );
    assert_eq!(
        refused_sse(&app, &user).await,
        429,
        "WS and SSE count together"
    );
    // Another user is not affected.
    WsClient::connect(&app, &bystander.access, None)
        .await
        .close()
        .await;

    first.close().await;
    let replacement = connect_when_free(&app, &user).await;
    assert_eq!(
        refused_ws(&app, &user).await.0,
        429,
        "the freed place is taken again"
    );
    drop(sse);
    let _another = connect_when_free(&app, &user).await;
    replacement.close().await;
}

#[tokio::test]
async fn the_server_wide_limit_answers_503_until_a_stream_closes() {
    let app = TestApp::spawn_with(|s| s.max_live_connections = 2).await;
    let (a, b) = (app.new_user().await, app.new_user().await);
    let first = WsClient::connect(&app, &a.access, None).await;
    let _second = SseClient::connect(&app, &a.access, None).await;
    let (status, _, problem) = refused_ws(&app, &b).await;
    assert_eq!((status, problem["status"].as_u64()), (503, Some(503)));
    assert_eq!(refused_sse(&app, &b).await, 503);
    first.close().await;
    connect_when_free(&app, &b).await.close().await;
}
