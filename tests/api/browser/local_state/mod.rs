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
    // Open the new page first: the context must never be left without one.
    let fresh = browser.new_page(page.context.clone(), &page.base).await;
    browser.close(page).await;
    fresh
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
