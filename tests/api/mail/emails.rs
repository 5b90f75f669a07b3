use serde_json::{json, Value};
use std::time::Duration;

use super::sink::{free_port, Mail, SmtpSink};
use super::{mail_to, place_order, python_with_aiosmtpd, set_status, PUBLIC_URL};
use crate::helpers::TestApp;

const WITHIN: Duration = Duration::from_secs(15);

fn about<'a>(mails: &'a [Mail], to: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.to == [to]).collect()
}

#[tokio::test]
async fn placed_shipped_and_delivered_emails_reach_the_shopper_with_number_and_link() {
    let Some(python) = python_with_aiosmtpd() else {
        return;
    };
    let port = free_port();
    let sink = SmtpSink::start(&python, port);
    let app = TestApp::spawn_with(|s| mail_to(s, port)).await;
    let admin = app.admin().await;
    let shopper = app.new_user().await;
    let order = place_order(&app, &admin, &shopper).await;
    set_status(&app, &admin, order, "shipped").await;
    set_status(&app, &admin, order, "delivered").await;

    let mails = sink.wait_for(3, WITHIN).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.mails().len(), 3, "one email per event: {mails:#?}");
    let link = format!("{PUBLIC_URL}/orders/{order}");
    let number = format!("#{order}");
    for (mail, word) in mails.iter().zip(["placed", "shipped", "delivered"]) {
        assert_eq!(mail.to, [shopper.email.clone()]);
        assert_eq!(mail.from, "orders@shop.example");
        assert!(mail.subject.contains(&number), "{}", mail.subject);
        for body in [&mail.text, &mail.html] {
            assert!(body.contains(&number), "order number in {body}");
            assert!(body.contains(word), "{word} in {body}");
            assert!(body.contains(&link), "link in {body}");
        }
        assert!(mail.text.contains("25.00"), "the total: {}", mail.text);
        assert!(mail.html.contains(&format!("href=\"{link}\"")));
        assert!(mail.html.contains("lang=\"en\"") && mail.html.contains("aria-hidden=\"true\""));
    }
}

#[tokio::test]
async fn emails_held_up_by_a_mail_outage_arrive_when_the_server_comes_back() {
    let Some(python) = python_with_aiosmtpd() else {
        return;
    };
    let port = free_port(); // nothing listens there yet: every attempt fails
    let app = TestApp::spawn_with(|s| mail_to(s, port)).await;
    let admin = app.admin().await;
    let shopper = app.new_user().await;
    let order = place_order(&app, &admin, &shopper).await;
    set_status(&app, &admin, order, "shipped").await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // several failed attempts

    let sink = SmtpSink::start(&python, port);
    let mails = sink.wait_for(2, WITHIN).await;
    assert_eq!(about(&mails, &shopper.email).len(), 2);
    assert!(mails[0].subject.contains(&format!("#{order}")));
    assert!(
        mails[0].text.contains("placed") && mails[1].text.contains("shipped"),
        "in order"
    );
}

#[tokio::test]
async fn emails_pending_at_a_restart_are_sent_after_it() {
    let Some(python) = python_with_aiosmtpd() else {
        return;
    };
    let port = free_port();
    let app = TestApp::spawn_with(|s| mail_to(s, port)).await;
    let admin = app.admin().await;
    let shopper = app.new_user().await;
    let order = place_order(&app, &admin, &shopper).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let app = app.restart().await;
    let sink = SmtpSink::start(&python, port);
    let mails = sink.wait_for(1, WITHIN).await;
    assert!(mails[0].subject.contains(&format!("#{order}")));
    drop(app);
}

#[tokio::test]
async fn a_shopper_who_turned_order_emails_off_gets_none() {
    let Some(python) = python_with_aiosmtpd() else {
        return;
    };
    let port = free_port();
    let sink = SmtpSink::start(&python, port);
    let app = TestApp::spawn_with(|s| mail_to(s, port)).await;
    let admin = app.admin().await;
    let quiet = app.new_user().await;
    let me: Value = app
        .get("/api/me/", Some(&quiet.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["order_emails"], true, "on by default");
    let off = app
        .patch(
            "/api/me/",
            Some(&quiet.access),
            json!({"order_emails": false}),
        )
        .await;
    assert_eq!(off.status(), 200);
    assert_eq!(off.json::<Value>().await.unwrap()["order_emails"], false);
    let bad = app
        .patch(
            "/api/me/",
            Some(&quiet.access),
            json!({"order_emails": "no"}),
        )
        .await;
    assert_eq!(bad.status(), 400);

    let order = place_order(&app, &admin, &quiet).await;
    set_status(&app, &admin, order, "shipped").await;
    set_status(&app, &admin, order, "delivered").await;
    // A later order of someone else: once its email is in, the quiet one's would be too.
    let other = app.new_user().await;
    place_order(&app, &admin, &other).await;
    let mails = sink.wait_for(1, WITHIN).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mails = [mails, sink.mails()].concat();
    assert!(about(&mails, &quiet.email).is_empty(), "{mails:#?}");
    assert!(!about(&mails, &other.email).is_empty());
}

#[tokio::test]
async fn with_mail_unset_nothing_is_sent_and_nothing_piles_up() {
    let Some(python) = python_with_aiosmtpd() else {
        return;
    };
    let port = free_port();
    let sink = SmtpSink::start(&python, port);
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let shopper = app.new_user().await;
    let before = place_order(&app, &admin, &shopper).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sink.mails().is_empty());
    // Mail switched on: only what happens from now on is emailed.
    let app = app.restart_with(|s| mail_to(s, port)).await;
    let (access, _) = app.login(&shopper.email, &shopper.password).await;
    let shopper = crate::helpers::TestUser { access, ..shopper };
    let admin = app.admin().await;
    let after = place_order(&app, &admin, &shopper).await;
    let mails = sink.wait_for(1, WITHIN).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let subjects: Vec<String> = sink.mails().iter().map(|m| m.subject.clone()).collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    assert!(
        mails[0].subject.contains(&format!("#{after}")),
        "not #{before}: {subjects:?}"
    );
}
