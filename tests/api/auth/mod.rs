//! Tests: accounts (register, tokens, profile, password) and every error the auth API answers.
mod csrf;
mod errors;
mod flow;
mod grace;
mod lockout;
mod password_limit;
mod registration_limit;
mod throttle;

use crate::helpers::*;
use reqwest::Response;
use serde_json::{json, Value};

/// Asserts `response` is an RFC 9457 problem with `status` and returns its body.
pub async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "problem content type"
    );
    let body: Value = response.json().await.expect("problem body is JSON");
    assert!(body["type"].is_string(), "type in {body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "title in {body}"
    );
    assert_eq!(body["status"], status, "status member in {body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "detail in {body}"
    );
    body
}

/// Asserts a 400 whose `errors` names `field`; returns the body.
pub async fn field_error(response: Response, field: &str) -> Value {
    let body = problem(response, 400).await;
    let messages = &body["errors"][field];
    assert!(
        messages
            .as_array()
            .is_some_and(|m| !m.is_empty() && m.iter().all(Value::is_string)),
        "errors.{field} in {body}"
    );
    body
}

/// Raw POST with a chosen content type and body bytes.
pub async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = app.client.post(app.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.expect("request sent")
}

/// Login that returns the raw response.
pub async fn try_login(app: &TestApp, email: &str, password: &str) -> Response {
    app.post(
        "/api/auth/token/",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

pub async fn try_refresh(app: &TestApp, refresh: &str) -> Response {
    app.post(
        "/api/auth/token/refresh/",
        None,
        json!({"refresh": refresh}),
    )
    .await
}

pub async fn me_status(app: &TestApp, access: &str) -> u16 {
    app.get("/api/me/", Some(access)).await.status().as_u16()
}
