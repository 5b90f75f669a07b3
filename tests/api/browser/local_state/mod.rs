//! State kept in the browser's localStorage (assets/storage.js): a visitor's cart that survives
//! closing the page and is merged into the account on registering, the catalog filters the
//! catalog link restores, the last live event id a reopened tab resumes from, and corrupt or
//! outdated stored data that is discarded without breaking the page.
mod cart;
mod live;
mod stored_state;

use serde_json::{json, Value};

use super::cdp::{Browser, Page};

pub const KEY: &str = "orderstream";

/// Closes `page` and opens a new one in the same browser context (same cookies and storage),
/// as a shopper closing a tab and coming back later.
pub async fn reopen(browser: &Browser, page: Page) -> Page {
    let info = page.cmd("Target.getTargetInfo", json!({})).await;
    let target = info["targetInfo"]["targetId"].as_str().unwrap().to_owned();
    let context = info["targetInfo"]["browserContextId"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = page.base.clone();
    // Open the new page first: the context must never be left without one.
    let created = browser
        .conn
        .call(
            None,
            "Target.createTarget",
            json!({"url": "about:blank", "browserContextId": context}),
        )
        .await
        .expect("new target");
    browser
        .conn
        .call(None, "Target.closeTarget", json!({"targetId": target}))
        .await
        .expect("page closed");
    let attached = browser
        .conn
        .call(
            None,
            "Target.attachToTarget",
            json!({"targetId": created["targetId"], "flatten": true}),
        )
        .await
        .expect("attach");
    let page = Page {
        conn: browser.conn.clone(),
        session: attached["sessionId"].as_str().unwrap().to_owned(),
        base,
    };
    for domain in [
        "Page.enable",
        "Runtime.enable",
        "Log.enable",
        "Network.enable",
    ] {
        page.cmd(domain, json!({})).await;
    }
    page
}

/// The stored document, parsed (Null when there is none).
pub async fn stored(page: &Page) -> Value {
    let text = page
        .eval(&format!("localStorage.getItem({})", json!(KEY)))
        .await;
    match text.as_str() {
        Some(text) => serde_json::from_str(text).expect("the stored value is JSON"),
        None => Value::Null,
    }
}
