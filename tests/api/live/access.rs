//! Who may open a live stream, and how bad parameters are refused (before any upgrade).
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::client::{LiveClient, SseClient, WsClient, EVENT_WAIT, SILENCE};
use super::{status, summary, Shop};
use crate::helpers::TestApp;

async fn ws_status(app: &TestApp, query: &str) -> u16 {
    WsClient::refused_status(app.ws_url(&format!("/ws/{query}"))).await
}

async fn sse_status(app: &TestApp, query: &str, header: Option<(&str, &str)>) -> u16 {
    let mut request = app.client.get(app.url(&format!("/api/events/{query}")));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    match SseClient::open(request).await {
        Ok(_) => 200,
        Err(code) => code,
    }
}

#[tokio::test]
async fn missing_or_bad_tokens_are_refused_with_401_before_the_upgrade() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let tampered = format!("{}x", user.access);
    for query in [
        "",
        "?token=",
        "?token=not-a-jwt",
        &format!("?token={tampered}"),
        &format!("?token={}", user.refresh),
    ] {
        assert_eq!(ws_status(&app, query).await, 401, "WS {query:?}");
        assert_eq!(sse_status(&app, query, None).await, 401, "SSE {query:?}");
    }
    let bearer = format!("Bearer {tampered}");
    assert_eq!(
        sse_status(&app, "", Some(("Authorization", &bearer))).await,
        401
    );
    let mut request = app.ws_url("/ws/").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Authorization", HeaderValue::from_str(&bearer).unwrap());
    assert_eq!(WsClient::refused_status(request).await, 401);
}

#[tokio::test]
async fn an_expired_access_token_is_refused_with_401() {
    let app = TestApp::spawn_with(|s| s.access_ttl_seconds = 60).await;
    let user = app.new_user().await;
    // The server's clock passes the token's `exp`; real time does not.
    app.clock.advance(Duration::from_secs(61));
    let query = format!("?token={}", user.access);
    assert_eq!(ws_status(&app, &query).await, 401);
    assert_eq!(sse_status(&app, &query, None).await, 401);
    let bearer = format!("Bearer {}", user.access);
    assert_eq!(
        sse_status(&app, "", Some(("Authorization", &bearer))).await,
        401
    );
}

#[tokio::test]
async fn a_malformed_last_event_id_is_refused_with_400() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let token = &user.access;
    for bad in ["abc", "-1", "1.5", "18446744073709551616", "1%202"] {
        let query = format!("?token={token}&last_event_id={bad}");
        assert_eq!(ws_status(&app, &query).await, 400, "WS last_event_id={bad}");
        assert_eq!(
            sse_status(&app, &query, None).await,
            400,
            "SSE last_event_id={bad}"
        );
    }
    for bad in ["abc", "-1", "7x"] {
        let query = format!("?token={token}");
        assert_eq!(
            sse_status(&app, &query, Some(("Last-Event-ID", bad))).await,
            400,
            "Last-Event-ID: {bad}"
        );
    }
    // The problem detail names the parameter.
    let response = app
        .get(
            &format!("/api/events/?token={token}&last_event_id=abc"),
            None,
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("last_event_id"));
}

#[tokio::test]
async fn the_session_cookie_and_the_authorization_header_open_streams_too() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;

    let mut by_cookie = app.ws_url("/ws/").into_client_request().unwrap();
    let cookie = format!("os_access={}", user.access);
    by_cookie
        .headers_mut()
        .insert("Cookie", HeaderValue::from_str(&cookie).unwrap());
    let mut by_header = app.ws_url("/ws/").into_client_request().unwrap();
    let bearer = format!("Bearer {}", user.access);
    by_header
        .headers_mut()
        .insert("Authorization", HeaderValue::from_str(&bearer).unwrap());
    let sse_by_header = app
        .client
        .get(app.url("/api/events/"))
        .bearer_auth(&user.access);
    let sse_by_cookie = app
        .client
        .get(app.url("/api/events/"))
        .header("Cookie", &cookie);

    let mut clients = vec![
        LiveClient::Ws(
            WsClient::connect_request(by_cookie)
                .await
                .expect("WS by cookie"),
        ),
        LiveClient::Ws(
            WsClient::connect_request(by_header)
                .await
                .expect("WS by header"),
        ),
        LiveClient::Sse(SseClient::open(sse_by_header).await.expect("SSE by header")),
        LiveClient::Sse(SseClient::open(sse_by_cookie).await.expect("SSE by cookie")),
    ];
    shop.set_status(&app, order, "shipped").await;
    for client in &mut clients {
        assert_eq!(
            summary(&[client.next_event(EVENT_WAIT).await]),
            vec![status(order, "shipped")]
        );
        client.expect_silence(SILENCE).await;
    }
}
