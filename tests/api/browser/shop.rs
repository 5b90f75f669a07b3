//! A shopper in the browser: register, filter the catalog, fill the cart, check out.
use serde_json::{json, Value};

use super::cdp::Browser;
use super::{assert_clean, browser_available, log_in, shop, WAIT};
use crate::helpers::PASSWORD;

#[tokio::test]
async fn shopper_registers_filters_adds_two_products_checks_out_and_sees_the_order_pending() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;

    // Register: the form posts name, email and password, and signs the new shopper in.
    page.goto("/register").await;
    page.fill("#f-name", "Ada Shopper").await;
    page.fill("#f-email", "ada@example.com").await;
    page.fill("#f-password", PASSWORD).await;
    page.expect_load(page.click("main form button[type=submit]"))
        .await;
    assert_eq!(page.path().await, "/");
    assert_eq!(page.text("a[href='/account']").await, "Ada Shopper");
    assert_eq!(page.eval("document.body.dataset.live").await, json!("on"));
    // From here on, nothing may reload the page until checkout.
    page.eval("window.__sameDocument = true").await;

    // Filter by category: htmx swaps the results and pushes a shareable URL.
    page.select("#f-category", &shop.coffee.to_string()).await;
    page.wait_for(
        "document.querySelector('#result-count').textContent.startsWith('2 products')",
        WAIT,
        "two coffee products",
    )
    .await;
    page.wait_for(
        &format!("location.search.includes('category={}')", shop.coffee),
        WAIT,
        "the category in the URL",
    )
    .await;
    let names = page
        .eval("[...document.querySelectorAll('.product-card h2')].map(e => e.textContent)")
        .await;
    assert_eq!(names, json!(["Espresso Beans", "Filter Papers"]));
    page.fill("#f-search", "espresso").await;
    page.wait_for(
        "document.querySelector('#result-count').textContent.startsWith('1 product')",
        WAIT,
        "one product found",
    )
    .await;
    page.wait_for(
        "location.search.includes('search=espresso')",
        WAIT,
        "the search in the URL",
    )
    .await;
    assert_eq!(
        page.eval("window.__sameDocument").await,
        json!(true),
        "filtering reloaded the page"
    );

    // The URL is shareable: loaded fresh it shows the same results.
    let shared = page.path().await;
    let other = browser.new_context(&shop.app.address).await;
    other.goto(&shared).await;
    assert_eq!(other.text("#result-count").await, "1 product");
    assert_eq!(
        other
            .eval("document.querySelector('#f-search').value")
            .await,
        json!("espresso")
    );

    // Add both coffee products from the catalog; the cart badge follows without a reload.
    page.click(&format!(
        "li[data-product-id='{}'] button[type=submit]",
        shop.espresso
    ))
    .await;
    page.wait_for(
        "document.querySelector('#cart-count').textContent.startsWith('1')",
        WAIT,
        "one item in the cart",
    )
    .await;
    page.fill("#f-search", "papers").await;
    page.wait_for("document.querySelector('#result-count').textContent.startsWith('1 product') && !!document.querySelector('li[data-product-id] h2 a[href*=\"/products/\"]') && document.querySelector('.product-card h2').textContent === 'Filter Papers'", WAIT, "the filter papers").await;
    page.click(&format!(
        "li[data-product-id='{}'] button[type=submit]",
        shop.papers
    ))
    .await;
    page.wait_for(
        "document.querySelector('#cart-count').textContent.startsWith('2')",
        WAIT,
        "two items in the cart",
    )
    .await;
    assert_eq!(
        page.eval("window.__sameDocument").await,
        json!(true),
        "adding to the cart reloaded the page"
    );
    // Out-of-stock products are marked and cannot be added.
    page.select("#f-category", "").await;
    page.fill("#f-search", "green").await;
    page.wait_for(
        &format!(
            "!!document.querySelector(\"li[data-product-id='{}'].out-of-stock button[disabled]\")",
            shop.green_tea
        ),
        WAIT,
        "the out-of-stock tea",
    )
    .await;
    page.screenshot("shop-catalog").await;
    page.cmd(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    page.screenshot("shop-catalog-phone").await;
    page.cmd(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
    )
    .await;

    // The cart shows both lines and the total; checkout lands on the pending order.
    page.goto("/cart").await;
    assert_eq!(
        page.eval("document.querySelectorAll('#cart tbody tr').length")
            .await,
        json!(2)
    );
    assert_eq!(page.text("#cart-total").await, "$15.70");
    page.screenshot("shop-cart").await;
    page.expect_load(page.click("#checkout")).await;
    page.wait_for(
        "/^\\/orders\\/\\d+$/.test(location.pathname)",
        WAIT,
        "the order page",
    )
    .await;
    assert_eq!(
        page.eval("document.querySelector('#order-live').dataset.status")
            .await,
        json!("pending")
    );
    assert_eq!(page.text(".order-status .status").await, "pending");
    assert_eq!(
        page.eval("document.querySelectorAll('.step.done').length")
            .await,
        json!(1)
    );
    page.screenshot("shop-order-pending").await;

    // One order was placed, and the cart is empty.
    let order_id: u64 = page
        .path()
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let orders: Value = shop
        .app
        .get("/api/orders/", Some(&shop.admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders["count"], 1);
    assert_eq!(orders["results"][0]["id"], order_id);
    assert_eq!(orders["results"][0]["total_price"], "15.70");
    assert_eq!(page.text("#cart-count").await, "0 items");
    assert_clean(&page, &[]);
    assert_clean(&other, &[]);
}

/// Forms work without JavaScript: add from the product page, change the quantity, check out.
#[tokio::test]
async fn the_shop_works_with_javascript_disabled() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let shopper = shop.app.new_user().await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;
    page.cmd(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": true}),
    )
    .await;
    log_in(
        &page,
        &shopper.email,
        PASSWORD,
        &format!("/products/{}", shop.espresso),
    )
    .await;

    page.fill(&format!("#qty-{}", shop.espresso), "3").await;
    page.expect_load(page.click("form.add-to-cart button[type=submit]"))
        .await;
    assert_eq!(page.path().await, format!("/products/{}", shop.espresso));
    assert_eq!(page.text("#cart-count").await, "3 items");

    page.goto("/cart").await;
    page.fill(&format!("#qty-{}", shop.espresso), "2").await;
    page.expect_load(page.click(".qty-form button[type=submit]"))
        .await;
    assert_eq!(page.text("#cart-total").await, "$25.00");
    page.expect_load(page.click("#checkout")).await;
    assert_eq!(page.text(".order-status .status").await, "pending");
    page.screenshot("shop-no-javascript-order").await;
    let orders: Value = shop
        .app
        .get("/api/orders/", Some(&shopper.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders["count"], 1);
    assert_eq!(orders["results"][0]["items"][0]["quantity"], 2);
    assert_clean(&page, &[]);
}
