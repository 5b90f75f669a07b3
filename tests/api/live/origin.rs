//! Cross-site WebSocket hijacking: an upgrade (or SSE stream) from another site's page is
//! refused with 403 before any upgrade; the site's own origin and `allowed_origins` connect.
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::client::{SseClient, WsClient};
use crate::helpers::{TestApp, TestUser};

/// A handshake signed in by the session cookie, as a browser sends it, from `origin`.
fn upgrade_from(app: &TestApp, user: &TestUser, origin: &str) -> Request {
    let mut request = app.ws_url("/ws/").into_client_request().unwrap();
    let headers = request.headers_mut();
    let cookie = format!("os_access={}", user.access);
    headers.insert("Cookie", HeaderValue::from_str(&cookie).unwrap());
    headers.insert("Origin", HeaderValue::from_str(origin).unwrap());
    request
}

async fn sse_status_from(app: &TestApp, user: &TestUser, origin: &str) -> u16 {
    let request = app
        .client
        .get(app.url("/api/events/"))
        .header("Cookie", format!("os_access={}", user.access))
        .header("Origin", origin);
    match SseClient::open(request).await {
        Ok(_) => 200,
        Err(code) => code,
    }
}

#[tokio::test]
async fn an_upgrade_from_another_origin_is_refused_and_the_own_origin_connects() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let foreign = [
        format!("http://127.0.0.1:{}", app.port.wrapping_add(1)),
        "http://evil.example".to_owned(),
        format!("https://127.0.0.1:{}", app.port),
        "null".to_owned(),
    ];
    for origin in &foreign {
        let refused = WsClient::refused_status(upgrade_from(&app, &user, origin)).await;
        assert_eq!(refused, 403, "WS from {origin}");
        assert_eq!(
            sse_status_from(&app, &user, origin).await,
            403,
            "SSE from {origin}"
        );
    }
    // A token in the query does not make a foreign page's socket acceptable either.
    let mut by_token = app
        .ws_url(&format!("/ws/?token={}", user.access))
        .into_client_request()
        .unwrap();
    by_token
        .headers_mut()
        .insert("Origin", HeaderValue::from_static("http://evil.example"));
    assert_eq!(WsClient::refused_status(by_token).await, 403);

    let own = WsClient::connect_request(upgrade_from(&app, &user, &app.address)).await;
    own.expect("the site's own origin upgrades (101)")
        .close()
        .await;
    assert_eq!(sse_status_from(&app, &user, &app.address).await, 200);
}

#[tokio::test]
async fn allowed_origins_may_open_live_streams() {
    let app = TestApp::spawn_with(|s| {
        s.allowed_origins = vec![
            "https://admin.example".into(),
            "http://localhost:3000".into(),
        ]
    })
    .await;
    let user = app.new_user().await;
    for origin in ["https://admin.example", "http://localhost:3000"] {
        let socket = WsClient::connect_request(upgrade_from(&app, &user, origin)).await;
        socket
            .expect("an allowed origin upgrades (101)")
            .close()
            .await;
    }
    let other = upgrade_from(&app, &user, "https://other.example");
    assert_eq!(WsClient::refused_status(other).await, 403);
}
