//! kill -9 under load: every acknowledged order survives a restart, and stock adds up.
use crate::binary::{start, Api};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENTS: usize = 16;
/// Orders acknowledged under load before the kill: enough to span sled's background flushes.
const ACKED_BEFORE_KILL: usize = 150;

#[derive(Default)]
struct Log {
    /// Orders acknowledged with 201, as acknowledged.
    acked: Vec<Value>,
    /// Orders whose cancellation was acknowledged with 200.
    cancelled: HashSet<u64>,
    /// Any other answer while the server was up.
    unexpected: Vec<String>,
}

/// One shopper placing orders (and cancelling every fourth) until the server goes away.
async fn shopper(
    api: Api,
    token: String,
    n: usize,
    products: Vec<u64>,
    log: Arc<Mutex<Log>>,
    acked: Arc<AtomicUsize>,
) {
    let token = Some(token.as_str());
    let complain = |what: String| log.lock().unwrap().unexpected.push(what);
    for i in 0usize.. {
        let lines = [
            ((n + i) % products.len(), 1 + i % 3),
            ((n + i + 1) % products.len(), 1),
        ];
        for (line, quantity) in lines {
            let body = json!({"product_id": products[line], "quantity": quantity});
            match api
                .send(Method::POST, "/api/cart/items/", token, Some(body))
                .await
            {
                Ok(r) if r.status() == 201 => {}
                Ok(r) => complain(format!("add to cart: {}", r.status())),
                Err(_) => return,
            }
        }
        let request = api
            .client
            .post(format!("{}/api/orders/", api.base))
            .bearer_auth(token.unwrap());
        let Ok(response) = request
            .header("Idempotency-Key", format!("c{n}-{i}"))
            .send()
            .await
        else {
            return;
        };
        match response.status().as_u16() {
            201 => {
                let Ok(order) = response.json::<Value>().await else {
                    return;
                };
                let id = order["id"].as_u64().unwrap();
                log.lock().unwrap().acked.push(order);
                acked.fetch_add(1, Ordering::SeqCst);
                if i % 4 == 3 {
                    match api
                        .send(
                            Method::POST,
                            &format!("/api/orders/{id}/cancel/"),
                            token,
                            None,
                        )
                        .await
                    {
                        Ok(r) if r.status() == 200 => {
                            log.lock().unwrap().cancelled.insert(id);
                        }
                        Ok(r) => complain(format!("cancel: {}", r.status())),
                        Err(_) => return,
                    }
                }
            }
            // The low-stock product ran out: start over with an empty cart.
            409 => {
                if api
                    .send(Method::DELETE, "/api/cart/", token, None)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            other => complain(format!("place: {other}")),
        }
    }
}

async fn all_orders(api: &Api, admin: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    for page in 1.. {
        let list = api
            .get(
                &format!("/api/orders/?page_size=100&page={page}"),
                Some(admin),
            )
            .await;
        orders.extend(list["results"].as_array().unwrap().iter().cloned());
        if list["next"].is_null() {
            break;
        }
    }
    orders
}

/// Products with their initial stock, and 16 signed-in shoppers.
async fn seed(api: &Api, admin: &str) -> (BTreeMap<u64, u64>, Vec<String>) {
    let category = api
        .post(
            201,
            "/api/categories/",
            Some(admin),
            Some(json!({"name": "Crash", "description": ""})),
        )
        .await;
    let mut initial = BTreeMap::new();
    for (n, stock) in [100_000u64, 100_000, 5_000, 40].into_iter().enumerate() {
        let body = json!({"name": format!("Crash {n}"), "description": "", "price": "1.00", "stock": stock, "category_id": category["id"]});
        let product = api
            .post(201, "/api/products/", Some(admin), Some(body))
            .await;
        initial.insert(product["id"].as_u64().unwrap(), stock);
    }
    let users = join_all((0..CLIENTS).map(|n| async move {
        let email = format!("crash{n}@example.com");
        api.post(
            201,
            "/api/auth/register/",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
        api.login(&email, PASSWORD).await
    }))
    .await;
    (initial, users)
}

async fn crash_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), 1).await;
    let api = server.api.clone();
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (initial, users) = seed(&api, &admin).await;
    let products: Vec<u64> = initial.keys().copied().collect();

    // Some history before the load: orders placed then cancelled, placed then shipped.
    let log = Arc::new(Mutex::new(Log::default()));
    for (n, token) in users.iter().take(4).enumerate() {
        let line = json!({"product_id": products[n], "quantity": 2});
        api.post(201, "/api/cart/items/", Some(token), Some(line))
            .await;
        let order = api.post(201, "/api/orders/", Some(token), None).await;
        let id = order["id"].as_u64().unwrap();
        if n % 2 == 0 {
            api.post(200, &format!("/api/orders/{id}/cancel/"), Some(token), None)
                .await;
            log.lock().unwrap().cancelled.insert(id);
        } else {
            let body = json!({"status": "shipped"});
            api.post(
                200,
                &format!("/api/orders/{id}/status/"),
                Some(&admin),
                Some(body),
            )
            .await;
        }
        log.lock().unwrap().acked.push(order);
    }

    let acked = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (users.iter().enumerate())
        .map(|(n, token)| {
            tokio::spawn(shopper(
                api.clone(),
                token.clone(),
                n,
                products.clone(),
                log.clone(),
                acked.clone(),
            ))
        })
        .collect();
    while acked.load(Ordering::SeqCst) < ACKED_BEFORE_KILL {
        assert!(
            !tasks.iter().all(|t| t.is_finished()),
            "every shopper stopped before the kill"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for task in tasks {
        task.await.expect("shopper task");
    }
    drop(server);
    let log = std::mem::take(&mut *log.lock().unwrap());
    assert!(
        log.unexpected.is_empty(),
        "unexpected answers while up: {:?}",
        log.unexpected
    );

    // Same data directory, new process.
    let server = start(dir.path(), 2).await;
    let api = server.api.clone();
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for order in &log.acked {
        let id = order["id"].as_u64().unwrap();
        let stored = api.get(&format!("/api/orders/{id}/"), Some(&admin)).await;
        assert_eq!(stored["user_id"], order["user_id"], "order {id}");
        assert_eq!(stored["items"], order["items"], "order {id}");
        assert_eq!(stored["created_at"], order["created_at"], "order {id}");
        if log.cancelled.contains(&id) {
            assert_eq!(
                stored["status"], "cancelled",
                "acknowledged cancel of {id} was lost"
            );
        }
    }

    let orders = all_orders(&api, &admin).await;
    assert!(orders.len() >= log.acked.len());
    assert!(
        orders.iter().any(|o| o["status"] == "cancelled")
            && orders.iter().any(|o| o["status"] == "shipped")
    );
    let mut sold: HashMap<u64, u64> = HashMap::new();
    for order in orders.iter().filter(|o| o["status"] != "cancelled") {
        for item in order["items"].as_array().unwrap() {
            *sold
                .entry(item["product_id"].as_u64().unwrap())
                .or_default() += item["quantity"].as_u64().unwrap();
        }
    }
    for (product, stock) in &initial {
        let now = api.get(&format!("/api/products/{product}/"), None).await["stock"]
            .as_u64()
            .unwrap();
        let units = sold.get(product).copied().unwrap_or(0);
        assert_eq!(
            *stock,
            now + units,
            "product {product}: initial {stock} = current {now} + sold {units}"
        );
    }
}

#[tokio::test]
async fn kill_9_mid_load_loses_no_acknowledged_order_and_stock_adds_up() {
    tokio::time::timeout(Duration::from_secs(60), crash_and_check())
        .await
        .expect("crash test finished within 60 s");
}
