//! A visitor's cart in localStorage: survives closing the page, shows the server's prices,
//! and is merged into the account on registering (a deleted product is named in a notice).
use serde_json::{json, Value};

use super::super::cdp::{Browser, Page};
use super::super::{assert_clean, browser_available, shop, WAIT};
use super::{reopen, stored};
use crate::helpers::PASSWORD;

async fn cart_rows(page: &Page) -> Value {
    page.eval("[...document.querySelectorAll('#guest-cart tbody tr')].map(r => [Number(r.dataset.productId), r.children[1].textContent, r.querySelector('input').value])").await
}

#[tokio::test]
async fn a_guest_cart_survives_closing_the_page_and_is_merged_into_the_account_on_registering() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let app = &shop.app;
    let mug = app
        .create_product(&shop.admin, "Travel Mug", "9.00", 5, shop.coffee)
        .await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&app.address).await;

    // A visitor adds two from the product page and one of each of the others from the catalog,
    // without a reload and without a request to the server's cart.
    page.goto(&format!("/products/{}", shop.espresso)).await;
    assert_eq!(page.eval("document.body.dataset.guest").await, json!("on"));
    page.eval("window.__sameDocument = true").await;
    page.fill(&format!("#qty-{}", shop.espresso), "2").await;
    page.click("form.add-to-cart button[type=submit]").await;
    page.wait_for(
        "document.querySelector('#cart-count').textContent.startsWith('2')",
        WAIT,
        "two in the badge",
    )
    .await;
    assert_eq!(
        page.text("#flash").await,
        "Added Espresso Beans to your cart."
    );
    assert_eq!(page.eval("window.__sameDocument").await, json!(true));
    page.goto("/").await;
    for product in [shop.papers, mug] {
        page.click(&format!(
            "li[data-product-id='{product}'] button[type=submit]"
        ))
        .await;
    }
    page.wait_for(
        "document.querySelector('#cart-count').textContent.startsWith('4')",
        WAIT,
        "four in the badge",
    )
    .await;
    assert_eq!(page.path().await, "/");
    let doc = stored(&page).await;
    assert_eq!(doc["v"], 1);
    assert_eq!(
        doc["cart"],
        json!([
            {"id": shop.espresso, "qty": 2, "name": "Espresso Beans"},
            {"id": shop.papers, "qty": 1, "name": "Filter Papers"},
            {"id": mug, "qty": 1, "name": "Travel Mug"},
        ])
    );
    assert!(
        !page
            .requested_urls()
            .iter()
            .any(|u| u.contains("/cart/items")),
        "the guest cart stays in the browser"
    );
    assert_clean(&page, &[]);

    // Closed and opened again: the cart page shows the lines with the server's prices.
    let page = reopen(&browser, page).await;
    page.goto("/cart").await;
    page.wait_for(
        "document.querySelector('#guest-cart').dataset.state === 'ready'",
        WAIT,
        "the guest cart",
    )
    .await;
    assert_eq!(
        cart_rows(&page).await,
        json!([
            [shop.espresso, "$12.50", "2"],
            [shop.papers, "$3.20", "1"],
            [mug, "$9.00", "1"]
        ])
    );
    assert_eq!(page.text("#guest-cart-total").await, "$37.20");
    assert_eq!(page.text("#cart-count").await, "4 items");
    page.screenshot("local-guest-cart").await;

    // The server's price is shown, whatever the browser remembered; a deleted product is marked.
    let repriced = app
        .patch(
            &format!("/api/products/{}/", shop.papers),
            Some(&shop.admin.access),
            json!({"price": "3.50"}),
        )
        .await;
    assert_eq!(repriced.status(), 200);
    let deleted = app
        .delete(&format!("/api/products/{mug}/"), Some(&shop.admin.access))
        .await;
    assert_eq!(deleted.status(), 204);
    page.goto("/cart").await;
    page.wait_for(
        "document.querySelector('#guest-cart').dataset.state === 'ready'",
        WAIT,
        "the guest cart again",
    )
    .await;
    assert_eq!(page.text("#guest-cart-total").await, "$28.50");
    assert_eq!(
        page.text(&format!(
            "#guest-cart tr[data-product-id='{mug}'] .field-error"
        ))
        .await,
        "No longer available"
    );

    // Registering from the cart page: back on the cart, the lines are in the account's cart,
    // the deleted product is named in a notice, and the browser's guest cart is empty.
    page.expect_load(page.click("#guest-cart a[href^='/register']"))
        .await;
    page.fill("#f-name", "Guest Shopper").await;
    page.fill("#f-email", "guest@example.com").await;
    page.fill("#f-password", PASSWORD).await;
    page.expect_load(page.click("main form button[type=submit]"))
        .await;
    assert_eq!(page.path().await, "/cart");
    page.wait_for(
        "!!document.querySelector('#merge-notice')",
        WAIT,
        "the merge notice",
    )
    .await;
    assert_eq!(
        page.text("#merge-notice").await,
        "The cart from this browser was added to your cart.No longer available, not added: Travel Mug."
    );
    page.wait_for(
        "document.querySelectorAll('#cart tbody tr').length === 2",
        WAIT,
        "the merged cart on the page",
    )
    .await;
    assert_eq!(page.text("#cart-total").await, "$28.50");
    assert_eq!(page.text("#cart-count").await, "3 items");
    assert_eq!(stored(&page).await["cart"], json!([]));
    page.screenshot("local-guest-cart-merged").await;

    let (access, _) = app.login("guest@example.com", PASSWORD).await;
    let cart: Value = app
        .get("/api/cart/", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    let lines: Vec<(u64, u64, String)> = cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["product"]["id"].as_u64().unwrap(),
                i["quantity"].as_u64().unwrap(),
                i["product"]["price"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (shop.espresso, 2, "12.50".to_owned()),
            (shop.papers, 1, "3.50".to_owned())
        ]
    );

    // Merged once: another page does not add the lines again.
    page.goto("/cart").await;
    assert_eq!(page.text("#cart-total").await, "$28.50");
    assert!(page.text("#flash").await.is_empty());
    assert_clean(&page, &["status of 404"]);
}
