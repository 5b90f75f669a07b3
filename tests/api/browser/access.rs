//! Who may see what: admins only on /admin/, and no cross-site form post gets through.
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::cdp::Browser;
use super::{assert_clean, browser_available, log_in, shop, WAIT};
use crate::helpers::PASSWORD;

#[tokio::test]
async fn a_non_admin_gets_403_on_admin_pages_and_a_visitor_is_sent_to_log_in() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let shopper = shop.app.new_user().await;
    let (browser, _slot) = Browser::launch().await;

    let visitor = browser.new_context(&shop.app.address).await;
    visitor.goto("/admin/orders").await;
    assert_eq!(visitor.path().await, "/login?next=%2Fadmin%2Forders");

    let page = browser.new_context(&shop.app.address).await;
    log_in(&page, &shopper.email, PASSWORD, "/").await;
    assert_eq!(
        page.eval("!!document.querySelector(\"nav a[href='/admin']\")")
            .await,
        false,
        "no admin link for shoppers"
    );
    for path in [
        "/admin/",
        "/admin/orders",
        "/admin/products/1",
        "/admin/nothing-here",
    ] {
        page.goto(path).await;
        assert_eq!(
            page.document_status(path.trim_end_matches('/')),
            Some(403),
            "{path}"
        );
        assert_eq!(page.text("h1").await, "Forbidden", "{path}");
    }
    page.screenshot("access-403").await;
    page.goto("/no-such-page").await;
    assert_eq!(page.document_status("/no-such-page"), Some(404));
    assert_eq!(page.text("h1").await, "Page not found");
    page.screenshot("access-404").await;
    assert_clean(&page, &["status of 403", "status of 404"]);
    assert_clean(&visitor, &[]);
}

/// Serves one page, on another origin, with a form that posts to the shop.
async fn attacker_site(target: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body = format!(
                    "<!doctype html><title>Win a prize</title><form method=post action='{target}/account'>\
                     <input name=name value=Hacked><input name=csrf value=guessed-token>\
                     <button id=go>Claim your prize</button></form>"
                );
                let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn a_cross_site_form_post_is_rejected_and_changes_nothing() {
    if !browser_available() {
        return;
    }
    let shop = shop().await;
    let app = &shop.app;
    let shopper = app.new_user().await;
    let evil = attacker_site(app.address.clone()).await;
    let (browser, _slot) = Browser::launch().await;
    let page = browser.new_context(&app.address).await;
    log_in(&page, &shopper.email, PASSWORD, "/account").await;

    // Another site (its cookies are not sent: SameSite=Lax), and another origin of the same
    // site (cookies sent, but no valid token, and the browser says it is not same-origin).
    for origin in [
        format!("http://localhost:{evil}/"),
        format!("http://127.0.0.1:{evil}/"),
    ] {
        page.goto(&origin).await;
        page.expect_load(page.click("#go")).await;
        assert_eq!(
            page.document_status("/account"),
            Some(403),
            "post from {origin}"
        );
        assert_eq!(page.text("h1").await, "Forbidden");
    }
    page.screenshot("access-cross-site-post").await;
    let me: Value = app
        .get("/api/me/", Some(&shopper.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "", "the profile was not changed");

    // The same form on the shop's own page, with its token, works.
    page.goto("/account").await;
    page.fill("#f-name", "Grace").await;
    page.expect_load(page.click("form[action='/account'] button[type=submit]"))
        .await;
    page.wait_for(
        "document.querySelector('.flash') !== null",
        WAIT,
        "the saved message",
    )
    .await;
    let me: Value = app
        .get("/api/me/", Some(&shopper.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Grace");
    assert_clean(&page, &["status of 403"]);
}
