//! Login throttling: attempts per client address, failures per email; both answer 429 + Retry-After.
use super::{problem, try_login};
use crate::helpers::*;
use reqwest::Response;

async fn expect_429(response: Response) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    problem(response, 429).await;
    let seconds: u64 = retry_after
        .expect("Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!(seconds >= 1, "Retry-After {seconds}");
}

#[tokio::test]
async fn logins_are_limited_per_client_address() {
    let app = TestApp::spawn_with(|s| s.login_attempts_per_ip_per_minute = 3).await;
    let email = format!("limited-{}@example.com", app.port);
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    for attempt in 1..=3 {
        assert_eq!(
            try_login(&app, &email, PASSWORD).await.status(),
            200,
            "attempt {attempt}"
        );
    }
    // Right credentials, wrong credentials, other emails: the address is out of attempts.
    expect_429(try_login(&app, &email, PASSWORD).await).await;
    expect_429(try_login(&app, &email, "wrong password").await).await;
    expect_429(try_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await).await;
    // Only logins are throttled: registering is still possible.
    assert_eq!(
        app.register(&format!("other-{}@example.com", app.port), PASSWORD)
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_email() {
    let app = TestApp::spawn_with(|s| s.login_failures_per_email_per_hour = 3).await;
    let victim = app.new_user().await;
    let bystander = app.new_user().await;
    for attempt in 1..=3 {
        let response = try_login(&app, &victim.email, "wrong password").await;
        assert_eq!(
            response.status(),
            401,
            "failure {attempt} is within the budget"
        );
    }
    // The third failure spent the budget: the very next attempt is refused, even with the
    // right password, so no guess is checked past the limit.
    expect_429(try_login(&app, &victim.email, PASSWORD).await).await;
    expect_429(try_login(&app, &victim.email, "wrong password").await).await;
    expect_429(try_login(&app, &victim.email.to_uppercase(), PASSWORD).await).await;
    // Other emails from the same address are not affected, and the victim's live session is not cut.
    assert_eq!(
        try_login(&app, &bystander.email, PASSWORD).await.status(),
        200
    );
    assert_eq!(
        app.get("/api/me/", Some(&victim.access)).await.status(),
        200
    );
}
