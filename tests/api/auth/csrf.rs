//! The session cookie on the JSON API: state-changing requests that rely on it must come from
//! the shop's own pages (Fetch Metadata, Origin, a JSON body or the CSRF token); Bearer clients
//! are unaffected. Personal answers are `no-store`.
use super::problem;
use crate::helpers::*;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use serde_json::{json, Value};

/// A pending order of a fresh shopper.
async fn pending_order(app: &TestApp) -> (TestUser, u64) {
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Tea").await;
    let product = app
        .create_product(&admin, "Green", "3.50", 9, category)
        .await;
    let user = app.new_user().await;
    app.add_to_cart(&user, product, 1).await;
    let placed = app
        .post("/api/orders/", Some(&user.access), json!({}))
        .await;
    assert_eq!(placed.status(), 201);
    let order = placed.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    (user, order)
}

async fn order_status(app: &TestApp, user: &TestUser, order: u64) -> String {
    let detail = app
        .get(&format!("/api/orders/{order}/"), Some(&user.access))
        .await;
    detail.json::<Value>().await.unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_str(v).unwrap()))
        .collect()
}

/// The curl of the issue: a form post from another port with the victim's cookie.
fn cross_port_form(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .headers(headers(&[
            (
                "Origin",
                &format!("http://127.0.0.1:{}", app.port.wrapping_add(1)),
            ),
            ("Sec-Fetch-Site", "same-site"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]))
        .body("")
}

#[tokio::test]
async fn a_cross_site_form_post_with_the_cookie_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (user, order) = pending_order(&app).await;
    let cookie = format!("os_access={}", user.access);
    let cancel = format!("/api/orders/{order}/cancel/");

    let refused = cross_port_form(&app, Method::POST, &cancel)
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    let body = problem(refused, 403).await;
    assert!(
        body["detail"].as_str().unwrap().contains("Bearer"),
        "{body}"
    );
    assert_eq!(order_status(&app, &user, order).await, "pending");
    for path in [
        "/api/orders/",
        "/api/notifications/read-all/",
        "/api/cart/merge/",
    ] {
        let response = cross_port_form(&app, Method::POST, path)
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }

    // The very same request with the token in a Bearer header is an API client's: it works,
    // even with the cookie beside it.
    let cancelled = cross_port_form(&app, Method::POST, &cancel)
        .header("Cookie", &cookie)
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);
    assert_eq!(order_status(&app, &user, order).await, "cancelled");
}

#[tokio::test]
async fn cookie_writes_need_this_sites_origin_and_a_json_body_or_the_csrf_token() {
    let app = TestApp::spawn().await;
    let (user, order) = pending_order(&app).await;
    let cookie = format!("os_access={}", user.access);
    let own = app.address.clone();
    let cancel = app.url(&format!("/api/orders/{order}/cancel/"));

    // No Fetch Metadata (an old browser): a form body alone proves nothing.
    let form = app
        .client
        .post(&cancel)
        .header("Cookie", &cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    // A JSON body from another site's page, or a cross-site fetch: refused all the same.
    for (name, value) in [
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let response = app
            .client
            .post(&cancel)
            .header("Cookie", &cookie)
            .header(name, value)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{name}: {value}");
    }
    // Reads with the cookie are not refused: they change nothing.
    let read = app
        .client
        .get(app.url("/api/me/"))
        .headers(headers(&[
            ("Cookie", &cookie),
            ("Sec-Fetch-Site", "cross-site"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(order_status(&app, &user, order).await, "pending");

    // The shop's own page: same-origin fetch with a JSON body (how app.js merges the cart).
    let merged = app
        .client
        .post(app.url("/api/cart/merge/"))
        .headers(headers(&[
            ("Cookie", &cookie),
            ("Origin", &own),
            ("Sec-Fetch-Site", "same-origin"),
        ]))
        .json(&json!({"items": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(merged.status(), 200);
    // An htmx request carries the pages' CSRF token from the cookie in X-CSRF-Token.
    let token = "a".repeat(43);
    let with_token = app
        .client
        .post(&cancel)
        .headers(headers(&[
            ("Cookie", &format!("{cookie}; os_csrf={token}")),
            ("X-CSRF-Token", &token),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    assert_eq!(order_status(&app, &user, order).await, "cancelled");
}

#[tokio::test]
async fn an_allowed_origin_may_use_the_cookie() {
    let app = TestApp::spawn_with(|s| s.allowed_origins = vec!["http://app.example".into()]).await;
    let (user, order) = pending_order(&app).await;
    let response = app
        .client
        .post(app.url(&format!("/api/orders/{order}/cancel/")))
        .headers(headers(&[
            ("Cookie", &format!("os_access={}", user.access)),
            ("Origin", "http://app.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ]))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn personal_answers_are_marked_no_store_and_public_ones_are_not() {
    let app = TestApp::spawn().await;
    let (user, order) = pending_order(&app).await;
    let token = Some(user.access.as_str());
    let cache_control = |response: reqwest::Response| {
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let personal = [
        app.get("/api/me/", token).await,
        app.get("/api/cart/", token).await,
        app.get("/api/orders/", token).await,
        app.get(&format!("/api/orders/{order}/"), token).await,
        app.get("/api/notifications/", token).await,
        app.get("/api/me/", None).await,
        app.post(
            "/api/auth/token/",
            None,
            json!({"email": user.email, "password": user.password}),
        )
        .await,
    ];
    for response in personal {
        let url = response.url().to_string();
        assert_eq!(
            cache_control(response).as_deref(),
            Some("no-store"),
            "{url}"
        );
    }
    let public = app.get("/api/products/", None).await;
    assert_ne!(cache_control(public).as_deref(), Some("no-store"));
}
