//! The last live event id kept in the browser: a reopened tab resumes from it.
use serde_json::{json, Value};

use super::super::cdp::Browser;
use super::super::{assert_clean, browser_available, log_in, shop, WAIT};
use super::{reopen, stored};
use crate::helpers::PASSWORD;

/// The tab is closed while the order is shipped; it is delivered meanwhile. Reopened, the page
/// resumes the live stream from the last event id this browser saw, so the change it missed
/// arrives (and is announced) without a reload.
#[tokio::test]
async fn a_reopened_tab_resumes_the_live_stream_from_the_last_event_id_seen() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
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
    let admin = &shop.admin.access;
    let move_to = |status: &'static str| {
        let path = format!("/api/orders/{order}/status/");
        async move {
            let moved = app
                .post(&path, Some(admin), json!({"status": status}))
                .await;
            assert_eq!(moved.status(), 200);
        }
    };

    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&app.address).await;
    log_in(&page, &shopper.email, PASSWORD, &format!("/orders/{order}")).await;
    page.wait_for(
        "document.body.dataset.liveTransport === 'ws'",
        WAIT,
        "the live connection",
    )
    .await;
    move_to("shipped").await;
    page.wait_for(
        "document.querySelector('#order-live').dataset.status === 'shipped'",
        WAIT,
        "shipped, live",
    )
    .await;
    let shipped: u64 = page
        .eval("document.body.dataset.lastEventId")
        .await
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(stored(&page).await["lastEventId"], shipped);
    assert_clean(&page, &[]);

    let page = reopen(&browser, page).await;
    move_to("delivered").await;
    page.goto("/").await;
    page.eval("window.__sameDocument = true").await;
    page.wait_for(
        &format!("document.querySelector('#announcer').textContent === 'Order #{order} is now delivered.'"),
        WAIT,
        "the missed change, announced",
    )
    .await;
    let delivered = stored(&page).await["lastEventId"].as_u64().unwrap();
    assert!(delivered > shipped, "{delivered} after {shipped}");
    assert_eq!(page.eval("window.__sameDocument").await, json!(true));
    let streams: Vec<String> = page
        .requested_urls()
        .into_iter()
        .filter(|u| u.contains("/ws/?last_event_id="))
        .collect();
    assert_eq!(
        streams
            .first()
            .map(|u| u.rsplit('=').next().unwrap().to_owned()),
        Some(shipped.to_string()),
        "resumed from the last event seen: {streams:?}"
    );
    page.wait_for(
        "document.querySelector('#unread-badge').textContent.startsWith('2')",
        WAIT,
        "both changes as notifications",
    )
    .await;

    // Nothing more to replay: the next page starts from the newest event.
    page.goto(&format!("/orders/{order}")).await;
    assert_eq!(page.text(".order-status .status").await, "delivered");
    page.wait_for(
        "document.body.dataset.liveTransport === 'ws'",
        WAIT,
        "the live connection",
    )
    .await;
    let streams: Vec<String> = page
        .requested_urls()
        .into_iter()
        .filter(|u| u.contains("/ws/?last_event_id="))
        .collect();
    assert!(
        streams.last().unwrap().ends_with(&format!("={delivered}")),
        "{streams:?}"
    );
    page.screenshot("local-live-resumed").await;
    assert_clean(&page, &[]);
}
