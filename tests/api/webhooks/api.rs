//! The admin API: create (secret once), read, list, update, rotate, delete; 401 / 403;
//! bad input is a 400 naming the field and stores nothing; internal addresses are refused.
use crate::helpers::TestApp;
use serde_json::{json, Value};

use super::create_webhook;

#[tokio::test]
async fn admins_create_read_update_rotate_and_delete_webhooks() {
    let app = TestApp::spawn_with(|s| s.webhooks_allow_private = true).await;
    let admin = app.admin().await;
    let created = create_webhook(
        &app,
        &admin,
        "https://hooks.example.com/orders",
        &["order.status", "order.created"],
    )
    .await;
    let id = created["id"].as_u64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() >= 6 + 32,
        "{secret}"
    );
    assert_eq!(created["active"], true);
    assert_eq!(created["events"], json!(["order.created", "order.status"]));

    let path = format!("/api/webhooks/{id}/");
    let read: Value = app
        .get(&path, Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["url"], "https://hooks.example.com/orders");
    assert!(
        read.get("secret").is_none(),
        "the secret is shown only once"
    );
    let list: Value = app
        .get("/api/webhooks/", Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 1);
    assert!(list["results"][0].get("secret").is_none());

    let patched = app
        .patch(
            &path,
            Some(&admin.access),
            json!({"active": false, "description": "off"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (patched["active"].clone(), patched["description"].clone()),
        (json!(false), json!("off"))
    );
    assert_eq!(
        patched["url"], "https://hooks.example.com/orders",
        "absent fields keep their value"
    );

    let rotated = app
        .post(
            &format!("/api/webhooks/{id}/rotate-secret/"),
            Some(&admin.access),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    let deliveries = app
        .get(
            &format!("/api/webhooks/{id}/deliveries/"),
            Some(&admin.access),
        )
        .await;
    assert_eq!(deliveries.status(), 200);
    assert_eq!(deliveries.json::<Value>().await.unwrap()["count"], 0);

    assert_eq!(app.delete(&path, Some(&admin.access)).await.status(), 204);
    assert_eq!(app.get(&path, Some(&admin.access)).await.status(), 404);
    assert_eq!(app.delete(&path, Some(&admin.access)).await.status(), 404);
}

#[tokio::test]
async fn anonymous_callers_get_401_and_shoppers_403() {
    let app = TestApp::spawn().await;
    let shopper = app.new_user().await;
    let body = json!({"url": "https://hooks.example.com/", "events": ["order.status"]});
    for (token, status) in [(None, 401), (Some(shopper.access.as_str()), 403)] {
        assert_eq!(app.get("/api/webhooks/", token).await.status(), status);
        assert_eq!(
            app.post("/api/webhooks/", token, body.clone())
                .await
                .status(),
            status
        );
        assert_eq!(app.get("/api/webhooks/1/", token).await.status(), status);
        assert_eq!(
            app.patch("/api/webhooks/1/", token, json!({}))
                .await
                .status(),
            status
        );
        assert_eq!(app.delete("/api/webhooks/1/", token).await.status(), status);
        let rotate = app
            .post("/api/webhooks/1/rotate-secret/", token, json!({}))
            .await;
        assert_eq!(rotate.status(), status);
        assert_eq!(
            app.post("/api/webhooks/1/test/", token, json!({}))
                .await
                .status(),
            status
        );
        let log = app.get("/api/webhooks/1/deliveries/", token).await;
        assert_eq!(log.status(), status);
    }
}

async fn refused(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.post("/api/webhooks/", Some(token), body.clone()).await;
    assert_eq!(response.status(), 400, "{body}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{body}"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = admin.access.as_str();
    let problem = refused(
        &app,
        token,
        json!({"url": "ftp://x.example/", "events": ["order.nope"]}),
    )
    .await;
    assert!(problem["errors"]["url"].is_array(), "{problem}");
    assert!(problem["errors"]["events"].is_array(), "{problem}");
    let problem = refused(&app, token, json!({"events": ["order.status"]})).await;
    assert!(problem["errors"]["url"].is_array(), "{problem}");
    let problem = refused(
        &app,
        token,
        json!({"url": "https://a.example/", "events": []}),
    )
    .await;
    assert!(problem["errors"]["events"].is_array(), "{problem}");
    refused(
        &app,
        token,
        json!({"url": "https://a.example/", "events": ["ping"], "secret": "x"}),
    )
    .await;
    let list: Value = app
        .get("/api/webhooks/", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 0, "nothing stored");
}

#[tokio::test]
async fn internal_addresses_are_refused_unless_allowed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for url in [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://localhost:8080/",
        "http://10.0.0.1/",
        "http://[fd12::1]/",
    ] {
        let problem = refused(
            &app,
            &admin.access,
            json!({"url": url, "events": ["order.status"]}),
        )
        .await;
        assert!(problem["errors"]["url"].is_array(), "{url}: {problem}");
    }
    // A public URL can be saved, then not be moved to an internal address.
    let created = create_webhook(
        &app,
        &admin,
        "https://hooks.example.com/",
        &["order.status"],
    )
    .await;
    let path = format!("/api/webhooks/{}/", created["id"]);
    let moved = app
        .patch(
            &path,
            Some(&admin.access),
            json!({"url": "http://127.0.0.1:9/"}),
        )
        .await;
    assert_eq!(moved.status(), 400);
}

/// This machine's own name, when it resolves only to loopback or private addresses (it does
/// in /etc/hosts on most machines and containers).
fn internal_host_name() -> Option<String> {
    use std::net::ToSocketAddrs;
    let name = std::fs::read_to_string("/etc/hostname")
        .ok()?
        .trim()
        .to_owned();
    let addrs: Vec<_> = (name.as_str(), 80).to_socket_addrs().ok()?.collect();
    let internal = !addrs.is_empty()
        && addrs
            .iter()
            .all(|a| orderstream::domain::webhook::is_internal(a.ip()));
    (internal && !name.is_empty()).then_some(name)
}

/// Names are checked when a delivery is made, since DNS answers change: a name that resolves
/// only to internal addresses gets no request.
#[tokio::test]
async fn a_name_resolving_to_an_internal_address_is_refused_at_delivery() {
    let Some(name) = internal_host_name() else {
        eprintln!("skipping: this machine's name does not resolve to an internal address");
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let receiver = super::receiver::Receiver::start(0).await;
    let url = receiver.url.replace("127.0.0.1", &name);
    let created = create_webhook(&app, &admin, &url, &["order.status"]).await;
    let id = created["id"].as_u64().unwrap();
    let ping = app
        .post(
            &format!("/api/webhooks/{id}/test/"),
            Some(&admin.access),
            json!({}),
        )
        .await;
    assert_eq!(ping.status(), 200);
    let ping: Value = ping.json().await.unwrap();
    assert_eq!(ping["status"], "failed", "{ping}");
    assert_eq!(
        ping["error"], "the host resolves only to internal addresses",
        "{ping}"
    );
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );
}
