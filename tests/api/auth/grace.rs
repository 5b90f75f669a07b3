//! The page session's grace window (a just-rotated refresh cookie still yields its successor
//! for a few seconds, so racing requests are not mistaken for theft) gives nothing once the
//! token's family is revoked.
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::Response;

use super::try_refresh;
use crate::helpers::*;

/// A page request carrying only the refresh cookie, as a browser does once the access
/// cookie has expired.
async fn page_with_refresh_cookie(app: &TestApp, refresh: &str) -> Response {
    app.client
        .get(app.url("/account"))
        .header(COOKIE, format!("os_refresh={refresh}"))
        .send()
        .await
        .expect("page request")
}

/// The value of the `name` cookie the answer sets, if any.
fn cookie_set(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

fn assert_signed_out(response: &Response) {
    assert!(
        response.status().is_redirection(),
        "signed out is sent to the login page, got {}",
        response.status()
    );
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/login"), "{location}");
    let access = cookie_set(response, "os_access");
    assert!(
        access.as_deref().unwrap_or("").is_empty(),
        "no fresh access cookie: {access:?}"
    );
}

#[tokio::test]
async fn a_family_revoked_for_reuse_gets_nothing_from_the_grace_window() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    // The page rotates the refresh cookie (R1 → R2) and remembers the rotation.
    let first = page_with_refresh_cookie(&app, &user.refresh).await;
    assert_eq!(first.status(), 200);
    assert!(cookie_set(&first, "os_access").is_some_and(|v| !v.is_empty()));

    // R1 presented to the API again: reuse, the whole family is revoked.
    assert_eq!(try_refresh(&app, &user.refresh).await.status(), 401);

    // Within the grace window, R1 alone no longer signs anyone in.
    assert_signed_out(&page_with_refresh_cookie(&app, &user.refresh).await);
    let successor = cookie_set(&first, "os_refresh").unwrap();
    assert_signed_out(&page_with_refresh_cookie(&app, &successor).await);
}

#[tokio::test]
async fn a_logout_ends_the_grace_window_too() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let first = page_with_refresh_cookie(&app, &user.refresh).await;
    assert_eq!(first.status(), 200);
    let successor = cookie_set(&first, "os_refresh").unwrap();
    let logout = app
        .post(
            "/api/auth/logout/",
            None,
            serde_json::json!({"refresh": successor}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    assert_signed_out(&page_with_refresh_cookie(&app, &user.refresh).await);
}

#[tokio::test]
async fn a_racing_request_within_the_grace_window_still_gets_the_successor() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let first = page_with_refresh_cookie(&app, &user.refresh).await;
    let raced = page_with_refresh_cookie(&app, &user.refresh).await;
    assert_eq!(raced.status(), 200);
    assert_eq!(
        cookie_set(&raced, "os_refresh"),
        cookie_set(&first, "os_refresh")
    );
}
