//! A live stream closes when its access token expires (WebSocket 4001, SSE `auth-expired`);
//! the page renews its session through the refresh cookie and reconnects with the fresh
//! access cookie, so updates keep arriving without a reload.
//!
//! The server's clock is moved past each token's lifetime (no sleeping). The page has no
//! timer of its own for expiry: the server closing the stream is what drives the renewal, and
//! the browser still holds the (real-time) access cookie, so only the server's refusal makes
//! it spend the refresh token.
use serde_json::{json, Value};
use std::time::Duration;

use super::cdp::Browser;
use super::{assert_clean, browser_available, log_in, shop_with, WAIT};
use crate::helpers::PASSWORD;

/// An access token's lifetime here, and how far the clock moves to outlive one.
const TTL_SECONDS: u64 = 60;

async fn the_page_outlives_its_access_tokens(block_websocket: bool) {
    let shop = shop_with(|s| s.access_ttl_seconds = TTL_SECONDS as i64).await;
    let app = &shop.app;
    let shopper = app.new_user().await;
    app.add_to_cart(&shopper, shop.espresso, 1).await;
    let placed: Value = app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let order = placed["id"].as_u64().unwrap();

    let (browser, _slot) = Browser::launch().await;
    let page = match block_websocket {
        true => browser.new_context_without_websocket(&app.address).await,
        false => browser.new_context(&app.address).await,
    };
    log_in(&page, &shopper.email, PASSWORD, &format!("/orders/{order}")).await;
    let (transport, stream_path) = match block_websocket {
        true => ("sse", "/api/events/?last_event_id="),
        false => ("ws", "/ws/?last_event_id="),
    };
    let connected = format!("document.body.dataset.liveTransport === '{transport}'");
    page.wait_for(&connected, WAIT, "the live connection").await;
    page.eval("window.__sameDocument = true").await;

    // Two access tokens' lifetimes: each time the server closes the stream, the page renews
    // its session and reconnects.
    for _ in 0..2 {
        app.clock.advance(Duration::from_secs(TTL_SECONDS + 1));
        page.wait_for(
            "document.body.dataset.liveTransport === 'reconnecting'",
            WAIT,
            "the stream closed for the expired token",
        )
        .await;
        page.wait_for(&connected, WAIT, "the renewed live connection")
            .await;
    }
    let admin = app.admin().await;
    let shipped = app
        .post(
            &format!("/api/orders/{order}/status/"),
            Some(&admin.access),
            json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(shipped.status(), 200);
    page.wait_for(
        "document.querySelector('#order-live').dataset.status === 'shipped'",
        WAIT,
        "the change, live, over the renewed stream",
    )
    .await;
    assert_eq!(page.eval("window.__sameDocument").await, json!(true));
    let urls = page.requested_urls();
    let streams = urls.iter().filter(|u| u.contains(stream_path)).count();
    assert!(streams >= 3, "reconnected after each expiry: {urls:?}");
    assert!(
        urls.iter().any(|u| u.ends_with("/account/session")),
        "the session was renewed before reconnecting"
    );
    assert_eq!(page.text("a[href='/account']").await, "Account");
    assert_clean(&page, &["WebSocket connection to", "ERR_"]);
}

#[tokio::test]
async fn a_websocket_closed_for_an_expired_token_reconnects_with_a_fresh_one() {
    if browser_available() {
        the_page_outlives_its_access_tokens(false).await;
    }
}

#[tokio::test]
async fn an_event_stream_ended_for_an_expired_token_reconnects_with_a_fresh_one() {
    if browser_available() {
        the_page_outlives_its_access_tokens(true).await;
    }
}
