//! Lockout without denial of service: wrong passwords lock out the address that sent them
//! (for that email), slow every attempt on the email down, and never refuse the owner
//! signing in from elsewhere. Addresses differ by binding to other loopback addresses.
use reqwest::{Client, Response};
use serde_json::json;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::helpers::*;

/// A client whose requests come from `address` (127.0.0.0/8 is all loopback on Linux).
fn client_from(address: &str) -> Client {
    let address: IpAddr = address.parse().unwrap();
    Client::builder().local_address(address).build().unwrap()
}

async fn login_from(client: &Client, app: &TestApp, email: &str, password: &str) -> Response {
    client
        .post(app.url("/api/auth/token/"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login sent")
}

#[tokio::test]
async fn an_attacker_locks_out_only_themselves_and_the_owner_signs_in_from_elsewhere() {
    let app = TestApp::spawn().await;
    let budget = app.settings.login_failures_per_email_per_hour;
    let owner = app.new_user().await;
    let attacker = client_from("127.0.0.2");

    // Twenty guesses at once: each is counted before its check, so no more than the budget
    // are checked, and the rest are refused.
    let guesses = (0..20).map(|n| {
        let (attacker, app, email) = (&attacker, &app, &owner.email);
        async move { login_from(attacker, app, email, &format!("guess {n}")).await }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, refused),
        (budget as usize, 20 - budget as usize),
        "{statuses:?}"
    );

    // The owner, from another address, signs in: slowed, not refused.
    let started = Instant::now();
    let owner_login = login_from(&client_from("127.0.0.3"), &app, &owner.email, PASSWORD).await;
    assert_eq!(owner_login.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    // The attacker's address is still refused for this email, even with the right password.
    for password in ["guess 21", PASSWORD] {
        let again = login_from(&attacker, &app, &owner.email, password).await;
        assert_eq!(again.status(), 429);
        assert!(again.headers().contains_key("retry-after"));
    }
}

#[tokio::test]
async fn guesses_on_an_email_under_attack_are_slowed_from_any_address() {
    let app = TestApp::spawn().await;
    let owner = app.new_user().await;
    let attacker = client_from("127.0.0.4");
    for n in 0..6 {
        let guess = login_from(&attacker, &app, &owner.email, &format!("guess {n}")).await;
        assert_eq!(guess.status(), 401);
    }
    // A fresh address guessing the same email waits first: rotating addresses does not
    // make guessing fast again.
    let started = Instant::now();
    let elsewhere = login_from(&client_from("127.0.0.5"), &app, &owner.email, "guess 7").await;
    assert_eq!(elsewhere.status(), 401);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // Other accounts are not affected.
    let other = app.new_user().await;
    let fine = login_from(&client_from("127.0.0.5"), &app, &other.email, PASSWORD).await;
    assert_eq!(fine.status(), 200);
}
