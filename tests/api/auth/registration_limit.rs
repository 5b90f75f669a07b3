//! Registrations per client address (`registrations_per_ip_per_hour`): past the budget the API
//! and the register page answer 429 with Retry-After, and no account is made.
use super::{problem, try_login};
use crate::helpers::*;

#[tokio::test]
async fn registrations_past_the_hourly_budget_of_an_address_get_429_and_make_no_account() {
    let app = TestApp::spawn_with(|s| s.registrations_per_ip_per_hour = 3).await;
    let email = |n: u32| format!("signup{n}-{}@example.com", app.port);
    assert_eq!(app.register(&email(1), PASSWORD).await.status(), 201);
    assert_eq!(app.register(&email(2), PASSWORD).await.status(), 201);
    // A refused attempt (email taken) spends the budget too: it is still a guess at an account.
    assert_eq!(app.register(&email(1), PASSWORD).await.status(), 409);

    let refused = app.register(&email(3), PASSWORD).await;
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=3600).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    problem(refused, 429).await;
    assert_eq!(try_login(&app, &email(3), PASSWORD).await.status(), 401);

    // The register page is the same use case: refused as well, and nothing made.
    let page = app
        .client
        .post(app.url("/register"))
        .header("Cookie", format!("os_csrf={}", "c".repeat(43)))
        .form(&[
            ("email", email(4).as_str()),
            ("password", PASSWORD),
            ("name", ""),
            ("csrf", &"c".repeat(43)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 429);
    assert_eq!(try_login(&app, &email(4), PASSWORD).await.status(), 401);

    // Signing in is not affected.
    app.login(&email(1), PASSWORD).await;
}
