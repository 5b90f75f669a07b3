//! The shop with the keyboard alone (Tab, Shift+Tab, Enter, Space; letters only to type into
//! fields): register, add to cart, check out; an admin ships an order. At every stop the focus
//! is visible, and after every htmx swap it is still on a sensible element, never on <body>.
use serde_json::json;

use super::super::cdp::{Browser, Page};
use super::super::{assert_clean, browser_available, log_in, shop, WAIT};
use super::axe::screenshots_dir;
use super::keys::{assert_focus_visible, focus_matches, press, tab_to, type_text, ENTER, SPACE};
use super::place_order;
use crate::helpers::{ADMIN_PASSWORD, PASSWORD};

/// Tabs to the field and types `text` into it.
async fn fill(page: &Page, selector: &str, text: &str) {
    tab_to(page, selector, false).await;
    type_text(page, text).await;
}

/// A screenshot beside the axe ones, showing where the focus ring is.
async fn shot(page: &Page, name: &str) {
    page.screenshot_in(&screenshots_dir(), &format!("keyboard-{name}"))
        .await;
}

/// After an htmx swap: the focus is visible and on `selector`.
async fn focus_kept_on(page: &Page, selector: &str, when: &str) {
    page.htmx_idle().await;
    let name = assert_focus_visible(page, when).await;
    assert!(
        focus_matches(page, selector).await,
        "{when}: the focus is on {name}, not on {selector}"
    );
}

async fn register(page: &Page) {
    page.goto("/register").await;
    fill(page, "#f-name", "Kay Board").await;
    fill(page, "#f-email", "kay@example.com").await;
    fill(page, "#f-password", PASSWORD).await;
    page.expect_load(press(page, &ENTER, false)).await;
    assert_eq!(page.path().await, "/");
    assert_eq!(page.text("a[href='/account']").await, "Kay Board");
}

async fn add_to_cart(page: &Page, product: u64) {
    let button = format!("li[data-product-id='{product}'] button[type=submit]");
    tab_to(page, &button, false).await;
    press(page, &ENTER, false).await;
    page.wait_for(
        "document.querySelector('#cart-count').textContent.startsWith('1')",
        WAIT,
        "one item in the cart",
    )
    .await;
    focus_kept_on(page, &button, "after adding to the cart").await;
}

/// Changes a quantity (Enter in the field, then Space on "Update") and places the order.
async fn check_out(page: &Page, product: u64) {
    tab_to(page, "nav a[href='/cart']", true).await;
    page.expect_load(press(page, &ENTER, false)).await;
    let quantity = format!("#qty-{product}");
    tab_to(page, &quantity, false).await;
    type_text(page, "2").await;
    press(page, &ENTER, false).await;
    page.wait_for(
        "document.querySelector('#cart-total').textContent === '$25.00'",
        WAIT,
        "the new total",
    )
    .await;
    focus_kept_on(page, &quantity, "after Enter in the quantity").await;

    let update = format!("form[action='/cart/items/{product}'] button[type=submit]");
    tab_to(page, &update, false).await;
    // Marks the cart shown now: the refreshed one comes without the mark.
    page.eval("document.querySelector('#cart').dataset.old = 'yes'")
        .await;
    press(page, &SPACE, false).await;
    page.wait_for(
        "!document.querySelector('#cart').dataset.old",
        WAIT,
        "the cart refreshed",
    )
    .await;
    focus_kept_on(page, &update, "after Space on Update").await;
    shot(page, "cart-focus-after-update").await;

    tab_to(page, "#checkout", false).await;
    page.expect_load(press(page, &ENTER, false)).await;
    page.wait_for(
        "/^\\/orders\\/\\d+$/.test(location.pathname)",
        WAIT,
        "the order page",
    )
    .await;
    assert_eq!(page.text(".order-status .status").await, "pending");
}

#[tokio::test]
async fn a_shopper_registers_adds_to_cart_and_checks_out_with_the_keyboard_alone() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;
    register(&page).await;
    add_to_cart(&page, shop.espresso).await;
    check_out(&page, shop.espresso).await;
    shot(&page, "order-placed").await;
    assert_clean(&page, &[]);
}

#[tokio::test]
async fn an_admin_ships_and_delivers_an_order_with_the_keyboard_alone() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let shopper = shop.app.new_user().await;
    let order = place_order(&shop, &shopper).await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;
    log_in(&page, &shop.admin.email, ADMIN_PASSWORD, "/admin/orders").await;

    tab_to(&page, &format!("a[href='/admin/orders/{order}']"), false).await;
    page.expect_load(press(&page, &ENTER, false)).await;
    for (action, key) in [("shipped", &SPACE), ("delivered", &ENTER)] {
        tab_to(&page, &format!("button[data-action={action}]"), false).await;
        press(&page, key, false).await;
        let condition =
            format!("document.querySelector('#admin-order').dataset.status === '{action}'");
        page.wait_for(&condition, WAIT, action).await;
        // The button is gone with the swap: the focus moves to the refreshed order card.
        focus_kept_on(&page, "#admin-order", &format!("after marking {action}")).await;
        shot(&page, &format!("admin-focus-after-{action}")).await;
    }
    let status = shop
        .app
        .get(&format!("/api/orders/{order}/"), Some(&shopper.access))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(status["status"], json!("delivered"));
    assert_clean(&page, &[]);
}
