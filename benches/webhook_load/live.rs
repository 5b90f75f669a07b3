//! One measured run: shoppers place orders concurrently, then the admin moves every order
//! through its statuses, while the admin's WebSocket times each event's arrival.
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{api, DataDir, Server, ADMIN_EMAIL, ADMIN_PASSWORD};

/// When each (order, status) request was sent, and when its event reached the admin's socket.
#[derive(Default)]
struct Clock {
    sent: HashMap<(u64, String), Instant>,
    arrived: HashMap<(u64, String), Instant>,
}

pub struct Run {
    server: Server,
    data: DataDir,
    client: reqwest::Client,
    base: String,
    admin: String,
    /// (token, product) per shopper.
    shoppers: Vec<(String, u64)>,
}

pub struct RunFigures {
    /// Kept running while a webhook drains; dropped (SIGKILL) when taken and dropped.
    pub server: Option<Server>,
    _data: DataDir,
    pub orders_per_second: f64,
    /// POST /api/orders/ latency, sorted.
    pub placement: Vec<Duration>,
    /// POST /api/orders/{id}/status/ latency, sorted.
    pub status: Vec<Duration>,
    /// Event arrival on the admin's WebSocket − request send, every event, sorted.
    pub live: Vec<Duration>,
    pub live_lost: usize,
    /// Events the run wrote to the log (what a webhook for every order event must receive).
    pub events_logged: usize,
    pub hook_started: Option<Instant>,
}

impl Run {
    pub async fn set_up(server: Server, data: DataDir, clients: usize) -> Run {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(clients * 2)
            .build()
            .unwrap();
        let base = server.url("");
        let admin = api::login(&client, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let products = api::create_products(&client, &base, &admin, clients, 1_000_000).await;
        let mut shoppers = Vec::new();
        for (i, product) in products.into_iter().enumerate() {
            let email = format!("hooks-{i}-{}@example.com", std::process::id());
            shoppers.push((api::new_user(&client, &base, &email).await.1, product));
        }
        Run {
            server,
            data,
            client,
            base,
            admin,
            shoppers,
        }
    }

    pub async fn measure(self, orders: usize, hook: Option<&str>) -> RunFigures {
        let clock = Arc::new(Mutex::new(Clock::default()));
        let ws_url = format!(
            "ws://127.0.0.1:{}/ws/?token={}",
            self.server.port, self.admin
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(ws_url)
            .await
            .expect("admin WebSocket");
        let reader_clock = clock.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                let Ok(text) = message.into_text() else {
                    continue;
                };
                let Ok(event) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let key = (
                    event["order_id"].as_u64().unwrap_or(0),
                    event["status"].as_str().unwrap_or("").to_owned(),
                );
                reader_clock
                    .lock()
                    .unwrap()
                    .arrived
                    .insert(key, Instant::now());
            }
        });
        let hook_started = match hook {
            Some(url) => {
                let body = json!({"url": url, "events": ["order.created", "order.status"]});
                let (status, answer) = api::post(
                    &self.client,
                    format!("{}/api/webhooks/", self.base),
                    Some(&self.admin),
                    body,
                )
                .await;
                assert_eq!(status, 201, "create webhook: {answer}");
                Some(Instant::now())
            }
            None => None,
        };

        let started = Instant::now();
        let per_shopper = orders.div_ceil(self.shoppers.len());
        let placing: Vec<_> = self
            .shoppers
            .iter()
            .enumerate()
            .map(|(i, (token, product))| {
                let count = per_shopper.min(orders.saturating_sub(i * per_shopper));
                place(
                    self.client.clone(),
                    self.base.clone(),
                    token.clone(),
                    *product,
                    count,
                    clock.clone(),
                )
            })
            .collect();
        let mut placement = Vec::new();
        let mut placed = Vec::new();
        for (latencies, ids) in futures_util::future::join_all(placing).await {
            placement.extend(latencies);
            placed.extend(ids);
        }
        let orders_per_second = placed.len() as f64 / started.elapsed().as_secs_f64();

        let lanes = self.shoppers.len();
        let moving: Vec<_> = (0..lanes)
            .map(|lane| {
                let mine: Vec<u64> = placed.iter().copied().skip(lane).step_by(lanes).collect();
                advance(
                    self.client.clone(),
                    self.base.clone(),
                    self.admin.clone(),
                    mine,
                    clock.clone(),
                )
            })
            .collect();
        let mut status = Vec::new();
        for latencies in futures_util::future::join_all(moving).await {
            status.extend(latencies);
        }

        let expected = placed.len() * 3;
        let deadline = Instant::now() + Duration::from_secs(30);
        while clock.lock().unwrap().arrived.len() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        reader.abort();
        let clock = clock.lock().unwrap();
        let mut live: Vec<Duration> = clock
            .sent
            .iter()
            .filter_map(|(key, sent)| {
                clock
                    .arrived
                    .get(key)
                    .map(|at| at.saturating_duration_since(*sent))
            })
            .collect();
        let live_lost = clock
            .sent
            .keys()
            .filter(|k| !clock.arrived.contains_key(*k))
            .count();
        placement.sort();
        status.sort();
        live.sort();
        RunFigures {
            server: Some(self.server),
            _data: self.data,
            orders_per_second,
            placement,
            status,
            live,
            live_lost,
            events_logged: expected,
            hook_started,
        }
    }
}

/// One shopper placing `count` orders, one after the other; (latencies, order ids).
async fn place(
    client: reqwest::Client,
    base: String,
    token: String,
    product: u64,
    count: usize,
    clock: Arc<Mutex<Clock>>,
) -> (Vec<Duration>, Vec<u64>) {
    let (mut latencies, mut ids) = (Vec::new(), Vec::new());
    for _ in 0..count {
        let body = json!({"product_id": product, "quantity": 1});
        let (status, _) = api::post(
            &client,
            format!("{base}/api/cart/items/"),
            Some(&token),
            body,
        )
        .await;
        assert_eq!(status, 201, "add to cart");
        let sent = Instant::now();
        let (status, order) = api::post(
            &client,
            format!("{base}/api/orders/"),
            Some(&token),
            json!({}),
        )
        .await;
        latencies.push(sent.elapsed());
        assert_eq!(status, 201, "place order: {order}");
        let id = order["id"].as_u64().unwrap();
        clock
            .lock()
            .unwrap()
            .sent
            .insert((id, "pending".into()), sent);
        ids.push(id);
    }
    (latencies, ids)
}

/// The admin moving `orders` to shipped, then delivered; the request latencies.
async fn advance(
    client: reqwest::Client,
    base: String,
    admin: String,
    orders: Vec<u64>,
    clock: Arc<Mutex<Clock>>,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for order in orders {
        for status in ["shipped", "delivered"] {
            let sent = Instant::now();
            clock
                .lock()
                .unwrap()
                .sent
                .insert((order, status.into()), sent);
            let url = format!("{base}/api/orders/{order}/status/");
            let (code, body) =
                api::post(&client, url, Some(&admin), json!({"status": status})).await;
            latencies.push(sent.elapsed());
            assert_eq!(code, 200, "{status}: {body}");
        }
    }
    latencies
}
