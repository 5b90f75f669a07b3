//! The order-email switch on the account page: htmx swaps just its card, a plain form post
//! gets the whole page back; either way the API's `order_emails` follows.
use serde_json::Value;

use super::Browserless;
use crate::helpers::TestApp;

#[tokio::test]
async fn the_account_page_turns_order_emails_off_with_htmx_and_on_with_a_plain_form() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut browser = Browserless::new(&app);
    browser.log_in(&user.email, &user.password).await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("name=\"order_emails\" value=\"on\" checked"),
        "on by default"
    );

    // An unticked box is left out of the form: that is "off".
    let card = browser
        .htmx_post("/account/emails", "order-emails", &[])
        .await;
    assert_eq!(card.status, 200);
    assert!(card.body.contains("id=\"order-emails\"") && !card.body.contains("<html"));
    assert!(card.body.contains("Order emails are off."));
    assert!(!card.body.contains("value=\"on\" checked"));
    assert!(!order_emails(&app, &user.access).await);

    let page = browser
        .post("/account/emails", &[("order_emails", "on")])
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html") && page.body.contains("Order emails are on."));
    assert!(order_emails(&app, &user.access).await);
}

async fn order_emails(app: &TestApp, access: &str) -> bool {
    let me: Value = app
        .get("/api/me/", Some(access))
        .await
        .json()
        .await
        .unwrap();
    me["order_emails"].as_bool().unwrap()
}
