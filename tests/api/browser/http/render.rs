//! Every page renders (whole, or as the fragment htmx asks for), with a strict CSP in mind;
//! errors are pages in the same style; assets are embedded.
use serde_json::{json, Value};

use super::{text_of, Browserless};
use crate::browser::shop;
use crate::helpers::{TestApp, ADMIN_PASSWORD};

#[tokio::test]
async fn every_page_renders_for_an_admin_without_inline_scripts_or_styles() {
    let shop = shop().await;
    let app = &shop.app;
    app.add_to_cart(&shop.admin, shop.espresso, 1).await;
    let order: Value = app
        .post("/api/orders/", Some(&shop.admin.access), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let order = order["id"].as_u64().unwrap();
    let mut browser = Browserless::new(app);
    browser.log_in(&shop.admin.email, ADMIN_PASSWORD).await;
    let pages = [
        "/".to_owned(),
        format!("/products/{}", shop.espresso),
        "/cart".into(),
        "/orders".into(),
        format!("/orders/{order}"),
        "/notifications".into(),
        "/account".into(),
        "/admin/".into(),
        "/admin/categories".into(),
        "/admin/products".into(),
        format!("/admin/products/{}", shop.papers),
        "/admin/orders".into(),
        "/admin/orders?status=pending".into(),
        format!("/admin/orders/{order}"),
        "/login".into(),
        "/register".into(),
    ];
    for path in &pages {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(
            page.body.starts_with("<!DOCTYPE html>") && page.body.contains("<main id=\"main\">"),
            "{path}"
        );
        assert!(
            !page.body.contains("<script>")
                && !page.body.contains(" style=")
                && !page.body.contains("<style"),
            "{path}: inline script or style"
        );
        for attr in [
            "src=\"http",
            "href=\"http",
            "action=\"http",
            "src=\"//",
            "href=\"//",
        ] {
            assert!(!page.body.contains(attr), "{path}: a link off this server");
        }
        // Every input, select and textarea has a label.
        for id in page
            .body
            .split(" id=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
        {
            let tag_start = page.body.find(&format!(" id=\"{id}\"")).unwrap();
            let tag = &page.body[page.body[..tag_start].rfind('<').unwrap()..tag_start];
            if (tag.starts_with("<input") && !tag.contains("hidden"))
                || tag.starts_with("<select")
                || tag.starts_with("<textarea")
            {
                assert!(
                    page.body.contains(&format!("for=\"{id}\"")),
                    "{path}: #{id} has no label"
                );
            }
        }
    }
    let dashboard = browser.get("/admin").await.body;
    assert!(text_of(&dashboard, "recent-orders").is_some());
    assert!(dashboard.contains("data-status=\"pending\""));
}

#[tokio::test]
async fn the_catalog_takes_the_product_list_parameters_and_answers_htmx_with_the_results_only() {
    let shop = shop().await;
    let app = &shop.app;
    let mut browser = Browserless::new(app);
    let page = browser
        .get(&format!(
            "/?category={}&in_stock=true&min_price=&search=",
            shop.coffee
        ))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(
        text_of(&page.body, "result-count").as_deref(),
        Some("2 products")
    );
    assert!(page.body.contains("Espresso Beans") && !page.body.contains("Green Tea"));

    let fragment = browser
        .send(
            app.client
                .get(app.url("/?search=tea&page=1&max_price="))
                .header("HX-Request", "true")
                .header("HX-Target", "results"),
        )
        .await;
    assert_eq!(fragment.status, 200);
    assert!(fragment.body.starts_with("<section") && !fragment.body.contains("<html"));
    assert_eq!(fragment.headers["HX-Push-Url"], "/?search=tea&page=1");
    assert!(fragment.body.contains("out-of-stock") && fragment.body.contains("Out of stock"));

    let bad = browser.get("/?min_price=cheap&ordering=sideways").await;
    assert_eq!(bad.status, 400);
    assert!(text_of(&bad.body, "f-min_price-error")
        .unwrap()
        .contains("decimal"));
    assert!(text_of(&bad.body, "f-ordering-error")
        .unwrap()
        .contains("must be one of"));
    assert_eq!(browser.get("/?page=99").await.status, 404);
    let product = browser.get(&format!("/products/{}", shop.green_tea)).await;
    assert!(product.body.contains("Out of stock") && product.body.contains("disabled"));
}

#[tokio::test]
async fn errors_are_html_pages_in_the_site_style_and_the_api_keeps_problem_json() {
    let app = TestApp::spawn().await;
    let mut browser = Browserless::new(&app);
    for (path, status, title) in [
        ("/nowhere", 404, "Page not found"),
        ("/products/999", 404, "Page not found"),
        ("/products/abc", 404, "Page not found"),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, status, "{path}");
        assert!(page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(
            page.body.contains(&format!("<h1>{title}</h1>"))
                && page.body.contains("/assets/app.css"),
            "{path}"
        );
    }
    let method = browser.send(app.client.delete(app.url("/cart"))).await;
    assert!(
        method.status == 403 || method.status == 404 || method.status == 405,
        "{}",
        method.status
    );
    assert!(method.body.contains("<h1>"));
    let api = app.get("/api/nowhere/", None).await;
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn assets_are_embedded_with_their_types_and_a_long_cache() {
    let app = TestApp::spawn().await;
    for (path, kind) in [
        ("/assets/htmx.min.js", "text/javascript"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
        ("/assets/icons/shipped.svg", "image/svg+xml"),
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable"),
            "{path}"
        );
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let htmx = app
        .get("/assets/htmx.min.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(htmx.contains("version:\"2.0."), "htmx 2.x is vendored");
    assert_eq!(app.get("/assets/nothing.js", None).await.status(), 404);
    assert_eq!(app.get("/assets/../Cargo.toml", None).await.status(), 404);
}

#[tokio::test]
async fn pages_hand_the_cart_limits_to_the_scripts_from_the_domain() {
    use orderstream::domain::cart::{MAX_CART_LINES, MAX_LINE_QUANTITY};
    let app = TestApp::spawn().await;
    let page = app.get("/", None).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"data-cart-max-lines="{MAX_CART_LINES}""#)));
    assert!(page.contains(&format!(r#"data-cart-max-quantity="{MAX_LINE_QUANTITY}""#)));
    let script = app
        .get("/assets/storage.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !script.contains("10000"),
        "no copy of the limit in the script"
    );
}
