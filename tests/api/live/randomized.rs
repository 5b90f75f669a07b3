//! Randomized: many users, random transitions, random disconnects and resumes. At the end every
//! client has seen exactly its user's events (admins: all events), each once, in id order.
use futures_util::future::join_all;
use serde_json::Value;
use std::time::Duration;

use super::client::{Kind, LiveClient, SseClient};
use super::{all_notifications, assert_increasing, created, ids, status, summary, Shop};
use crate::helpers::{TestApp, TestUser};

const DEFAULT_SEED: u64 = 0x5eed_0f_11fe;
const USERS: usize = 6;
const STEPS: usize = 40;
const QUIET: Duration = Duration::from_millis(400);

/// xorshift64*: tiny, deterministic, good enough to pick steps.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One logical client of a user (or of the admin when `user` is None): a sequence of
/// connections, each resuming where the previous one stopped reading.
struct Client {
    user: Option<usize>,
    kind: Kind,
    live: Option<LiveClient>,
    received: Vec<Value>,
}

impl Client {
    fn last_seen(&self) -> u64 {
        self.received
            .last()
            .map(|e| e["id"].as_u64().unwrap())
            .unwrap_or(0)
    }
}

struct Order {
    id: u64,
    user: usize,
    status: &'static str,
}

fn token<'a>(users: &'a [TestUser], shop: &'a Shop, user: Option<usize>) -> &'a str {
    user.map(|u| users[u].access.as_str())
        .unwrap_or(&shop.admin.access)
}

async fn reconnect(app: &TestApp, client: &mut Client, token: &str, rng: &mut Rng) {
    let last = client.last_seen();
    client.live = Some(match (client.kind, rng.below(2)) {
        (Kind::Sse, 0) => {
            let url = app.url(&format!("/api/events/?token={token}&last_event_id={last}"));
            LiveClient::Sse(
                SseClient::open(app.client.get(url))
                    .await
                    .expect("SSE resume by query"),
            )
        }
        (kind, _) => LiveClient::connect(kind, app, token, Some(last)).await,
    });
}

#[tokio::test]
async fn random_transitions_disconnects_and_resumes_deliver_each_event_once_in_order() {
    let seed = std::env::var("LIVE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    println!("live randomized test: seed {seed} (rerun with LIVE_SEED={seed})");
    let mut rng = Rng(seed.max(1));
    let app = TestApp::spawn_with(|s| s.ws_timeout_seconds = 300).await;
    let shop = Shop::open(&app).await;
    let mut users = Vec::new();
    for _ in 0..USERS {
        users.push(app.new_user().await);
    }

    let mut clients: Vec<Client> = Vec::new();
    for user in (0..USERS).map(Some).chain([None, None]) {
        for _ in 0..1 + rng.below(2) {
            let kind = if rng.below(2) == 0 {
                Kind::Ws
            } else {
                Kind::Sse
            };
            let live = LiveClient::connect(kind, &app, token(&users, &shop, user), None).await;
            clients.push(Client {
                user,
                kind,
                live: Some(live),
                received: Vec::new(),
            });
        }
    }

    // What the test did, in order: the truth for admins, and per user for shoppers.
    let mut model: Vec<(usize, (String, u64, String))> = Vec::new();
    let mut orders: Vec<Order> = Vec::new();
    for user in (0..USERS).flat_map(|u| [u, u]) {
        let id = shop.order(&app, &users[user]).await;
        orders.push(Order {
            id,
            user,
            status: "pending",
        });
        model.push((user, created(id)));
    }

    // Steps taken of each kind: transition, disconnect, resume, new order.
    let mut taken = [0usize; 4];
    for step in 0..STEPS {
        let roll = rng.below(10);
        taken[match roll {
            0..=4 => 0,
            5..=6 => 1,
            7..=8 => 2,
            _ => 3,
        }] += 1;
        match roll {
            0..=4 => {
                let open: Vec<usize> = (0..orders.len())
                    .filter(|&i| matches!(orders[i].status, "pending" | "shipped"))
                    .collect();
                if open.is_empty() {
                    continue;
                }
                let order = &mut orders[open[rng.below(open.len())]];
                let next = match (order.status, rng.below(3)) {
                    ("shipped", _) => "delivered",
                    (_, 0) | (_, 1) => "shipped",
                    _ => "cancelled",
                };
                match next {
                    "cancelled" if rng.below(2) == 0 => {
                        shop.cancel(&app, &users[order.user].access, order.id).await
                    }
                    "cancelled" => shop.cancel(&app, &shop.admin.access, order.id).await,
                    _ => shop.set_status(&app, order.id, next).await,
                }
                order.status = next;
                model.push((order.user, status(order.id, next)));
            }
            5..=6 => {
                let connected: Vec<usize> = (0..clients.len())
                    .filter(|&i| clients[i].live.is_some())
                    .collect();
                if connected.is_empty() {
                    continue;
                }
                let client = &mut clients[connected[rng.below(connected.len())]];
                let mut live = client.live.take().unwrap();
                // Read a few of what has arrived; the rest is lost with the connection.
                for _ in 0..rng.below(4) {
                    match live.try_next_event(Duration::from_millis(20)).await {
                        Some(event) => client.received.push(event),
                        None => break,
                    }
                }
                live.close().await;
            }
            7..=8 => {
                let offline: Vec<usize> = (0..clients.len())
                    .filter(|&i| clients[i].live.is_none())
                    .collect();
                if offline.is_empty() {
                    continue;
                }
                let client = &mut clients[offline[rng.below(offline.len())]];
                let token = token(&users, &shop, client.user).to_owned();
                reconnect(&app, client, &token, &mut rng).await;
            }
            _ => {
                let user = rng.below(USERS);
                let id = shop.order(&app, &users[user]).await;
                orders.push(Order {
                    id,
                    user,
                    status: "pending",
                });
                model.push((user, created(id)));
            }
        }
        if step % 10 == 9 {
            println!("step {step}: {} events so far", model.len());
        }
    }

    println!("transitions/disconnects/resumes/new orders tried: {taken:?}");
    assert!(
        taken[1] > 0 && taken[2] > 0,
        "seed {seed} exercised no disconnect or resume"
    );

    // Everyone comes back and reads until the streams go quiet.
    for client in &mut clients {
        if client.live.is_none() {
            let token = token(&users, &shop, client.user).to_owned();
            reconnect(&app, client, &token, &mut rng).await;
        }
        let mut live = client.live.take().unwrap();
        client.received.extend(live.drain(QUIET).await);
        live.close().await;
    }

    let all: Vec<_> = model.iter().map(|(_, event)| event.clone()).collect();
    let mut status_ids = Vec::new();
    for (u, user) in users.iter().enumerate() {
        let truth = all_notifications(&app, user).await;
        let expected: Vec<_> = model
            .iter()
            .filter(|(owner, e)| *owner == u && e.0 == "order.status")
            .map(|(_, e)| e.clone())
            .collect();
        assert_eq!(
            summary(&truth),
            expected,
            "seed {seed}: user {u}'s notifications"
        );
        status_ids.extend(ids(&truth));
        for client in clients.iter().filter(|c| c.user == Some(u)) {
            let context = format!("seed {seed}: user {u} {:?} client", client.kind);
            assert_eq!(ids(&client.received), ids(&truth), "{context}");
            assert_eq!(summary(&client.received), expected, "{context}");
            assert!(
                client
                    .received
                    .iter()
                    .all(|e| e["user_id"].as_u64() == Some(user.id)),
                "{context}"
            );
        }
    }
    status_ids.sort_unstable();
    for client in clients.iter().filter(|c| c.user.is_none()) {
        let context = format!("seed {seed}: admin {:?} client", client.kind);
        assert_eq!(summary(&client.received), all, "{context}");
        assert_increasing(&ids(&client.received));
        let statuses: Vec<Value> = client
            .received
            .iter()
            .filter(|e| e["type"] == "order.status")
            .cloned()
            .collect();
        assert_eq!(ids(&statuses), status_ids, "{context}");
    }
}

#[tokio::test]
async fn concurrent_orders_and_changes_still_arrive_once_and_in_id_order() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app).await;
    let (a, b) = (app.new_user().await, app.new_user().await);
    let mut orders = Vec::new();
    for user in [&a, &b, &a, &b, &a, &b, &a, &b] {
        orders.push(shop.order(&app, user).await);
    }
    let mut clients = vec![
        (
            Some(&a),
            LiveClient::connect(Kind::Ws, &app, &a.access, None).await,
        ),
        (
            Some(&a),
            LiveClient::connect(Kind::Sse, &app, &a.access, None).await,
        ),
        (
            Some(&b),
            LiveClient::connect(Kind::Ws, &app, &b.access, None).await,
        ),
        (
            None,
            LiveClient::connect(Kind::Ws, &app, &shop.admin.access, None).await,
        ),
        (
            None,
            LiveClient::connect(Kind::Sse, &app, &shop.admin.access, None).await,
        ),
    ];

    // Ship every order at once while both users place new ones: events are committed on
    // several threads, and every stream must still be in id order with nothing twice.
    let ships = join_all(orders.iter().map(|&o| shop.set_status(&app, o, "shipped")));
    // Each placing user has a cart of their own (two concurrent orders of one cart race).
    let mut placers = Vec::new();
    for _ in 0..4 {
        placers.push(app.new_user().await);
    }
    let places = join_all(placers.iter().map(|u| shop.order(&app, u)));
    let (_, placed) = tokio::join!(ships, places);
    join_all(
        orders
            .iter()
            .map(|&o| shop.set_status(&app, o, "delivered")),
    )
    .await;

    for (user, client) in &mut clients {
        let events = client.drain(QUIET).await;
        assert_increasing(&ids(&events));
        match user {
            Some(user) => {
                let truth = all_notifications(&app, user).await;
                assert_eq!(ids(&events), ids(&truth));
                assert_eq!(truth.len(), 8, "4 orders shipped then delivered");
            }
            None => {
                assert_eq!(events.len(), 8 + 8 + placed.len());
                let creations: Vec<u64> = events
                    .iter()
                    .filter(|e| e["type"] == "order.created")
                    .map(|e| e["order_id"].as_u64().unwrap())
                    .collect();
                let mut expected = placed.clone();
                expected.sort_unstable();
                let mut got = creations.clone();
                got.sort_unstable();
                assert_eq!(got, expected);
            }
        }
    }
}
