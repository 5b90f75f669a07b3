//! An open stream lives no longer than its credentials: it closes when its access token
//! expires, is revoked by a logout, or is outdated by a password change (WebSocket close code
//! 4001, SSE a final `auth-expired` event), while the user's other streams go on.
use serde_json::{json, Value};
use std::time::Duration;

use super::client::{SseClient, WsClient, EVENT_WAIT};
use super::{status, summary, Shop};
use crate::helpers::{TestApp, TestUser, PASSWORD};

const CREDENTIALS_CLOSE: u16 = 4001;

async fn assert_ws_closed(ws: &mut WsClient, wait: Duration) {
    let (code, reason) = ws.closed_with(wait).await.expect("the WebSocket closed");
    assert_eq!(code, CREDENTIALS_CLOSE, "close code ({reason})");
    assert!(!reason.is_empty(), "a close reason");
}

async fn assert_sse_ended(sse: &mut SseClient, wait: Duration, reason: &str) {
    let frame = sse.try_next_frame(wait).await.expect("a final SSE event");
    assert_eq!(frame.event.as_deref(), Some("auth-expired"), "{frame:?}");
    let data: Value = serde_json::from_str(&frame.data.join("\n")).unwrap();
    assert_eq!(data["reason"], reason, "{data}");
    assert!(sse.ends_within(EVENT_WAIT).await, "the SSE stream ended");
}

/// A second sign-in of `user`: another access token of the same account.
async fn second_token(app: &TestApp, user: &TestUser) -> (String, String) {
    app.login(&user.email, PASSWORD).await
}

/// The server's clock passes `exp` (no sleeping): the open streams close at once, though
/// their real-time timers would wait another minute.
#[tokio::test]
async fn streams_close_when_their_access_token_expires() {
    let app = TestApp::spawn_with(|s| s.access_ttl_seconds = 60).await;
    let user = app.new_user().await;
    let mut ws = WsClient::connect(&app, &user.access, None).await;
    let mut sse = SseClient::connect(&app, &user.access, None).await;
    // Not before the token's time: within its lifetime the streams stay open.
    app.clock.advance(Duration::from_secs(58));
    assert!(ws.closed_with(Duration::from_millis(300)).await.is_none());
    app.clock.advance(Duration::from_secs(3));
    assert_ws_closed(&mut ws, EVENT_WAIT).await;
    assert_sse_ended(&mut sse, EVENT_WAIT, "expired").await;
    // A fresh token opens a new stream.
    let (fresh, _) = app.login(&user.email, PASSWORD).await;
    let mut again = WsClient::connect(&app, &fresh, None).await;
    assert!(again
        .closed_with(Duration::from_millis(300))
        .await
        .is_none());
}

#[tokio::test]
async fn logout_closes_the_streams_of_the_revoked_token_only() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let order = shop.order(&app, &user).await;
    let (other_access, _) = second_token(&app, &user).await;
    let mut ws = WsClient::connect(&app, &user.access, None).await;
    let mut sse = SseClient::connect(&app, &user.access, None).await;
    let mut other_device = WsClient::connect(&app, &other_access, None).await;

    let logout = app
        .post(
            "/api/auth/logout/",
            Some(&user.access),
            json!({"refresh": user.refresh}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    assert_ws_closed(&mut ws, EVENT_WAIT).await;
    assert_sse_ended(&mut sse, EVENT_WAIT, "revoked").await;

    // The other device's token was not revoked: its stream still delivers.
    shop.set_status(&app, order, "shipped").await;
    let event = other_device
        .try_next_event(EVENT_WAIT)
        .await
        .expect("event");
    assert_eq!(summary(&[event]), vec![status(order, "shipped")]);
}

#[tokio::test]
async fn a_password_change_closes_every_stream_of_the_user() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let (user, bystander) = (app.new_user().await, app.new_user().await);
    let bystanders_order = shop.order(&app, &bystander).await;
    let (other_access, _) = second_token(&app, &user).await;
    let mut ws = WsClient::connect(&app, &user.access, None).await;
    let mut sse = SseClient::connect(&app, &other_access, None).await;
    let mut unrelated = WsClient::connect(&app, &bystander.access, None).await;

    let changed = app
        .post(
            "/api/me/password/",
            Some(&user.access),
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_ws_closed(&mut ws, EVENT_WAIT).await;
    assert_sse_ended(&mut sse, EVENT_WAIT, "revoked").await;

    // Another user's stream is untouched.
    shop.set_status(&app, bystanders_order, "shipped").await;
    let event = unrelated.try_next_event(EVENT_WAIT).await.expect("event");
    assert_eq!(summary(&[event]), vec![status(bystanders_order, "shipped")]);
}
