//! Cookie sessions, transparent rotation, CSRF, and where signed-out visitors are sent.
use reqwest::Method;
use serde_json::{json, Value};

use super::Browserless;
use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn session_cookies_are_httponly_samesite_lax_and_secure_only_when_configured() {
    for secure in [false, true] {
        let app = TestApp::spawn_with(|s| s.cookie_secure = secure).await;
        let user = app.new_user().await;
        let mut browser = Browserless::new(&app);
        let form = browser.get("/login").await;
        let csrf = form.set_cookie("os_csrf").expect("a CSRF cookie");
        let answer = browser
            .post("/login", &[("email", &user.email), ("password", PASSWORD)])
            .await;
        assert_eq!((answer.status, answer.location()), (303, "/"));
        for cookie in [
            csrf,
            answer.set_cookie("os_access").unwrap(),
            answer.set_cookie("os_refresh").unwrap(),
        ] {
            assert!(cookie.contains("HttpOnly"), "{cookie}");
            assert!(cookie.contains("SameSite=Lax"), "{cookie}");
            assert!(cookie.contains("Path=/"), "{cookie}");
            assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
        }
        // The cookie is a session: the API accepts it too (the live endpoints rely on that).
        let me = browser
            .send(app.client.request(Method::GET, app.url("/api/me/")))
            .await;
        assert_eq!(me.status, 200);
    }
}

#[tokio::test]
async fn an_expired_access_cookie_is_replaced_by_rotating_the_refresh_token() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut browser = Browserless::new(&app);
    browser.log_in(&user.email, PASSWORD).await;
    let old_refresh = browser.cookies["os_refresh"].clone();

    // The access cookie is gone (expired): the page still knows the user and sets new cookies.
    browser.cookies.remove("os_access");
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&user.email));
    let new_refresh = page
        .set_cookie("os_refresh")
        .expect("a rotated refresh cookie");
    assert!(page.set_cookie("os_access").is_some());
    assert!(!new_refresh.starts_with(&format!("os_refresh={old_refresh};")));

    // A request that raced with the rotation (same old cookie) is not mistaken for theft.
    let mut racing = Browserless::new(&app);
    racing
        .cookies
        .insert("os_refresh".into(), old_refresh.clone());
    let raced = racing.get("/account").await;
    assert_eq!(raced.status, 200);
    assert_eq!(raced.set_cookie("os_refresh"), Some(new_refresh.clone()));

    // The rotated token works; the spent one is dead for the API.
    let fresh = browser.cookies["os_refresh"].clone();
    let rotated = app
        .post("/api/auth/token/refresh/", None, json!({"refresh": fresh}))
        .await;
    assert_eq!(rotated.status(), 200);
    let spent = app
        .post(
            "/api/auth/token/refresh/",
            None,
            json!({"refresh": old_refresh}),
        )
        .await;
    assert_eq!(spent.status(), 401);
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut browser = Browserless::new(&app);
    browser.log_in(&user.email, PASSWORD).await;
    let token = browser.csrf().await;
    let url = app.url("/account");

    let attempts = [
        app.client.post(&url).form(&[("name", "Mallory")]),
        app.client
            .post(&url)
            .form(&[("name", "Mallory"), ("csrf", "guessed")]),
        app.client
            .post(&url)
            .header("X-CSRF-Token", "guessed")
            .form(&[("name", "Mallory"), ("csrf", token.as_str())]),
        app.client
            .post(&url)
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("name", "Mallory"), ("csrf", token.as_str())]),
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body(r#"{"name":"Mallory"}"#),
    ];
    for attempt in attempts {
        let answer = browser.send(attempt).await;
        assert_eq!(answer.status, 403);
        assert!(answer.body.contains("<h1>Forbidden</h1>"));
    }
    let refused = browser
        .send(
            app.client
                .post(app.url("/cart/items"))
                .form(&[("product_id", "1"), ("quantity", "1")]),
        )
        .await;
    assert_eq!(refused.status, 403);
    let me: Value = app
        .get("/api/me/", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "");

    // The form field and the htmx header both carry it correctly.
    assert_eq!(
        browser.post("/account", &[("name", "Form")]).await.status,
        200
    );
    let htmx = browser
        .htmx_post("/account", "main", &[("name", "Htmx")])
        .await;
    assert_eq!(htmx.status, 200);
    let me: Value = app
        .get("/api/me/", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Htmx");
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_log_in_and_only_same_site_next_is_followed() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut browser = Browserless::new(&app);
    for (path, next) in [
        ("/orders", "%2Forders"),
        ("/admin/", "%2Fadmin"),
        ("/notifications", "%2Fnotifications"),
        ("/orders/1?x=1", "%2Forders%2F1%3Fx%3D1"),
    ] {
        let answer = browser.get(path).await;
        assert_eq!(
            (answer.status, answer.location().to_owned()),
            (303, format!("/login?next={next}")),
            "{path}"
        );
    }
    let htmx = browser
        .send(
            app.client
                .get(app.url("/orders"))
                .header("HX-Request", "true"),
        )
        .await;
    assert_eq!(htmx.headers["HX-Redirect"], "/login?next=%2Forders");

    for (next, expected) in [
        ("/orders", "/orders"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
    ] {
        let mut fresh = Browserless::new(&app);
        let answer = fresh
            .post(
                "/login",
                &[
                    ("email", &user.email),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(
            (answer.status, answer.location()),
            (303, expected),
            "next={next}"
        );
    }
    let wrong = browser
        .post(
            "/login",
            &[("email", &user.email), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("No active account found"));
    assert!(!browser.cookies.contains_key("os_access"));

    // Log out revokes the session: the old cookies no longer open anything.
    browser.log_in(&user.email, PASSWORD).await;
    let stolen = browser.cookies.clone();
    let out = browser.post("/logout", &[]).await;
    assert_eq!((out.status, out.location()), (303, "/"));
    assert!(
        !browser.cookies.contains_key("os_access") && !browser.cookies.contains_key("os_refresh")
    );
    let mut replay = Browserless::new(&app);
    replay.cookies = stolen;
    assert_eq!(replay.get("/account").await.status, 303);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut here = Browserless::new(&app);
    here.log_in(&user.email, PASSWORD).await;
    let mut elsewhere = Browserless::new(&app);
    elsewhere.log_in(&user.email, PASSWORD).await;

    let wrong = here
        .post(
            "/account/password",
            &[
                ("current_password", "not it"),
                ("new_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(super::text_of(&wrong.body, "f-current_password-error").is_some());
    let short = here
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(super::text_of(&short.body, "f-new_password-error").is_some());

    let changed = here
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(changed.status, 200);
    assert!(changed.body.contains("Password changed."));
    assert_eq!(
        here.get("/account").await.status,
        200,
        "this browser stays signed in"
    );
    assert_eq!(
        elsewhere.get("/account").await.status,
        303,
        "the other session ended"
    );
    let old = app
        .post(
            "/api/auth/token/",
            None,
            json!({"email": user.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(old.status(), 401);
}
