//! The HTML pages. `http` checks them over plain HTTP (cookies, CSRF, redirects, errors);
//! the others drive Debian's headless chromium against the real server over the DevTools
//! protocol, save a screenshot of each test under `target/test-artifacts/`, and check that
//! pages log no console errors and request nothing beyond this machine.
mod a11y;
mod access;
mod cdp;
pub(crate) mod http;
mod live;
mod live_renewal;
mod local_state;
mod page;
mod pages;
mod proxy;
mod shop;

use serde_json::json;
use std::time::Duration;

use crate::helpers::{require_tool, TestApp, TestUser};
use cdp::Page;

/// A small catalog: two coffee products, one tea.
pub struct Shop {
    pub app: TestApp,
    pub admin: TestUser,
    pub coffee: u64,
    pub espresso: u64,
    pub papers: u64,
    pub green_tea: u64,
}

pub async fn shop() -> Shop {
    shop_with(|_| {}).await
}

pub async fn shop_with(adjust: impl FnOnce(&mut orderstream::config::Settings)) -> Shop {
    let app = TestApp::spawn_with(adjust).await;
    let admin = app.admin().await;
    let coffee = app.create_category(&admin, "Coffee").await;
    let tea = app.create_category(&admin, "Tea").await;
    let espresso = app
        .create_product(&admin, "Espresso Beans", "12.50", 10, coffee)
        .await;
    let papers = app
        .create_product(&admin, "Filter Papers", "3.20", 2, coffee)
        .await;
    let green_tea = app
        .create_product(&admin, "Green Tea", "4.00", 0, tea)
        .await;
    Shop {
        app,
        admin,
        coffee,
        espresso,
        papers,
        green_tea,
    }
}

/// Whether this machine can run the browser tests (in CI a missing browser is a failure).
pub fn browser_available() -> bool {
    require_tool("chromium")
}

pub const WAIT: Duration = Duration::from_secs(10);

/// Signs in through the login form and lands on `next`.
pub async fn log_in(page: &Page, email: &str, password: &str, next: &str) {
    page.goto(&format!("/login?next={}", urlencoding::encode(next)))
        .await;
    page.fill("#f-email", email).await;
    page.fill("#f-password", password).await;
    page.expect_load(page.click("main form button[type=submit]"))
        .await;
    let expected = next.to_owned();
    page.wait_for(
        &format!(
            "location.pathname + location.search === {}",
            json!(expected)
        ),
        WAIT,
        "the page after logging in",
    )
    .await;
}

/// No console errors (except those naming `allowed`), and every request stayed on this machine.
pub fn assert_clean(page: &Page, allowed: &[&str]) {
    let errors: Vec<String> = page
        .console_errors()
        .into_iter()
        .filter(|e| !allowed.iter().any(|a| e.contains(a)))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    let urls = page.requested_urls();
    assert!(!urls.is_empty(), "the page made requests");
    let local = [
        "http://127.0.0.1:",
        "ws://127.0.0.1:",
        "http://localhost:",
        "about:",
        "data:",
    ];
    let foreign: Vec<&String> = urls
        .iter()
        .filter(|u| !local.iter().any(|l| u.starts_with(l)))
        .collect();
    assert!(
        foreign.is_empty(),
        "requests left this machine: {foreign:?}"
    );
}
