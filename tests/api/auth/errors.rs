//! Every 4xx the auth endpoints answer, each as problem+json naming what was wrong.
use super::{field_error, me_status, post_raw, problem, try_login, try_refresh};
use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn register_refuses_bad_emails_and_passwords_out_of_bounds() {
    let app = TestApp::spawn().await;
    for email in [
        "",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "a b@example.com",
        "ann@example..com",
    ] {
        let response = app.register(email, PASSWORD).await;
        field_error(response, "email").await;
    }
    let email = |tag: &str| format!("{tag}-{}@example.com", app.port);
    field_error(app.register(&email("short"), "1234567").await, "password").await;
    field_error(
        app.register(&email("long"), &"x".repeat(129)).await,
        "password",
    )
    .await;
    let named = |name: &str| json!({"email": email("named"), "password": PASSWORD, "name": name});
    field_error(
        app.post("/api/auth/register/", None, named(&"n".repeat(101)))
            .await,
        "name",
    )
    .await;
    field_error(
        app.post("/api/auth/register/", None, named("bell\u{7}"))
            .await,
        "name",
    )
    .await;
    // Both wrong at once: both named.
    let body = problem(app.register("nope", "short").await, 400).await;
    assert!(
        body["errors"]["email"].is_array() && body["errors"]["password"].is_array(),
        "{body}"
    );
    // Nothing was created by the refused attempts.
    assert_eq!(
        app.register(&email("short"), "12345678").await.status(),
        201
    );
    assert_eq!(
        app.register(&email("long"), &"x".repeat(128))
            .await
            .status(),
        201
    );
    assert_eq!(
        try_login(&app, &email("long"), &"x".repeat(128))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_and_missing_fields_are_named() {
    let app = TestApp::spawn().await;
    let email = format!("fields-{}@example.com", app.port);
    let sneaky = json!({"email": email, "password": PASSWORD, "is_admin": true});
    field_error(
        app.post("/api/auth/register/", None, sneaky).await,
        "is_admin",
    )
    .await;
    field_error(
        app.post("/api/auth/register/", None, json!({"email": email}))
            .await,
        "password",
    )
    .await;
    field_error(
        app.post("/api/auth/register/", None, json!({"password": PASSWORD}))
            .await,
        "email",
    )
    .await;
    field_error(
        app.post(
            "/api/auth/register/",
            None,
            json!({"email": 5, "password": PASSWORD}),
        )
        .await,
        "email",
    )
    .await;
    field_error(
        app.post("/api/auth/token/", None, json!({"email": email}))
            .await,
        "password",
    )
    .await;
    field_error(
        app.post("/api/auth/token/refresh/", None, json!({})).await,
        "refresh",
    )
    .await;
    field_error(
        app.post(
            "/api/auth/token/refresh/",
            None,
            json!({"refresh": "x", "access": "y"}),
        )
        .await,
        "access",
    )
    .await;

    let user = app.new_user().await;
    let token = Some(user.access.as_str());
    field_error(
        app.patch("/api/me/", token, json!({"is_admin": true}))
            .await,
        "is_admin",
    )
    .await;
    field_error(
        app.patch(
            "/api/me/",
            token,
            json!({"name": "Eve", "email": "eve@example.com"}),
        )
        .await,
        "email",
    )
    .await;
    let me: Value = app.get("/api/me/", token).await.json().await.unwrap();
    assert_eq!(
        (
            me["is_admin"].as_bool(),
            me["name"].as_str(),
            me["email"].as_str()
        ),
        (Some(false), Some(""), Some(user.email.as_str()))
    );
    field_error(
        app.post(
            "/api/me/password/",
            token,
            json!({"new_password": "whatever123"}),
        )
        .await,
        "current_password",
    )
    .await;
    // The refused register with `is_admin` created nobody.
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_oversized_bodies() {
    let app = TestApp::spawn().await;
    let valid =
        json!({"email": format!("raw-{}@example.com", app.port), "password": PASSWORD}).to_string();
    for broken in [
        "{\"email\": ",
        "not json",
        "",
        "[1, 2]",
        "{\"email\": \"a@b.co\", \"password\": \"12345678\"} trailing",
    ] {
        let body = problem(
            post_raw(
                &app,
                "/api/auth/register/",
                Some("application/json"),
                broken,
            )
            .await,
            400,
        )
        .await;
        assert!(
            !body["detail"].as_str().unwrap().contains("line "),
            "no parser internals: {body}"
        );
    }
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        problem(
            post_raw(&app, "/api/auth/register/", content_type, valid.clone()).await,
            415,
        )
        .await;
    }
    // charset parameters are fine.
    let response = post_raw(
        &app,
        "/api/auth/register/",
        Some("application/json; charset=utf-8"),
        valid,
    )
    .await;
    assert_eq!(response.status(), 201);

    // Just over 1 MiB: 413. Well under it but over any default extractor limit: parsed and judged.
    let huge = json!({"email": "big@example.com", "password": "x".repeat(1024 * 1024)}).to_string();
    problem(
        post_raw(&app, "/api/auth/register/", Some("application/json"), huge).await,
        413,
    )
    .await;
    let user = app.new_user().await;
    let big = json!({"address": "a".repeat(700 * 1024)});
    field_error(
        app.patch("/api/me/", Some(&user.access), big).await,
        "address",
    )
    .await;
    // Chunked (no Content-Length) and over the limit: still 413.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    problem(
        post_raw(&app, "/api/auth/token/", Some("application/json"), stream).await,
        413,
    )
    .await;
}

#[tokio::test]
async fn duplicate_email_is_409_whatever_the_case() {
    let app = TestApp::spawn().await;
    let email = format!("dup-{}@example.com", app.port);
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    problem(app.register(&email, "another password").await, 409).await;
    problem(app.register(&email.to_uppercase(), PASSWORD).await, 409).await;
    // The first account is unharmed: its password still works, the second's does not.
    assert_eq!(try_login(&app, &email, PASSWORD).await.status(), 200);
    problem(try_login(&app, &email, "another password").await, 401).await;
}

#[tokio::test]
async fn bad_credentials_get_one_message_whatever_was_wrong() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let unknown = problem(
        try_login(&app, &format!("ghost-{}@example.com", app.port), PASSWORD).await,
        401,
    )
    .await;
    let wrong = problem(try_login(&app, &user.email, "wrong password").await, 401).await;
    let malformed = problem(try_login(&app, "not-an-email", PASSWORD).await, 401).await;
    assert_eq!(unknown["detail"], wrong["detail"]);
    assert_eq!(unknown["detail"], malformed["detail"]);
    assert_eq!(unknown, wrong, "the whole problem document is the same");
}

#[tokio::test]
async fn missing_garbage_and_foreign_bearer_tokens_are_401() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    problem(app.get("/api/me/", None).await, 401).await;
    let tampered = {
        let mut t = user.access.clone();
        let last = t.pop().unwrap();
        t.push(if last == 'A' { 'B' } else { 'A' });
        t
    };
    for token in [
        "garbage",
        "a.b.c",
        "",
        user.refresh.as_str(),
        tampered.as_str(),
    ] {
        let response = app.get("/api/me/", Some(token)).await;
        let www = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        problem(response, 401).await;
        assert!(
            www.is_some_and(|v| v.starts_with("Bearer")),
            "WWW-Authenticate for {token:?}"
        );
    }
    let basic = app
        .client
        .get(app.url("/api/me/"))
        .header("authorization", format!("Basic {}", user.access))
        .send()
        .await
        .unwrap();
    problem(basic, 401).await;
    // A token from another installation (another secret) is worthless here.
    let other = TestApp::spawn().await;
    let stranger = other.new_user().await;
    problem(app.get("/api/me/", Some(&stranger.access)).await, 401).await;
    problem(try_refresh(&app, &stranger.refresh).await, 401).await;
    problem(try_refresh(&app, "garbage").await, 401).await;
    assert_eq!(me_status(&app, &user.access).await, 200);
}

/// The server's clock is moved past the token's lifetime instead of sleeping through it.
#[tokio::test]
async fn an_expired_access_token_is_401() {
    let app = TestApp::spawn_with(|s| s.access_ttl_seconds = 60).await;
    let user = app.new_user().await;
    assert_eq!(me_status(&app, &user.access).await, 200);
    app.clock.advance(std::time::Duration::from_secs(59));
    assert_eq!(
        me_status(&app, &user.access).await,
        200,
        "good until its lifetime is over"
    );
    app.clock.advance(std::time::Duration::from_secs(2));
    problem(app.get("/api/me/", Some(&user.access)).await, 401).await;
    // The refresh token still works and mints a fresh access token.
    let response = try_refresh(&app, &user.refresh).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(me_status(&app, body["access"].as_str().unwrap()).await, 200);
}

/// A refresh token is spent no later than its lifetime, on the server's clock.
#[tokio::test]
async fn an_expired_refresh_token_is_401() {
    let app = TestApp::spawn_with(|s| s.refresh_ttl_seconds = 3600).await;
    let user = app.new_user().await;
    app.clock.advance(std::time::Duration::from_secs(3601));
    problem(try_refresh(&app, &user.refresh).await, 401).await;
    // Signing in again starts a fresh session.
    let (access, refresh) = app.login(&user.email, PASSWORD).await;
    assert_eq!(me_status(&app, &access).await, 200);
    assert_eq!(try_refresh(&app, &refresh).await.status(), 200);
}
