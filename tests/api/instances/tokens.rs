//! Tokens across instances: issued by one, accepted by all (the signing secret is in the
//! database); revoked on one, refused by all at once (revocations are in the database too).
use super::*;
use crate::cart_orders::problem;

const A: usize = 0;
const B: usize = 1;

async fn me(api: &Api, access: &str) -> Response {
    api.send(Method::GET, "/api/me/", Some(access), None)
        .await
        .expect("request sent")
}

async fn refresh(api: &Api, refresh: &str) -> Response {
    let body = json!({ "refresh": refresh });
    api.send(Method::POST, "/api/auth/token/refresh/", None, Some(body))
        .await
        .expect("request sent")
}

fn pair(body: &Value) -> (String, String) {
    (
        body["access"].as_str().expect("access").to_owned(),
        body["refresh"].as_str().expect("refresh").to_owned(),
    )
}

#[tokio::test]
async fn a_logout_on_one_instance_is_refused_on_another_at_once() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start(2, &[]).await;
    let (a, b) = (deployment.api(A), deployment.api(B));
    let user = new_user_on(a, a, "leaver").await;
    let (other_access, other_refresh) = login(b, &user.email, PASSWORD).await;
    // Issued by A, good on B.
    let profile: Value = me(b, &user.access).await.json().await.unwrap();
    assert_eq!(profile["id"], user.id);

    let body = json!({ "refresh": user.refresh });
    let response = a
        .send(
            Method::POST,
            "/api/auth/logout/",
            Some(&user.access),
            Some(body),
        )
        .await
        .expect("request sent");
    assert_eq!(response.status(), 204);
    // The very next requests, on B: no grace period, no cache of good tokens.
    problem(me(b, &user.access).await, 401).await;
    problem(refresh(b, &user.refresh).await, 401).await;
    problem(me(a, &user.access).await, 401).await;

    // The live stream refuses it too.
    let sse = reqwest::Client::new()
        .get(format!("{}/api/events/?token={}", b.base, user.access))
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 401, "SSE on B with the revoked token");

    // The user's other session is untouched, on either instance.
    assert_eq!(me(b, &other_access).await.status(), 200);
    assert_eq!(me(a, &other_access).await.status(), 200);
    assert_eq!(refresh(a, &other_refresh).await.status(), 200);
}

#[tokio::test]
async fn refresh_rotation_and_password_changes_hold_across_instances() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start(2, &[]).await;
    let (a, b) = (deployment.api(A), deployment.api(B));

    // Rotated on A: the old refresh token replayed on B is refused and kills the family.
    let user = new_user_on(b, b, "rotator").await;
    let response = refresh(a, &user.refresh).await;
    assert_eq!(response.status(), 200);
    let (access1, refresh1) = pair(&response.json().await.unwrap());
    assert_eq!(
        me(b, &access1).await.status(),
        200,
        "A's new access token on B"
    );
    problem(refresh(b, &user.refresh).await, 401).await;
    problem(refresh(a, &refresh1).await, 401).await;

    // A password change on B revokes every token of the user, on A too, at once.
    let changer = new_user_on(a, a, "changer").await;
    let (access2, refresh2) = login(b, &changer.email, PASSWORD).await;
    let new_password = "a brand new passphrase";
    let change = json!({"current_password": PASSWORD, "new_password": new_password});
    let response = b
        .send(
            Method::POST,
            "/api/me/password/",
            Some(&access2),
            Some(change),
        )
        .await
        .expect("request sent");
    assert_eq!(response.status(), 204);
    for access in [&changer.access, &access2] {
        problem(me(a, access).await, 401).await;
    }
    for token in [&changer.refresh, &refresh2] {
        problem(refresh(a, token).await, 401).await;
    }
    let old = json!({"email": changer.email, "password": PASSWORD});
    a.post(401, "/api/auth/token/", None, Some(old)).await;
    let (access, _) = login(a, &changer.email, new_password).await;
    assert_eq!(me(b, &access).await.status(), 200);
}
