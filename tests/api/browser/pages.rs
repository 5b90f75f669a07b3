//! Every page, as a visitor, a shopper and an admin, at desktop and phone width: rendered
//! with no console errors, nothing requested beyond this machine, a screenshot of each.
use serde_json::{json, Value};

use super::cdp::{Browser, Page};
use super::{assert_clean, browser_available, log_in, shop};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD};

const PHONE: (u32, u32) = (390, 844);

async fn visit(page: &Page, path: &str, name: &str, phone: bool) {
    page.goto(path).await;
    let title = page.eval("document.title").await;
    assert!(
        title.as_str().is_some_and(|t| t.ends_with("OrderStream")),
        "{path}: title {title}"
    );
    let unlabelled = page
        .eval("[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => !(e.labels && e.labels.length)).map(e => e.name)")
        .await;
    assert_eq!(unlabelled, json!([]), "{path}: inputs without a label");
    page.screenshot(&format!("page-{name}")).await;
    if phone {
        page.cmd(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": PHONE.0, "height": PHONE.1, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await;
        let overflow = page
            .eval("document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{path}: wider than a phone by {overflow}px"
        );
        page.screenshot(&format!("page-{name}-phone")).await;
        page.cmd(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
    }
}

#[tokio::test]
async fn every_page_renders_cleanly_for_visitors_shoppers_and_admins_at_desktop_and_phone_width() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let app = &shop.app;
    let shopper = app.new_user().await;
    app.add_to_cart(&shopper, shop.espresso, 2).await;
    let order: Value = app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let order = order["id"].as_u64().unwrap();
    let shipped = app
        .post(
            &format!("/api/orders/{order}/status/"),
            Some(&shop.admin.access),
            json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(shipped.status(), 200);
    app.add_to_cart(&shopper, shop.papers, 1).await;

    let (browser, _slot) = Browser::launch().await;
    let visitor = browser.new_context(&app.address).await;
    for (path, name) in [
        ("/", "catalog-visitor"),
        ("/login", "login"),
        ("/register", "register"),
    ] {
        visit(&visitor, path, name, true).await;
    }
    visit(
        &visitor,
        &format!("/products/{}", shop.green_tea),
        "product-out-of-stock",
        false,
    )
    .await;
    visit(&visitor, "/no-such-page", "404", false).await;

    let page = browser.new_context(&app.address).await;
    log_in(&page, &shopper.email, PASSWORD, "/").await;
    let shopper_pages = [
        (format!("/products/{}", shop.espresso), "product", true),
        ("/cart".to_owned(), "cart", true),
        ("/orders".to_owned(), "orders", true),
        (format!("/orders/{order}"), "order-shipped", true),
        ("/notifications".to_owned(), "notifications", true),
        ("/account".to_owned(), "account", true),
    ];
    for (path, name, phone) in &shopper_pages {
        visit(&page, path, name, *phone).await;
    }

    let admin = browser.new_context(&app.address).await;
    log_in(&admin, &shop.admin.email, ADMIN_PASSWORD, "/admin").await;
    let admin_pages = [
        ("/admin".to_owned(), "admin-dashboard"),
        ("/admin/orders".to_owned(), "admin-orders"),
        (format!("/admin/orders/{order}"), "admin-order"),
        ("/admin/products".to_owned(), "admin-products"),
        (format!("/admin/products/{}", shop.papers), "admin-product"),
        ("/admin/categories".to_owned(), "admin-categories"),
    ];
    for (path, name) in &admin_pages {
        visit(&admin, path, name, true).await;
    }
    assert_clean(&visitor, &["status of 404"]);
    assert_clean(&page, &[]);
    assert_clean(&admin, &[]);
}
