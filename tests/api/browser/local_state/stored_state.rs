//! Corrupt or outdated stored state is discarded; the catalog link restores the last filters.
use serde_json::json;

use super::super::cdp::Browser;
use super::super::{assert_clean, browser_available, shop, WAIT};
use super::{reopen, stored, KEY};

#[tokio::test]
async fn corrupt_or_outdated_stored_state_is_discarded_and_the_page_still_works() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;
    page.goto("/").await;
    let fresh = json!({"v": 1, "cart": [], "filters": "", "lastEventId": 0});
    let bad = [
        "{not json".to_owned(),
        json!({"v": 0, "cart": [{"id": shop.espresso, "qty": 1, "name": "x"}]}).to_string(),
        json!({"v": 2, "cart": [], "filters": "", "lastEventId": 0}).to_string(),
        json!({"v": 1, "cart": "espresso", "filters": "", "lastEventId": 0}).to_string(),
        json!({"v": 1, "cart": [{"id": shop.espresso, "qty": -3, "name": "x"}], "filters": "", "lastEventId": 0}).to_string(),
        "null".to_owned(),
    ];
    for value in bad {
        page.eval(&format!(
            "localStorage.setItem({}, {})",
            json!(KEY),
            json!(value)
        ))
        .await;
        for path in ["/cart", "/"] {
            page.goto(path).await;
            assert_eq!(stored(&page).await, fresh, "{value} on {path}");
            assert_eq!(page.text("#cart-count").await, "0 items", "{value}");
        }
        assert_eq!(
            page.eval("OrderStreamStore.wasReset()").await,
            json!(false),
            "reset once, then clean"
        );
        // Still a working shop: a guest can add to the cart.
        page.click(&format!(
            "li[data-product-id='{}'] button[type=submit]",
            shop.espresso
        ))
        .await;
        page.wait_for(
            "document.querySelector('#cart-count').textContent.startsWith('1')",
            WAIT,
            "the product added",
        )
        .await;
        assert_eq!(stored(&page).await["cart"][0]["id"], shop.espresso);
    }
    // A reset on the page that found the bad data is visible to scripts.
    page.eval(&format!("localStorage.setItem({}, '[1,2')", json!(KEY)))
        .await;
    page.goto("/cart").await;
    assert_eq!(page.eval("OrderStreamStore.wasReset()").await, json!(true));
    assert_eq!(
        page.eval("document.querySelector('#guest-cart .empty-state') !== null")
            .await,
        json!(true)
    );
    page.screenshot("local-state-reset").await;
    assert_clean(&page, &[]);
}

#[tokio::test]
async fn the_catalog_link_restores_the_last_filters_and_page_size_after_reopening() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&shop.app.address).await;
    page.goto("/").await;
    page.select("#f-category", &shop.coffee.to_string()).await;
    page.select("#f-ordering", "-price").await;
    page.select("#f-page_size", "24").await;
    page.wait_for(
        "location.search.includes('page_size=24') && location.search.includes('ordering=-price')",
        WAIT,
        "the filters in the URL",
    )
    .await;
    page.htmx_idle().await;
    let expected = format!("/?category={}&ordering=-price&page_size=24", shop.coffee);
    assert_eq!(stored(&page).await["filters"], expected[2..]);
    assert_eq!(
        page.eval("document.querySelector('nav a[data-catalog-link]').getAttribute('href')")
            .await,
        json!(expected)
    );
    // "Reset" still resets.
    assert_eq!(
        page.eval("document.querySelector('#filters a.secondary').getAttribute('href')")
            .await,
        json!("/")
    );
    page.goto(&format!("/products/{}", shop.papers)).await;
    assert_clean(&page, &[]);

    let page = reopen(&browser, page).await;
    page.goto("/login").await;
    page.expect_load(page.click("nav a[data-catalog-link]"))
        .await;
    assert_eq!(page.path().await, expected);
    assert_eq!(
        page.eval("[document.querySelector('#f-category').value, document.querySelector('#f-ordering').value, document.querySelector('#f-page_size').value]")
            .await,
        json!([shop.coffee.to_string(), "-price", "24"])
    );
    assert_eq!(
        page.eval("[...document.querySelectorAll('.product-card h2')].map(e => e.textContent)")
            .await,
        json!(["Espresso Beans", "Filter Papers"])
    );
    // The breadcrumb on a product page leads back to the same list.
    page.goto(&format!("/products/{}", shop.espresso)).await;
    page.expect_load(page.click(".breadcrumb a[data-catalog-link]"))
        .await;
    assert_eq!(page.path().await, expected);
    page.screenshot("local-filters-restored").await;
    assert_clean(&page, &[]);
}
