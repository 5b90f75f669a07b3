//! Checkout from the cart page (once, with "only N left" in place) and the admin forms.
use serde_json::{json, Value};

use super::{text_of, Browserless};
use crate::browser::shop;
use crate::helpers::{ADMIN_PASSWORD, PASSWORD};

#[tokio::test]
async fn checkout_shows_only_n_left_in_place_and_a_double_submit_places_one_order() {
    let shop = shop().await;
    let app = &shop.app;
    let user = app.new_user().await;
    let mut browser = Browserless::new(app);
    browser.log_in(&user.email, PASSWORD).await;
    let added = browser
        .htmx_post(
            "/cart/items",
            "",
            &[("product_id", &shop.papers.to_string()), ("quantity", "3")],
        )
        .await;
    assert_eq!(added.status, 200);
    assert!(added.body.contains("id=\"cart-count\"") && added.body.contains("hx-swap-oob"));

    let cart = browser.get("/cart").await.body;
    let key = cart
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let short = browser
        .htmx_post("/cart/checkout", "cart", &[("idempotency_key", &key)])
        .await;
    assert_eq!(short.status, 409);
    assert!(
        short.body.starts_with("<section") && short.body.contains("Only 2 left"),
        "{}",
        short.body
    );
    assert!(short.body.contains("Filter Papers (only 2 left)"));
    let orders: Value = app
        .get("/api/orders/", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders["count"], 0);

    let set = browser
        .htmx_post(
            &format!("/cart/items/{}", shop.papers),
            "cart",
            &[("quantity", "2")],
        )
        .await;
    assert_eq!(set.status, 200);
    let zero = browser
        .htmx_post(
            &format!("/cart/items/{}", shop.papers),
            "cart",
            &[("quantity", "0")],
        )
        .await;
    assert_eq!(zero.status, 422);
    assert!(text_of(&zero.body, &format!("qty-{}-error", shop.papers)).is_some());

    // A double click: the same form (same key) twice, one order, both answers lead to it.
    let cart = browser.get("/cart").await.body;
    let key = cart
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let first = browser
        .post("/cart/checkout", &[("idempotency_key", &key)])
        .await;
    let second = browser
        .post("/cart/checkout", &[("idempotency_key", &key)])
        .await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location(), second.location());
    let orders: Value = app
        .get("/api/orders/", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders["count"], 1);
    assert_eq!(
        first.location(),
        format!("/orders/{}", orders["results"][0]["id"])
    );
    let product: Value = app
        .get(&format!("/api/products/{}/", shop.papers), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(product["stock"], 0);

    let empty = browser
        .htmx_post(
            "/cart/checkout",
            "cart",
            &[("idempotency_key", "another-key")],
        )
        .await;
    assert_eq!(empty.status, 400);
    assert!(empty.body.contains("The cart is empty"));
}

#[tokio::test]
async fn admin_forms_show_errors_next_to_the_field_and_change_nothing() {
    let shop = shop().await;
    let app = &shop.app;
    let mut browser = Browserless::new(app);
    browser.log_in(&shop.admin.email, ADMIN_PASSWORD).await;

    let bad = browser
        .post(
            "/admin/products",
            &[
                ("name", ""),
                ("price", "12.345"),
                ("stock", "-1"),
                ("category_id", ""),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    for field in ["name", "price", "stock", "category_id"] {
        assert!(
            text_of(&bad.body, &format!("f-{field}-error")).is_some(),
            "{field} error: {}",
            bad.body
        );
    }
    assert!(
        bad.body.contains("value=\"12.345\""),
        "what was typed is kept"
    );
    let coffee = shop.coffee.to_string();
    let made = browser
        .post(
            "/admin/products",
            &[
                ("name", "Moka Pot"),
                ("price", "30"),
                ("stock", "4"),
                ("category_id", &coffee),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(made.status, 303);
    let count: Value = app.get("/api/products/", None).await.json().await.unwrap();
    assert_eq!(count["count"], 4);

    // Stock inline: below zero is refused next to the field, and the level is unchanged.
    let path = format!("/admin/products/{}/stock", shop.papers);
    let below = browser
        .htmx_post(
            &path,
            &format!("stock-{}", shop.papers),
            &[("adjust", "-5")],
        )
        .await;
    assert_eq!(below.status, 409);
    assert!(text_of(&below.body, &format!("stock-{}-adjust-error", shop.papers)).is_some());
    let up = browser
        .htmx_post(
            &path,
            &format!("stock-{}", shop.papers),
            &[("adjust", "+3")],
        )
        .await;
    assert_eq!(up.status, 200);
    assert!(up.body.contains("data-stock=\"5\""));

    // Categories: a duplicate name is refused in the row; a category with products stays.
    let row = browser
        .htmx_post(
            &format!("/admin/categories/{}", shop.coffee),
            &format!("cat-{}", shop.coffee),
            &[("name", "Tea"), ("description", "")],
        )
        .await;
    assert_eq!(row.status, 422);
    assert!(row.body.starts_with("<div") && row.body.contains("form-error"));
    let delete = browser
        .htmx_post(
            &format!("/admin/categories/{}/delete", shop.coffee),
            "",
            &[],
        )
        .await;
    assert_eq!(delete.status, 409);
    assert_eq!(delete.headers["HX-Retarget"], "#flash");
    let category: Value = app
        .get(&format!("/api/categories/{}/", shop.coffee), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(category["name"], "Coffee");
}

#[tokio::test]
async fn a_shopper_cannot_use_admin_actions_and_an_admin_ships_with_one_post() {
    let shop = shop().await;
    let app = &shop.app;
    let user = app.new_user().await;
    app.add_to_cart(&user, shop.espresso, 1).await;
    let order: Value = app
        .post("/api/orders/", Some(&user.access), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let status_path = format!("/admin/orders/{}/status", order["id"]);

    let mut shopper = Browserless::new(app);
    shopper.log_in(&user.email, PASSWORD).await;
    assert_eq!(shopper.get("/admin/").await.status, 403);
    let refused = shopper.post(&status_path, &[("status", "shipped")]).await;
    assert_eq!(refused.status, 403);
    let seen: Value = app
        .get(&format!("/api/orders/{}/", order["id"]), Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "pending");

    let mut admin = Browserless::new(app);
    admin.log_in(&shop.admin.email, ADMIN_PASSWORD).await;
    let shipped = admin
        .htmx_post(&status_path, "admin-order", &[("status", "shipped")])
        .await;
    assert_eq!(shipped.status, 200);
    assert!(
        shipped.body.contains("data-status=\"shipped\"") && shipped.body.contains("Mark delivered")
    );
    let again = admin
        .htmx_post(&status_path, "admin-order", &[("status", "shipped")])
        .await;
    assert_eq!(again.status, 409);
    let page = shopper.get(&format!("/orders/{}", order["id"])).await;
    assert!(page.body.contains("data-status=\"shipped\""));
}

#[tokio::test]
async fn a_shopper_cancels_a_pending_order_and_reads_the_notifications() {
    let shop = shop().await;
    let app = &shop.app;
    let user = app.new_user().await;
    app.add_to_cart(&user, shop.papers, 2).await;
    let order: Value = app
        .post("/api/orders/", Some(&user.access), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_u64().unwrap();
    let mut browser = Browserless::new(app);
    browser.log_in(&user.email, PASSWORD).await;

    let cancelled = browser
        .htmx_post(&format!("/orders/{id}/cancel"), "order-live", &[])
        .await;
    assert_eq!(cancelled.status, 200);
    assert!(
        cancelled.body.contains("data-status=\"cancelled\"")
            && !cancelled.body.contains("Cancel order")
    );
    let product: Value = app
        .get(&format!("/api/products/{}/", shop.papers), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(product["stock"], 2, "stock returned");
    let again = browser.post(&format!("/orders/{id}/cancel"), &[]).await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("<h1>Conflict</h1>"));

    let list = browser.get("/notifications").await;
    assert!(list
        .body
        .contains(&format!("Order #{id} is now cancelled.")));
    assert!(text_of(
        &browser.get("/notifications/badge").await.body,
        "unread-badge"
    )
    .unwrap()
    .starts_with('1'));
    let read = browser.post("/notifications/read-all", &[]).await;
    assert_eq!(read.status, 303);
    assert!(text_of(
        &browser.get("/notifications/badge").await.body,
        "unread-badge"
    )
    .unwrap()
    .starts_with('0'));
    let unread: Value = app
        .get("/api/notifications/?unread=true", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread["count"], 0);
}

/// The edit page changes stock only through its adjust form: saving the product form (even an
/// old page that still posts a stock level) keeps the stock orders have left.
#[tokio::test]
async fn saving_the_product_form_never_overwrites_stock_that_orders_took() {
    let shop = shop().await;
    let app = &shop.app;
    let mut browser = Browserless::new(app);
    browser.log_in(&shop.admin.email, ADMIN_PASSWORD).await;
    let path = format!("/admin/products/{}", shop.espresso);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"f-stock\""), "{}", page.body);

    // While the page is open, a shopper buys 3 of the 10.
    let shopper = app.new_user().await;
    app.add_to_cart(&shopper, shop.espresso, 3).await;
    let order = app
        .post("/api/orders/", Some(&shopper.access), json!({}))
        .await;
    assert_eq!(order.status(), 201);

    let coffee = shop.coffee.to_string();
    let saved = browser
        .post(
            &path,
            &[
                ("name", "Espresso Roast"),
                ("price", "12.50"),
                ("category_id", &coffee),
                ("description", ""),
                ("stock", "10"),
            ],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let product: Value = app
        .get(&format!("/api/products/{}/", shop.espresso), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(product["name"], "Espresso Roast");
    assert_eq!(product["stock"], 7);
}
