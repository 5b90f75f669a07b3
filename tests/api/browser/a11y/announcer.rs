//! A live status change is spoken once: one polite announcement ("Order #N is now shipped.")
//! from the page's single announcer, while the swapped order card, not being a live region
//! itself, is not read again. Checked on the shopper's and the admin's order page.
use serde_json::{json, Value};

use super::super::cdp::{Browser, Page};
use super::super::{assert_clean, browser_available, log_in, shop, WAIT};
use super::{move_order, place_order};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD};

/// Records every change inside a live region (aria-live, or a role that implies it), by the
/// region's id: what a screen reader would speak. Run again, it starts a new record.
const WATCH: &str = r#"(() => {
  window.__spoken = [];
  if (window.__watching) return true;
  window.__watching = true;
  const live = '[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]';
  new MutationObserver(changes => changes.forEach(c => {
    const node = c.target.nodeType === 1 ? c.target : c.target.parentElement;
    const region = node && node.closest(live);
    if (region) window.__spoken.push({region: region.id, text: region.textContent.trim()});
  })).observe(document.body, {subtree: true, childList: true, characterData: true});
  return true;
})()"#;

/// The page's live regions, their politeness, and whether the order card is inside one.
async fn assert_one_polite_announcer(page: &Page, card: &str) {
    let announcer = page
        .eval("(() => { const a = document.querySelectorAll('#announcer'); const e = a[0]; return [a.length, e.getAttribute('role'), e.getAttribute('aria-live'), getComputedStyle(e).clip]; })()")
        .await;
    assert_eq!(announcer[0], 1, "one announcer");
    assert_eq!(announcer[1], "status");
    assert_eq!(announcer[2], "polite");
    assert_ne!(announcer[3], "auto", "the announcer is visually hidden");
    let js = format!("document.querySelector('{card}').closest('[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]')");
    assert_eq!(
        page.eval(&js).await,
        Value::Null,
        "{card} is in a live region"
    );
}

/// Waits for the card to show `status`; then the only speech was the announcer, once.
async fn assert_announced_once(page: &Page, card: &str, order: u64, status: &str) {
    let condition = format!("document.querySelector('{card}').dataset.status === '{status}'");
    page.wait_for(&condition, WAIT, status).await;
    page.htmx_idle().await;
    let spoken = page.eval("window.__spoken").await;
    let expected = format!("Order #{order} is now {status}.");
    assert_eq!(
        spoken,
        json!([{"region": "announcer", "text": expected}]),
        "spoken when the order became {status}"
    );
    assert_eq!(page.text("#announcer").await, expected);
}

async fn watch_order_page(page: &Page, path: &str, card: &str) {
    page.goto(path).await;
    page.wait_for(
        "document.body.dataset.liveTransport === 'ws'",
        WAIT,
        "the live connection",
    )
    .await;
    assert_one_polite_announcer(page, card).await;
}

#[tokio::test]
async fn a_live_status_change_is_announced_once_on_the_shopper_and_admin_order_pages() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let shopper = shop.app.new_user().await;
    let order = place_order(&shop, &shopper).await;
    let (browser, _slot) = Browser::launch().await;
    let shopper_page = browser.new_context(&shop.app.address).await;
    log_in(&shopper_page, &shopper.email, PASSWORD, "/").await;
    let admin_page = browser.new_context(&shop.app.address).await;
    log_in(&admin_page, &shop.admin.email, ADMIN_PASSWORD, "/admin").await;

    let path = format!("/orders/{order}");
    watch_order_page(&shopper_page, &path, "#order-live").await;
    let admin_path = format!("/admin/orders/{order}");
    watch_order_page(&admin_page, &admin_path, "#admin-order").await;
    for status in ["shipped", "delivered"] {
        shopper_page.eval(WATCH).await;
        admin_page.eval(WATCH).await;
        move_order(&shop, order, status).await;
        assert_announced_once(&shopper_page, "#order-live", order, status).await;
        assert_announced_once(&admin_page, "#admin-order", order, status).await;
    }
    assert_clean(&shopper_page, &[]);
    assert_clean(&admin_page, &[]);
}
