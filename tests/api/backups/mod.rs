//! Tests: backups and restore — a live backup taken under load and restored with the CLI into
//! the real binary, the CLI backup of a stopped data dir, what restore refuses, and the
//! database format check at open.
mod cli;
mod under_load;

use crate::binary::Api;
use serde_json::Value;
use std::ffi::OsStr;
use std::process::{Command, Output};

/// Runs the real binary with `args` (no config file) and waits for it.
pub fn orderstream(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orderstream"))
        .arg("--config")
        .arg("/nonexistent/orderstream.toml")
        .args(args)
        .output()
        .expect("run the orderstream binary")
}

/// The command failed and said `needle` on stderr.
pub fn assert_refused(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

pub fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every order, as an admin sees the list, oldest first.
pub async fn all_orders(api: &Api, admin: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    for page in 1.. {
        let body = api
            .get(
                &format!("/api/orders/?page_size=100&page={page}"),
                Some(admin),
            )
            .await;
        orders.extend(body["results"].as_array().unwrap().iter().cloned());
        if body["next"].is_null() {
            break;
        }
    }
    orders.reverse();
    orders
}

/// Every product with its stock: id → stock.
pub async fn stocks(api: &Api) -> std::collections::BTreeMap<u64, u64> {
    let body = api.get("/api/products/?page_size=100", None).await;
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_u64().unwrap(), p["stock"].as_u64().unwrap()))
        .collect()
}
