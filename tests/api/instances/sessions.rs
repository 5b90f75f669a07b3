//! Page sessions across instances: a page, its htmx requests and its live connection often
//! present one expired session at once, and a balancer spreads them over instances. The grace
//! window lives in the database, so every instance hands out the same successor instead of
//! taking the second presenter for a thief and ending the session.
use super::*;
use reqwest::header::{COOKIE, SET_COOKIE};

/// GET /account on `api` with only the refresh cookie (the access cookie expired); the
/// status and the refresh cookie the answer sets.
async fn page_with_refresh(api: &Api, refresh: &str) -> (u16, Option<String>) {
    let response = api
        .client
        .get(format!("{}/account", api.base))
        .header(COOKIE, format!("os_refresh={refresh}"))
        .send()
        .await
        .expect("page request");
    let successor = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("os_refresh="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned());
    (response.status().as_u16(), successor)
}

#[tokio::test]
async fn one_session_presented_to_two_instances_at_once_stays_signed_in_on_both() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start(2, &[]).await;
    for round in 0..5 {
        let user = new_user(deployment.api(round), "session").await;
        let (a, b) = tokio::join!(
            page_with_refresh(deployment.api(0), &user.refresh),
            page_with_refresh(deployment.api(1), &user.refresh),
        );
        assert_eq!(
            (a.0, b.0),
            (200, 200),
            "round {round}: both pages signed in"
        );
        let successor = a.1.expect("a new refresh cookie");
        assert!(!successor.is_empty());
        assert_eq!(
            b.1.as_deref(),
            Some(successor.as_str()),
            "the same successor"
        );

        // The family lives on: the successor rotates on either instance.
        let body = json!({"refresh": successor});
        deployment
            .api(round + 1)
            .post(200, "/api/auth/token/refresh/", None, Some(body))
            .await;
    }
}

#[tokio::test]
async fn a_token_spent_on_one_instance_and_replayed_through_the_api_on_another_ends_the_family() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start(2, &[]).await;
    let user = new_user(deployment.api(0), "stolen").await;
    let (status, successor) = page_with_refresh(deployment.api(0), &user.refresh).await;
    assert_eq!(status, 200);
    // The API gives no grace: the spent token presented again is reuse, on any instance.
    let body = json!({"refresh": user.refresh});
    deployment
        .api(1)
        .post(401, "/api/auth/token/refresh/", None, Some(body))
        .await;
    let body = json!({"refresh": successor.unwrap()});
    deployment
        .api(0)
        .post(401, "/api/auth/token/refresh/", None, Some(body))
        .await;
}
