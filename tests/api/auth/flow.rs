//! The happy paths: register → token → profile → refresh → logout → password change.
use super::{field_error, me_status, problem, try_login, try_refresh};
use crate::helpers::*;
use serde_json::{json, Value};

fn pair(body: &Value) -> (String, String) {
    (
        body["access"].as_str().expect("access").to_owned(),
        body["refresh"].as_str().expect("refresh").to_owned(),
    )
}

#[tokio::test]
async fn register_login_and_profile_round_trip() {
    let app = TestApp::spawn().await;
    let email = format!("ann-{}@example.com", app.port);
    let body = json!({"email": email, "password": PASSWORD, "name": "Ann"});
    let response = app.post("/api/auth/register/", None, body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert!(created["id"].as_u64().is_some_and(|id| id > 0));
    assert_eq!(created["email"], email);
    assert_eq!(created["name"], "Ann");
    assert_eq!(
        (created["phone"].as_str(), created["address"].as_str()),
        (Some(""), Some(""))
    );
    assert_eq!(created["is_admin"], false);
    let joined = created["date_joined"].as_str().unwrap();
    time::OffsetDateTime::parse(joined, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 date_joined");
    assert!(
        created.get("password").is_none() && created.get("password_hash").is_none(),
        "no password in {created}"
    );

    let (access, _) = app.login(&email, PASSWORD).await;
    let me: Value = app
        .get("/api/me/", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, created);

    let change =
        json!({"name": "Ann Lee", "phone": "+44 20 7946 0958", "address": "1 Main St\nLeeds"});
    let response = app.patch("/api/me/", Some(&access), change).await;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["name"], "Ann Lee");
    assert_eq!(updated["phone"], "+44 20 7946 0958");
    assert_eq!(updated["address"], "1 Main St\nLeeds");
    assert_eq!(
        (&updated["id"], &updated["email"]),
        (&created["id"], &created["email"])
    );

    // A partial PATCH changes only what it names.
    let response = app
        .patch("/api/me/", Some(&access), json!({"phone": "0113 496 0000"}))
        .await;
    assert_eq!(response.status(), 200);
    let me: Value = app
        .get("/api/me/", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["phone"], "0113 496 0000");
    assert_eq!(me["name"], "Ann Lee");
    assert_eq!(me["address"], "1 Main St\nLeeds");
}

#[tokio::test]
async fn profile_fields_are_bounded_and_a_bad_patch_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let token = Some(user.access.as_str());
    let at_limit =
        json!({"name": "n".repeat(100), "phone": "1".repeat(32), "address": "a".repeat(500)});
    assert_eq!(app.patch("/api/me/", token, at_limit).await.status(), 200);

    for (field, value) in [
        ("name", "n".repeat(101)),
        ("phone", "1".repeat(33)),
        ("address", "a".repeat(501)),
    ] {
        field_error(
            app.patch("/api/me/", token, json!({ field: value })).await,
            field,
        )
        .await;
    }
    let all_bad = json!({"name": "n".repeat(101), "phone": "call me", "address": "a".repeat(501)});
    let body = problem(app.patch("/api/me/", token, all_bad).await, 400).await;
    for field in ["name", "phone", "address"] {
        assert!(body["errors"][field].is_array(), "{field} named in {body}");
    }
    // One bad field: the good one is not written either.
    field_error(
        app.patch(
            "/api/me/",
            token,
            json!({"name": "Changed", "phone": "1".repeat(33)}),
        )
        .await,
        "phone",
    )
    .await;
    let me: Value = app.get("/api/me/", token).await.json().await.unwrap();
    assert_eq!(me["name"], "n".repeat(100));
    assert_eq!(me["phone"], "1".repeat(32));
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_its_family() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let other_session = app.login(&user.email, &user.password).await;

    let response = try_refresh(&app, &user.refresh).await;
    assert_eq!(response.status(), 200);
    let (access1, refresh1) = pair(&response.json().await.unwrap());
    assert_ne!(refresh1, user.refresh, "the refresh token rotates");
    assert_eq!(me_status(&app, &access1).await, 200);

    // The old token again: refused, and the whole family dies with it.
    let reused = problem(try_refresh(&app, &user.refresh).await, 401).await;
    assert!(
        !reused["detail"].as_str().unwrap().contains("family"),
        "no internals: {reused}"
    );
    problem(try_refresh(&app, &refresh1).await, 401).await;

    // Another sign-in of the same user is a different family and keeps working.
    let response = try_refresh(&app, &other_session.1).await;
    assert_eq!(response.status(), 200);
    let (_, refresh2) = pair(&response.json().await.unwrap());
    assert_eq!(try_refresh(&app, &refresh2).await.status(), 200);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_and_the_presented_access_token() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (other_access, other_refresh) = app.login(&user.email, &user.password).await;
    assert_eq!(me_status(&app, &user.access).await, 200);

    let response = app
        .post(
            "/api/auth/logout/",
            Some(&user.access),
            json!({"refresh": user.refresh}),
        )
        .await;
    assert_eq!(response.status(), 204);
    problem(app.get("/api/me/", Some(&user.access)).await, 401).await;
    problem(try_refresh(&app, &user.refresh).await, 401).await;

    // The other session is untouched.
    assert_eq!(me_status(&app, &other_access).await, 200);
    assert_eq!(try_refresh(&app, &other_refresh).await.status(), 200);
}

#[tokio::test]
async fn password_change_revokes_every_token_of_the_user() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let bystander = app.new_user().await;
    let (access2, refresh2) = app.login(&user.email, &user.password).await;
    let response = try_refresh(&app, &refresh2).await;
    let (access3, refresh3) = pair(&response.json().await.unwrap());
    let new_password = "a brand new passphrase";
    let token = Some(user.access.as_str());

    // Wrong current password: 400 naming it, and nothing changes.
    let wrong = json!({"current_password": "not my password", "new_password": new_password});
    field_error(
        app.post("/api/me/password/", token, wrong).await,
        "current_password",
    )
    .await;
    let short = json!({"current_password": user.password, "new_password": "short"});
    field_error(
        app.post("/api/me/password/", token, short).await,
        "new_password",
    )
    .await;
    assert_eq!(me_status(&app, &user.access).await, 200);
    assert_eq!(
        try_login(&app, &user.email, &user.password).await.status(),
        200
    );
    problem(try_login(&app, &user.email, new_password).await, 401).await;

    let change = json!({"current_password": user.password, "new_password": new_password});
    assert_eq!(
        app.post("/api/me/password/", token, change).await.status(),
        204
    );

    for access in [&user.access, &access2, &access3] {
        problem(app.get("/api/me/", Some(access)).await, 401).await;
    }
    for refresh in [&user.refresh, &refresh3] {
        problem(try_refresh(&app, refresh).await, 401).await;
    }
    problem(try_login(&app, &user.email, &user.password).await, 401).await;
    let (access, refresh) = app.login(&user.email, new_password).await;
    assert_eq!(me_status(&app, &access).await, 200);
    assert_eq!(try_refresh(&app, &refresh).await.status(), 200);
    // Other users keep their sessions.
    assert_eq!(me_status(&app, &bystander.access).await, 200);
    assert_eq!(try_refresh(&app, &bystander.refresh).await.status(), 200);
}

#[tokio::test]
async fn paths_without_a_trailing_slash_work() {
    let app = TestApp::spawn().await;
    let email = format!("noslash-{}@example.com", app.port);
    let response = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let response = app
        .post(
            "/api/auth/token",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (access, refresh) = pair(&response.json().await.unwrap());
    assert_eq!(app.get("/api/me", Some(&access)).await.status(), 200);
    assert_eq!(
        app.patch("/api/me", Some(&access), json!({"name": "Slashless"}))
            .await
            .status(),
        200
    );
    let response = app
        .post("/api/auth/token/refresh", None, json!({"refresh": refresh}))
        .await;
    assert_eq!(response.status(), 200);
    let (access, refresh) = pair(&response.json().await.unwrap());
    let change = json!({"current_password": PASSWORD, "new_password": "another passphrase"});
    assert_eq!(
        app.post("/api/me/password", Some(&access), change)
            .await
            .status(),
        204
    );
    let (access, refresh_after) = app.login(&email, "another passphrase").await;
    assert_eq!(
        app.post(
            "/api/auth/logout",
            Some(&access),
            json!({"refresh": refresh_after})
        )
        .await
        .status(),
        204
    );
    problem(app.get("/api/me", Some(&access)).await, 401).await;
    problem(try_refresh(&app, &refresh).await, 401).await;
}

#[tokio::test]
async fn emails_are_matched_case_insensitively() {
    let app = TestApp::spawn().await;
    let email = format!("Mixed.Case-{}@Example.COM", app.port);
    let response = app.register(&email, PASSWORD).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["email"], email.to_lowercase());
    for spelling in [email.clone(), email.to_lowercase(), email.to_uppercase()] {
        let (access, _) = app.login(&spelling, PASSWORD).await;
        let me: Value = app
            .get("/api/me/", Some(&access))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["id"], created["id"], "login as {spelling}");
    }
}

#[tokio::test]
async fn revocations_survive_a_restart() {
    let app = TestApp::spawn().await;
    let leaver = app.new_user().await;
    let changer = app.new_user().await;
    let reused = app.new_user().await;
    let response = app
        .post(
            "/api/auth/logout/",
            Some(&leaver.access),
            json!({"refresh": leaver.refresh}),
        )
        .await;
    assert_eq!(response.status(), 204);
    let change =
        json!({"current_password": changer.password, "new_password": "changed passphrase"});
    assert_eq!(
        app.post("/api/me/password/", Some(&changer.access), change)
            .await
            .status(),
        204
    );
    let rotated: Value = try_refresh(&app, &reused.refresh)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        try_refresh(&app, &reused.refresh).await.status(),
        401,
        "reuse kills the family"
    );

    let app = app.restart().await;
    problem(app.get("/api/me/", Some(&leaver.access)).await, 401).await;
    problem(try_refresh(&app, &leaver.refresh).await, 401).await;
    problem(app.get("/api/me/", Some(&changer.access)).await, 401).await;
    problem(try_refresh(&app, &changer.refresh).await, 401).await;
    problem(
        try_login(&app, &changer.email, &changer.password).await,
        401,
    )
    .await;
    assert_eq!(
        try_login(&app, &changer.email, "changed passphrase")
            .await
            .status(),
        200
    );
    problem(
        try_refresh(&app, rotated["refresh"].as_str().unwrap()).await,
        401,
    )
    .await;
}
