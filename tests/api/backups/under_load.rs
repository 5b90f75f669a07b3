//! A backup taken from the running server while 32 clients place orders, restored with the CLI
//! and served by the real binary: nothing acknowledged before it is missing, nothing is torn.
use super::{all_orders, assert_succeeded, orderstream, stocks};
use crate::binary;
use crate::helpers::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const PRODUCTS: u64 = 4;
const INITIAL_STOCK: u64 = 100_000;

/// An order the server acknowledged (201), and when the client had the answer.
struct Acknowledged {
    id: u64,
    at: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_acknowledged_order_and_nothing_torn() {
    if skip_unless_sled("the backup is restored with the CLI into a sled data dir") {
        return;
    }
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Load").await;
    let mut products = Vec::new();
    for n in 0..PRODUCTS {
        let name = format!("Item {n}");
        products.push(
            app.create_product(&admin, &name, "1.00", INITIAL_STOCK, category)
                .await,
        );
    }
    let mut users = Vec::new();
    for _ in 0..CLIENTS {
        users.push(app.new_user().await);
    }
    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for (n, user) in users.iter().cloned().enumerate() {
        let (app, stop, acknowledged, products) = (
            app.clone(),
            stop.clone(),
            acknowledged.clone(),
            products.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut round = n;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let product = products[round % products.len()];
                let quantity = 1 + (round % 3) as u64;
                app.add_to_cart(&user, product, quantity).await;
                let response = app
                    .post("/api/orders/", Some(&user.access), json!({}))
                    .await;
                assert_eq!(response.status(), 201, "place order");
                let at = Instant::now();
                let order: Value = response.json().await.unwrap();
                let id = order["id"].as_u64().unwrap();
                acknowledged.lock().unwrap().push(Acknowledged { id, at });
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let began = Instant::now();
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/admin/backup/",
            Some(&admin.access),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    let pause_us: u64 = response.headers()["x-backup-writer-pause-us"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let records = response.headers()["x-backup-records"]
        .to_str()
        .unwrap()
        .to_owned();
    let backup = response.bytes().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    let before: BTreeSet<u64> = acknowledged
        .iter()
        .filter(|a| a.at < began)
        .map(|a| a.id)
        .collect();
    let after = acknowledged.len() - before.len();
    eprintln!(
        "backup of {records} records, {} bytes; writers paused {pause_us} µs; {} orders acknowledged before it began, {after} after",
        backup.len(),
        before.len()
    );
    assert!(before.len() >= CLIENTS, "the load ran before the backup");
    assert!(after > 0, "the load ran on while the backup was taken");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("live.osbackup");
    std::fs::write(&file, &backup).unwrap();
    let data = dir.path().join("data");
    assert_succeeded(&orderstream(&[
        "--data-dir".as_ref(),
        data.as_os_str(),
        "restore".as_ref(),
        "--from".as_ref(),
        file.as_os_str(),
    ]));
    let server = binary::start(dir.path(), 1).await;
    let api = &server.api;
    let admin_token = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let restored = all_orders(api, &admin_token).await;
    let present: BTreeSet<u64> = restored.iter().map(|o| o["id"].as_u64().unwrap()).collect();
    let missing: Vec<_> = before.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not restored: {missing:?}"
    );

    // Stock: initial − what the restored orders took, product by product.
    let mut taken: BTreeMap<u64, u64> = BTreeMap::new();
    for order in &restored {
        for item in order["items"].as_array().unwrap() {
            *taken
                .entry(item["product_id"].as_u64().unwrap())
                .or_default() += item["quantity"].as_u64().unwrap();
        }
    }
    let stock = stocks(api).await;
    for product in &products {
        let taken = taken.get(product).copied().unwrap_or(0);
        assert_eq!(stock[product], INITIAL_STOCK - taken, "stock of {product}");
    }

    // Events: one order.created per restored order, no more, no less.
    let created = order_created_events(api, &admin_token).await;
    assert_eq!(created, present, "order.created events ⇔ orders");

    for user in users.iter().step_by(8) {
        api.login(&user.email, &user.password).await;
    }
}

/// The order ids of every `order.created` event, replayed over SSE from the start of the log.
async fn order_created_events(api: &binary::Api, token: &str) -> BTreeSet<u64> {
    let response = api
        .client
        .get(format!("{}/api/events/?last_event_id=0", api.base))
        .bearer_auth(token)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    // The replay comes at once; a quiet second means it is over.
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), stream.next()).await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .filter(|event| event["type"] == "order.created")
        .map(|event| event["order_id"].as_u64().unwrap())
        .collect()
}
