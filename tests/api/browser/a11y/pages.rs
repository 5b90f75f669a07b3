//! axe-core on every page of API.md's list, as a visitor, a shopper and an admin, at desktop
//! and phone width, in the states that matter: empty and filled carts, an order at each
//! status, flash messages, form errors. Screenshots of each in `target/a11y-screenshots/`.
use serde_json::json;

use super::super::cdp::{Browser, Page};
use super::super::{browser_available, log_in, shop, shop_with, WAIT};
use super::axe::Audit;
use super::orders_at_each_status;
use crate::helpers::{ADMIN_PASSWORD, PASSWORD};

/// Submits the plain form at `selector` as it is (browser-side validation off, so the server's
/// errors show) and waits for the page that answers.
async fn submit(page: &Page, selector: &str) {
    let js = format!(
        "(() => {{ const f = document.querySelector({}); f.noValidate = true; f.requestSubmit(); return true; }})()",
        json!(selector)
    );
    page.expect_load(page.eval(&js)).await;
}

async fn shows(page: &Page, selector: &str, what: &str) {
    let condition = format!("!!document.querySelector({})", json!(selector));
    page.wait_for(&condition, WAIT, what).await;
}

#[tokio::test]
async fn axe_finds_no_violations_on_visitor_pages_at_desktop_and_phone_width() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let taken = shop.app.new_user().await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;
    let mut audit = Audit::default();

    audit.visit(&page, "/", "visitor-catalog").await;
    page.goto("/?min_price=abc").await;
    shows(&page, "#filters .field-error", "the filter error").await;
    audit.check(&page, "visitor-catalog-filter-error").await;
    let tea = format!("/products/{}", shop.green_tea);
    audit
        .visit(&page, &tea, "visitor-product-out-of-stock")
        .await;
    audit.visit(&page, "/cart", "visitor-cart-empty").await;

    page.goto(&format!("/products/{}", shop.espresso)).await;
    page.click("form.add-to-cart button[type=submit]").await;
    shows(&page, "#flash .flash", "the added message").await;
    audit.check(&page, "visitor-product-added-flash").await;
    page.goto("/cart").await;
    shows(&page, "#guest-cart[data-state=ready]", "the guest cart").await;
    audit.check(&page, "visitor-cart-with-items").await;

    audit.visit(&page, "/login", "visitor-login").await;
    page.fill("#f-email", &taken.email).await;
    page.fill("#f-password", "wrong password").await;
    submit(&page, "main form").await;
    shows(&page, ".form-error", "the login error").await;
    audit.check(&page, "visitor-login-error").await;

    audit.visit(&page, "/register", "visitor-register").await;
    page.fill("#f-email", &taken.email).await;
    page.fill("#f-password", "short").await;
    submit(&page, "main form").await;
    shows(&page, ".field-error", "the register errors").await;
    audit.check(&page, "visitor-register-errors").await;

    audit.visit(&page, "/no-such-page", "visitor-404").await;
    audit.assert_none("visitor");
}

#[tokio::test]
async fn axe_finds_no_violations_on_shopper_pages_in_every_state() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let app = &shop.app;
    let shopper = app.new_user().await;
    let orders = orders_at_each_status(&shop, &shopper).await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&app.address).await;
    let mut audit = Audit::default();

    log_in(&page, &shopper.email, PASSWORD, "/cart").await;
    audit.check(&page, "shopper-cart-empty").await;
    audit.visit(&page, "/", "shopper-catalog").await;
    page.goto(&format!("/products/{}", shop.espresso)).await;
    page.click("form.add-to-cart button[type=submit]").await;
    shows(&page, "#flash .flash", "the added message").await;
    audit.check(&page, "shopper-product-added-flash").await;
    audit.visit(&page, "/cart", "shopper-cart-with-items").await;

    // More filter papers than are left: checkout shows the shortage next to the line.
    app.add_to_cart(&shopper, shop.papers, 2).await;
    let stock = format!("/api/products/{}/stock/", shop.papers);
    let set = app
        .post(&stock, Some(&shop.admin.access), json!({"set": 1}))
        .await;
    assert_eq!(set.status(), 200, "stock set");
    page.goto("/cart").await;
    page.click("#checkout").await;
    shows(&page, "#cart tr.short", "the shortage").await;
    audit.check(&page, "shopper-cart-shortage").await;

    audit.visit(&page, "/orders", "shopper-orders").await;
    for (order, status) in &orders {
        let name = format!("shopper-order-{status}");
        audit.visit(&page, &format!("/orders/{order}"), &name).await;
    }
    audit
        .visit(&page, "/notifications", "shopper-notifications")
        .await;
    audit.visit(&page, "/account", "shopper-account").await;
    page.fill("#f-name", "Ada").await;
    submit(&page, "form[action='/account']").await;
    shows(&page, "#flash .flash", "the saved message").await;
    audit.check(&page, "shopper-account-saved-flash").await;
    page.fill("#f-current_password", "wrong password").await;
    page.fill("#f-new_password", "short").await;
    submit(&page, "form[action='/account/password']").await;
    shows(&page, ".field-error, .form-error", "the password errors").await;
    audit.check(&page, "shopper-account-password-errors").await;
    audit
        .visit(&page, "/admin", "shopper-admin-forbidden")
        .await;
    audit.assert_none("shopper");
}

#[tokio::test]
async fn axe_finds_no_violations_on_admin_pages_in_every_state() {
    if !browser_available() {
        return;
    }
    // Private addresses allowed: the webhook pages get a webhook at a closed local port.
    // A backup dir: the backups page lists a backup made from it.
    let backups = tempfile::tempdir().unwrap();
    let backup_dir = backups.path().to_path_buf();
    let shop = shop_with(|s| {
        s.webhooks_allow_private = true;
        s.backup_dir = Some(backup_dir);
    })
    .await;
    let shopper = shop.app.new_user().await;
    let orders = orders_at_each_status(&shop, &shopper).await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;
    let mut audit = Audit::default();

    log_in(&page, &shop.admin.email, ADMIN_PASSWORD, "/admin").await;
    audit.check(&page, "admin-dashboard").await;
    audit.visit(&page, "/admin/orders", "admin-orders").await;
    let pending = "/admin/orders?status=pending";
    audit.visit(&page, pending, "admin-orders-pending").await;
    for (order, status) in &orders {
        let name = format!("admin-order-{status}");
        audit
            .visit(&page, &format!("/admin/orders/{order}"), &name)
            .await;
    }

    audit
        .visit(&page, "/admin/products", "admin-products")
        .await;
    submit(&page, "form[action='/admin/products']").await;
    shows(&page, ".field-error", "the product form errors").await;
    audit.check(&page, "admin-products-form-errors").await;
    let product = format!("/admin/products/{}", shop.papers);
    audit.visit(&page, &product, "admin-product").await;
    submit(&page, &format!("form[action='{product}']")).await;
    shows(&page, "#flash .flash", "the saved message").await;
    audit.check(&page, "admin-product-saved-flash").await;
    let adjust = format!("#stock-{}-adjust", shop.papers);
    page.fill(&adjust, "-1000").await;
    page.click(&format!("#stock-{} button[type=submit]", shop.papers))
        .await;
    shows(&page, ".stock-form .field-error", "the stock error").await;
    audit.check(&page, "admin-product-stock-error").await;

    audit
        .visit(&page, "/admin/categories", "admin-categories")
        .await;
    page.fill("#f-name", "Coffee").await;
    submit(&page, "form[action='/admin/categories']").await;
    shows(&page, ".form-error", "the duplicate name error").await;
    audit.check(&page, "admin-categories-form-errors").await;

    audit
        .visit(&page, "/admin/webhooks", "admin-webhooks-empty")
        .await;
    submit(&page, "form[action='/admin/webhooks']").await;
    shows(&page, ".field-error", "the webhook form errors").await;
    audit.check(&page, "admin-webhooks-form-errors").await;
    page.fill("#f-url", "http://127.0.0.1:9/hook").await;
    page.click("#f-event-order-status").await;
    submit(&page, "form[action='/admin/webhooks']").await;
    shows(&page, "#new-secret", "the new secret").await;
    audit.check(&page, "admin-webhooks-secret").await;
    // Port 9 is closed: the test event fails, and its row offers "retry now".
    let hooks: serde_json::Value = shop
        .app
        .get("/api/webhooks/", Some(&shop.admin.access))
        .await
        .json()
        .await
        .unwrap();
    let hook = hooks["results"][0]["id"]
        .as_u64()
        .expect("the webhook made above");
    let test = format!("/api/webhooks/{hook}/test/");
    shop.app
        .post(&test, Some(&shop.admin.access), json!({}))
        .await;
    audit
        .visit(
            &page,
            &format!("/admin/webhooks/{hook}"),
            "admin-webhook-deliveries",
        )
        .await;
    audit
        .visit(&page, "/admin/backups", "admin-backups-empty")
        .await;
    submit(&page, "form[action='/admin/backups']").await;
    shows(&page, "#backups tr[data-backup]", "the new backup").await;
    audit.check(&page, "admin-backups-listed").await;
    audit.assert_none("admin");
}
