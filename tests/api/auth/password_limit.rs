//! Wrong `current_password` guesses on `/api/me/password/` are counted per user like failed
//! logins: once the budget is spent the next attempt is 429, even with the right password, and
//! guesses sent all at once are counted as they arrive, not after their checks.
use super::{field_error, problem, try_login};
use crate::helpers::*;
use serde_json::json;

async fn change(app: &TestApp, user: &TestUser, current: &str, new: &str) -> reqwest::Response {
    app.post(
        "/api/me/password/",
        Some(&user.access),
        json!({"current_password": current, "new_password": new}),
    )
    .await
}

#[tokio::test]
async fn wrong_current_passwords_are_limited_per_user_and_then_even_the_right_one_gets_429() {
    let app = TestApp::spawn_with(|s| s.login_failures_per_email_per_hour = 3).await;
    let victim = app.new_user().await;
    let bystander = app.new_user().await;
    for guess in 1..=3 {
        let wrong = change(
            &app,
            &victim,
            &format!("guess number {guess}"),
            "a new password",
        )
        .await;
        field_error(wrong, "current_password").await;
    }
    let refused = change(&app, &victim, PASSWORD, "a new password").await;
    assert!(refused.headers().contains_key("retry-after"));
    problem(refused, 429).await;
    // Nothing changed: the old password still signs in, the new one does not, and the
    // session that was guessing with is still the victim's (the login budget is separate).
    assert_eq!(
        try_login(&app, &victim.email, "a new password")
            .await
            .status(),
        401
    );
    app.login(&victim.email, PASSWORD).await;

    // Another user's budget is untouched.
    let changed = change(&app, &bystander, PASSWORD, "another new password").await;
    assert_eq!(changed.status(), 204);
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_past_the_count() {
    let app = TestApp::spawn_with(|s| s.login_failures_per_email_per_hour = 3).await;
    let victim = app.new_user().await;
    let wrong: Vec<String> = (0..12).map(|n| format!("parallel guess {n}")).collect();
    let guesses = wrong
        .iter()
        .map(|guess| change(&app, &victim, guess, "x-new-password"));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 400).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (3, 9), "{statuses:?}");
}
