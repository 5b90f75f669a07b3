//! Tests: operations — health, restart, security headers, request ids, metrics, the OpenAPI
//! document and docs page, input limits, running behind a real nginx, and the answer deadline.
mod disk_full;
mod headers;
mod import_sled;
mod limits;
mod logs;
mod memory;
mod metrics;
mod metrics_access;
mod nginx;
mod openapi;
#[cfg(feature = "postgres")]
mod postgres_plans;
mod proxy;
mod timeout;

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // Each part reported on its own: the database, and the cache (no Redis configured here).
    assert_eq!(body["storage"], "ok");
    assert_eq!(body["cache"], "in_process");
}

#[tokio::test]
async fn restart_keeps_users_and_refresh_tokens() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let app = app.restart().await;
    let (access, _) = app.login(&user.email, &user.password).await;
    assert_eq!(app.get("/api/me/", Some(&access)).await.status(), 200);
    let refreshed = app
        .post(
            "/api/auth/token/refresh/",
            None,
            serde_json::json!({"refresh": user.refresh}),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    // The access token minted before the restart is still valid: the secret is kept on disk.
    assert_eq!(app.get("/api/me/", Some(&user.access)).await.status(), 200);
}
