//! The order page updates live when an admin (another browser context) ships the order:
//! over WebSocket, and over SSE when WebSocket is blocked.
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use super::cdp::Browser;
use super::proxy::passing_proxy;
use super::{assert_clean, browser_available, log_in, shop, shop_with, WAIT};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD};

async fn admin_ships_while_the_shopper_watches(block_websocket: bool, name: &str) {
    let shop = shop().await;
    let app = &shop.app;
    let shopper = app.new_user().await;
    app.add_to_cart(&shopper, shop.espresso, 2).await;
    app.add_to_cart(&shopper, shop.papers, 1).await;
    let placed = app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await;
    assert_eq!(placed.status(), 201);
    let order = placed.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();

    let (browser, _slot) = Browser::launch().await;
    // With WebSocket blocked, every attempt fails before it opens; plain HTTP still goes through.
    let watcher = match block_websocket {
        true => browser.new_context_without_websocket(&app.address).await,
        false => browser.new_context(&app.address).await,
    };
    log_in(
        &watcher,
        &shopper.email,
        PASSWORD,
        &format!("/orders/{order}"),
    )
    .await;
    let transport = if block_websocket { "sse" } else { "ws" };
    watcher
        .wait_for(
            &format!("document.body.dataset.liveTransport === '{transport}'"),
            WAIT,
            "the live connection",
        )
        .await;
    assert_eq!(
        watcher
            .eval("document.querySelector('#order-live').dataset.status")
            .await,
        json!("pending")
    );
    watcher.eval("window.__sameDocument = true").await;

    let admin = browser.new_context(&app.address).await;
    log_in(
        &admin,
        &shop.admin.email,
        ADMIN_PASSWORD,
        &format!("/admin/orders/{order}"),
    )
    .await;
    admin.click("button[data-action=shipped]").await;
    admin
        .wait_for(
            "document.querySelector('#admin-order').dataset.status === 'shipped'",
            WAIT,
            "the admin page to show shipped",
        )
        .await;
    let shipped_at = Instant::now();

    // The shopper's open page shows it without a reload, within 2 s of the admin's click landing.
    watcher
        .wait_for(
            "document.querySelector('#order-live').dataset.status === 'shipped'",
            Duration::from_secs(2),
            "shipped on the shopper's page",
        )
        .await;
    let took = shipped_at.elapsed();
    assert_eq!(
        watcher.eval("window.__sameDocument").await,
        json!(true),
        "the order page was reloaded"
    );
    assert_eq!(
        watcher.eval("document.body.dataset.liveTransport").await,
        json!(transport)
    );
    assert_eq!(watcher.text(".order-status .status").await, "shipped");
    assert_eq!(
        watcher
            .eval("document.querySelectorAll('.step.done').length")
            .await,
        json!(2)
    );
    // Screen readers hear it once, from the announcer (the swapped region is not aria-live).
    assert_eq!(
        watcher.text("#announcer").await,
        format!("Order #{order} is now shipped.")
    );
    // The unread badge followed (the same event, on every page with a badge).
    watcher
        .wait_for(
            "document.querySelector('#unread-badge').textContent.startsWith('1')",
            WAIT,
            "one unread notification",
        )
        .await;
    eprintln!("{name}: shipped reached the shopper {took:?} after the admin's page showed it");

    watcher.screenshot(&format!("{name}-shopper")).await;
    admin.screenshot(&format!("{name}-admin")).await;
    assert_clean(&watcher, &[]);
    assert_clean(&admin, &[]);
    if block_websocket {
        let attempts = watcher.eval("window.__blockedWebSockets").await;
        assert!(
            attempts.as_u64().unwrap_or(0) >= 1,
            "the page tried WebSocket first, and it failed ({attempts} attempts)"
        );
        let urls = watcher.requested_urls();
        let sockets: Vec<&String> = urls.iter().filter(|u| u.starts_with("ws")).collect();
        assert!(sockets.is_empty(), "a WebSocket connected: {sockets:?}");
        let streams = urls.iter().filter(|u| u.contains("/api/events")).count();
        assert!(streams >= 1, "the page fell back to SSE");
    }
}

#[tokio::test]
async fn admin_ships_and_the_shoppers_open_order_page_shows_it_live_over_websocket() {
    if browser_available() {
        admin_ships_while_the_shopper_watches(false, "live-websocket").await;
    }
}

#[tokio::test]
async fn with_websocket_blocked_the_order_page_falls_back_to_sse_and_still_updates_live() {
    if browser_available() {
        admin_ships_while_the_shopper_watches(true, "live-sse-fallback").await;
    }
}

/// New orders appear on the admin dashboard as they are placed, counts included.
#[tokio::test]
async fn new_orders_appear_live_on_the_admin_dashboard() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let app = &shop.app;
    let (browser, _slot) = Browser::launch().await;
    let admin = browser.new_context(&app.address).await;
    log_in(&admin, &shop.admin.email, ADMIN_PASSWORD, "/admin").await;
    admin
        .wait_for(
            "document.body.dataset.liveTransport === 'ws'",
            WAIT,
            "the live connection",
        )
        .await;
    assert_eq!(admin.text(".stat-pending .stat-count").await, "0");
    admin.eval("window.__sameDocument = true").await;

    let shopper = app.new_user().await;
    app.add_to_cart(&shopper, shop.espresso, 1).await;
    let placed: Value = app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let order = placed["id"].as_u64().unwrap();
    admin
        .wait_for(
            &format!("!!document.querySelector(\"#recent-orders tr[data-order-id='{order}']\")"),
            WAIT,
            "the new order on the dashboard",
        )
        .await;
    assert_eq!(admin.text(".stat-pending .stat-count").await, "1");
    assert_eq!(admin.eval("window.__sameDocument").await, json!(true));
    admin.screenshot("live-admin-dashboard").await;
    assert_clean(&admin, &[]);
}

/// The network drops (every connection cut) for longer than an access token lives; the order
/// moves on meanwhile. Back online, the page renews its session (the refresh token rotates),
/// reconnects from its last event id and shows every change it missed, without a reload.
#[tokio::test]
async fn after_a_dropped_connection_the_page_resumes_from_its_last_event_id() {
    if !browser_available() {
        return;
    }
    let shop = shop_with(|s| s.access_ttl_seconds = 60).await;
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
    let network = passing_proxy().await;
    let page = browser
        .new_context_behind_proxy(&app.address, network.port)
        .await;
    log_in(&page, &shopper.email, PASSWORD, &format!("/orders/{order}")).await;
    page.wait_for(
        "document.body.dataset.liveTransport === 'ws'",
        WAIT,
        "the live connection",
    )
    .await;
    page.eval("window.__sameDocument = true").await;

    // The clock moves past tokens' lifetimes below: the admin signs in for each change.
    let move_to = |status: &'static str| {
        let path = format!("/api/orders/{order}/status/");
        async move {
            let admin = app.admin().await;
            let moved = app
                .post(&path, Some(&admin.access), json!({"status": status}))
                .await;
            assert_eq!(moved.status(), 200);
        }
    };
    move_to("shipped").await;
    page.wait_for(
        "document.querySelector('#order-live').dataset.status === 'shipped'",
        WAIT,
        "shipped, live",
    )
    .await;
    let seen = page.eval("document.body.dataset.lastEventId").await;

    network.set_offline(true);
    page.wait_for(
        "document.body.dataset.liveTransport !== 'ws'",
        WAIT,
        "the connection to drop",
    )
    .await;
    move_to("delivered").await;
    assert_eq!(
        page.eval("document.querySelector('#order-live').dataset.status")
            .await,
        json!("shipped")
    );
    // The server's clock passes the access token's lifetime (not real time: the browser keeps
    // the cookie, the server refuses it): reconnecting needs the refresh token.
    app.clock.advance(Duration::from_secs(61));

    network.set_offline(false);
    page.wait_for(
        "document.querySelector('#order-live').dataset.status === 'delivered'",
        WAIT,
        "the missed changes",
    )
    .await;
    assert_eq!(
        page.eval("document.querySelectorAll('.step.done').length")
            .await,
        json!(3)
    );
    page.wait_for(
        "document.querySelector('#unread-badge').textContent.startsWith('2')",
        WAIT,
        "both changes as notifications",
    )
    .await;
    assert_eq!(page.eval("window.__sameDocument").await, json!(true));
    let resumed: Vec<String> = page
        .requested_urls()
        .into_iter()
        .filter(|u| u.contains("/ws/?last_event_id="))
        .collect();
    let last = resumed.last().cloned().unwrap_or_default();
    assert!(
        resumed.len() >= 2 && last.ends_with(&format!("last_event_id={}", seen.as_str().unwrap())),
        "reconnected after the last event seen ({seen}): {resumed:?}"
    );
    assert!(
        page.requested_urls()
            .iter()
            .any(|u| u.ends_with("/account/session")),
        "the session was checked"
    );
    assert_eq!(
        page.text("a[href='/account']").await,
        "Account",
        "still signed in"
    );
    page.screenshot("live-resumed-after-outage").await;
    assert_clean(
        &page,
        &["WebSocket connection to", "ERR_", "Failed to fetch"],
    );
}
