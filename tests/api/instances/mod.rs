//! Several identical instances behind one load balancer (issue #17): N real server processes
//! on one PostgreSQL database, the client switching instance between requests.
//!
//! What must hold whichever instance answers: stock is never oversold, an idempotency key places
//! one order, live events reach every stream once and in order (and a stream resumed on another
//! instance misses nothing), a revoked token is refused everywhere at once, a catalog write is
//! read fresh everywhere within the catch-up bound, Redis going away degrades nothing but the
//! cache, and the login throttle counts for the whole deployment.
//!
//! Only meaningful on PostgreSQL (sled is one process's database): on sled each test prints why
//! it is skipped and returns. The CI runs the suite again with `ORDERSTREAM_TEST_BACKEND=postgres`.
mod database_outage;
mod delivery;
mod freshness;
mod live;
mod races;
#[cfg(feature = "redis")]
mod redis_outage;
mod revocations;
mod sessions;
mod start_up;
#[cfg(feature = "redis")]
mod throttle;
mod tokens;

use crate::binary::{start_with, Api, Server};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};
use crate::live::client::{LiveClient, SseClient, WsClient};
use futures_util::future::join_all;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a change committed on one instance may take to show on another: the follower's
/// periodic catch-up (`live_catch_up_ms`, 1 s by default) bounds it even if a notification is lost.
pub const CATCH_UP: Duration = Duration::from_millis(1000);

/// True (after printing why) when the test should not run: not on PostgreSQL.
pub fn skip_unless_postgres() -> bool {
    if crate::postgres_cluster::backend_is_postgres() {
        return false;
    }
    eprintln!(
        "skipped: several instances need a shared database; \
         run with ORDERSTREAM_TEST_BACKEND=postgres"
    );
    true
}

/// N instances of the real binary on one database (all started on the same dir, so
/// `postgres_cluster::database_env` gives each the same database), each with its own port and
/// log (`server-<i>.log`).
pub struct Deployment {
    // Before `dir`: the processes die before their directory goes.
    servers: Vec<Server>,
    alive: Vec<bool>,
    pub dir: tempfile::TempDir,
}

/// What every instance of every deployment gets: many test users register from 127.0.0.1.
const COMMON_ENV: [(&str, &str); 1] = [("ORDERSTREAM_REGISTRATIONS_PER_IP_PER_HOUR", "1000000")];

/// A client like the load balancer's: keep-alive connections dropped before the server's 5 s
/// idle close (see `helpers::test_client`), and a generous bound for a loaded 2-core machine.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl Deployment {
    /// Starts `n` instances with `env` on top of the test defaults. The first one starts alone
    /// (it migrates the new database and creates the admin), the others together after it.
    pub async fn start(n: usize, env: &[(&str, &str)]) -> Deployment {
        Deployment::launch(n, env, 1).await
    }

    /// Starts `n` instances at the same moment on a new database (`docker compose up`).
    pub async fn start_together(n: usize, env: &[(&str, &str)]) -> Deployment {
        Deployment::launch(n, env, 0).await
    }

    /// The first `alone` instances one after another, then the rest at once.
    async fn launch(n: usize, env: &[(&str, &str)], alone: usize) -> Deployment {
        assert!(n >= 1);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut all_env: Vec<(&str, &str)> = COMMON_ENV.to_vec();
        all_env.extend_from_slice(env);
        let mut servers = Vec::new();
        for run in 0..alone.min(n) {
            servers.push(start_with(dir.path(), run, &all_env).await);
        }
        servers.extend(
            join_all((servers.len()..n).map(|run| start_with(dir.path(), run, &all_env))).await,
        );
        for server in &mut servers {
            server.api.client = http_client();
        }
        Deployment {
            alive: vec![true; n],
            servers,
            dir,
        }
    }

    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Instance `i % N`: what a round-robin balancer sends the i-th request to.
    pub fn api(&self, i: usize) -> &Api {
        &self.servers[i % self.len()].api
    }

    /// Every running instance, with its index.
    pub fn running(&self) -> impl Iterator<Item = (usize, &Api)> {
        self.servers
            .iter()
            .enumerate()
            .filter(|(i, _)| self.alive[*i])
            .map(|(i, s)| (i, &s.api))
    }

    /// kill -9 of instance `i % N`.
    pub fn kill(&mut self, i: usize) {
        let i = i % self.len();
        self.servers[i].kill();
        self.alive[i] = false;
    }

    /// `ws://…/path` on instance `i % N`.
    pub fn ws_url(&self, i: usize, path: &str) -> String {
        let base = &self.api(i).base;
        format!("ws{}{path}", base.strip_prefix("http").unwrap())
    }

    /// A WebSocket to instance `i % N` as `token`, resuming after `last_event_id`.
    pub async fn ws(&self, i: usize, token: &str, last_event_id: Option<u64>) -> LiveClient {
        let query = crate::live::client::live_query(token, last_event_id);
        let url = self.ws_url(i, &format!("/ws/{query}"));
        LiveClient::Ws(
            WsClient::connect_request(url)
                .await
                .unwrap_or_else(|e| panic!("WebSocket to instance {i}: {e}")),
        )
    }

    /// An SSE stream from instance `i % N` as `token` (`Last-Event-ID` when resuming), on a
    /// client without a total timeout: the stream stays open for the whole test.
    pub async fn sse(&self, i: usize, token: &str, last_event_id: Option<u64>) -> LiveClient {
        let client = reqwest::Client::new();
        let url = format!("{}/api/events/?token={token}", self.api(i).base);
        let mut request = client.get(url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        match SseClient::open(request).await {
            Ok(sse) => LiveClient::Sse(sse),
            Err(status) => panic!("SSE on instance {i}: {status}"),
        }
    }

    fn log_tail(&self, run: usize) -> String {
        let log = std::fs::read_to_string(self.dir.path().join(format!("server-{run}.log")))
            .unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Deployment {
    /// A failed test shows what each instance logged last.
    fn drop(&mut self) {
        if std::thread::panicking() {
            for run in 0..self.len() {
                eprintln!("--- instance {run} (server-{run}.log, last lines) ---");
                eprintln!("{}", self.log_tail(run));
            }
        }
    }
}

static NEXT_USER: AtomicU64 = AtomicU64::new(1);

pub fn unique_email(tag: &str) -> String {
    let n = NEXT_USER.fetch_add(1, Ordering::Relaxed);
    format!("{tag}-{n}@example.com")
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub email: String,
    pub access: String,
    pub refresh: String,
}

/// Signs in on `api`; panics unless 200.
pub async fn login(api: &Api, email: &str, password: &str) -> (String, String) {
    let body = json!({"email": email, "password": password});
    let tokens = api.post(200, "/api/auth/token/", None, Some(body)).await;
    (
        tokens["access"].as_str().expect("access").to_owned(),
        tokens["refresh"].as_str().expect("refresh").to_owned(),
    )
}

/// Registers a new shopper on `register_on` and signs in on `login_on`.
pub async fn new_user_on(register_on: &Api, login_on: &Api, tag: &str) -> User {
    let email = unique_email(tag);
    let body = json!({"email": email, "password": PASSWORD});
    let created = register_on
        .post(201, "/api/auth/register/", None, Some(body))
        .await;
    let (access, refresh) = login(login_on, &email, PASSWORD).await;
    User {
        id: created["id"].as_u64().expect("user id"),
        email,
        access,
        refresh,
    }
}

pub async fn new_user(api: &Api, tag: &str) -> User {
    new_user_on(api, api, tag).await
}

/// The admin's access token, from `api`.
pub async fn admin(api: &Api) -> String {
    login(api, ADMIN_EMAIL, ADMIN_PASSWORD).await.0
}

pub async fn create_category(api: &Api, admin: &str, name: &str) -> u64 {
    let body = json!({"name": name, "description": ""});
    api.post(201, "/api/categories/", Some(admin), Some(body))
        .await["id"]
        .as_u64()
        .unwrap()
}

pub async fn create_product(
    api: &Api,
    admin: &str,
    name: &str,
    price: &str,
    stock: u64,
    category: u64,
) -> u64 {
    let body = json!({"name": name, "description": "", "price": price, "stock": stock, "category_id": category});
    api.post(201, "/api/products/", Some(admin), Some(body))
        .await["id"]
        .as_u64()
        .unwrap()
}

pub async fn add_to_cart(api: &Api, token: &str, product: u64, quantity: u64) {
    let body = json!({"product_id": product, "quantity": quantity});
    api.post(201, "/api/cart/items/", Some(token), Some(body))
        .await;
}

/// POST /api/orders/ (with an `Idempotency-Key` when given).
pub async fn place(api: &Api, token: &str, key: Option<&str>) -> Response {
    let mut request = api
        .client
        .post(format!("{}/api/orders/", api.base))
        .bearer_auth(token);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("order request sent")
}

/// Fills the cart with one unit of `product` and places it; returns the order id.
pub async fn order(api: &Api, token: &str, product: u64) -> u64 {
    add_to_cart(api, token, product, 1).await;
    let response = place(api, token, None).await;
    assert_eq!(response.status(), 201, "place order");
    response.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap()
}

/// POST /api/orders/{order}/status/ as `token`.
pub async fn set_status(api: &Api, token: &str, order: u64, status: &str) -> Response {
    api.send(
        Method::POST,
        &format!("/api/orders/{order}/status/"),
        Some(token),
        Some(json!({ "status": status })),
    )
    .await
    .expect("status request sent")
}

/// POST /api/orders/{order}/cancel/ as `token`.
pub async fn cancel(api: &Api, token: &str, order: u64) -> Response {
    api.send(
        Method::POST,
        &format!("/api/orders/{order}/cancel/"),
        Some(token),
        None,
    )
    .await
    .expect("cancel request sent")
}

/// GET `path` (no auth) on `api`; panics unless 200.
pub async fn read(api: &Api, path: &str) -> Value {
    api.get(path, None).await
}

/// /healthz of `api`: its status code and body.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub async fn health(api: &Api) -> (u16, Value) {
    let response = api
        .send(Method::GET, "/healthz", None, None)
        .await
        .expect("healthz answered");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls `check` (every 2 ms) until it holds; how long that took, or `None` after `bound`.
pub async fn within<F, Fut>(bound: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return Some(started.elapsed());
        }
        if started.elapsed() > bound {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// All of `token`'s notifications (at most 100), oldest first, read on `api`.
pub async fn notifications(api: &Api, token: &str) -> Vec<Value> {
    let body = api
        .get("/api/notifications/?page_size=100", Some(token))
        .await;
    let mut results = body["results"].as_array().expect("results").clone();
    assert_eq!(
        body["count"].as_u64().unwrap() as usize,
        results.len(),
        "more than one page"
    );
    results.sort_by_key(|n| n["id"].as_u64().unwrap());
    results
}
