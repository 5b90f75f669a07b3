//! The admin page over plain HTTP: create shows the secret once, bad input is shown next to
//! the field, "send test event" and "retry now" log attempts, delete removes the webhook.
use crate::browser::http::Browserless;
use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::Value;

use super::receiver::Receiver;
use super::{deliveries, quick_retries};

#[tokio::test]
async fn admins_manage_webhooks_from_the_page_and_see_the_secret_once() {
    let receiver = Receiver::start(1).await;
    let app = TestApp::spawn_with(quick_retries).await;
    let admin = app.admin().await;
    let mut browser = Browserless::new(&app);
    browser.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let empty = browser.get("/admin/webhooks").await;
    assert_eq!(empty.status, 200);
    assert!(
        empty.body.contains("href=\"/admin/webhooks\""),
        "in the admin tabs"
    );

    let refused = browser
        .post(
            "/admin/webhooks",
            &[("url", "ftp://nope"), ("description", "")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("f-url-error") && refused.body.contains("f-events-error"));

    let fields = [
        ("url", receiver.url.as_str()),
        ("description", "shipping"),
        ("events", "order.created"),
        ("events", "order.status"),
    ];
    let created = browser.post("/admin/webhooks", &fields).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created
        .body
        .split("whsec_")
        .nth(1)
        .expect("the secret is shown");
    assert!(!secret.is_empty());
    let hooks: Value = app
        .get("/api/webhooks/", Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    let id = hooks["results"][0]["id"].as_u64().unwrap();
    assert_eq!(hooks["results"][0]["events"].as_array().unwrap().len(), 2);
    let again = browser.get("/admin/webhooks").await;
    assert!(!again.body.contains("whsec_"), "shown once only");

    // The receiver fails the first request: the ping fails, "retry now" sends it again.
    let test = browser
        .post(&format!("/admin/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(test.status, 303);
    assert_eq!(test.headers["location"], format!("/admin/webhooks/{id}"));
    let detail = browser.get(&format!("/admin/webhooks/{id}")).await;
    assert!(
        detail.body.contains("data-status=\"failed\""),
        "{}",
        detail.body
    );
    let failed = deliveries(&app, &admin, id, 1).await.remove(0);
    let retry = format!("/admin/webhooks/{id}/deliveries/{}/retry", failed["id"]);
    assert_eq!(browser.post(&retry, &[]).await.status, 303);
    let detail = browser.get(&format!("/admin/webhooks/{id}")).await;
    assert!(
        detail.body.contains("data-status=\"succeeded\""),
        "{}",
        detail.body
    );
    assert_eq!(receiver.received().len(), 2);

    let deleted = browser
        .post(&format!("/admin/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(deleted.status, 303);
    let hooks: Value = app
        .get("/api/webhooks/", Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hooks["count"], 0);
}

#[tokio::test]
async fn shoppers_get_403_on_the_webhooks_page() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut browser = Browserless::new(&app);
    browser.log_in(&user.email, &user.password).await;
    assert_eq!(browser.get("/admin/webhooks").await.status, 403);
}
