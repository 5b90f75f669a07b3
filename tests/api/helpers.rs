//! `TestApp`: the real server on 127.0.0.1:0 with a temporary sled directory (or, with
//! `ORDERSTREAM_TEST_BACKEND=postgres`, its own database on the test cluster: see
//! `postgres_cluster`), in its own thread and actix System, talked to over real HTTP.
#![allow(dead_code)]

use orderstream::config::{Secret, Settings};
use orderstream::domain::clock::Clock;
use orderstream::startup::Application;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password";
pub const PASSWORD: &str = "correct horse battery";

static NEXT_USER: AtomicU64 = AtomicU64::new(1);

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The private `/metrics` listener's port, when `metrics_addr` is set.
    pub metrics_port: Option<u16>,
    pub client: reqwest::Client,
    pub data_dir: Arc<tempfile::TempDir>,
    pub settings: Settings,
    /// The server's clock: `app.clock.advance(..)` moves the server's time forward (token
    /// expiry, timestamps), so no test sleeps for an expiry. Kept across restarts.
    pub clock: Clock,
    handle: Option<orderstream::startup::Stopper>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: u64,
    pub email: String,
    pub password: String,
    pub access: String,
    pub refresh: String,
}

/// Settings for tests: cheap password hashing, no demo data, a known admin.
pub fn test_settings(dir: &std::path::Path) -> Settings {
    Settings {
        addr: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        demo: false,
        admin_email: Some(ADMIN_EMAIL.into()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        workers: 2,
        login_attempts_per_ip_per_minute: 1000,
        registrations_per_ip_per_hour: 100_000,
        ..Settings::default()
    }
}

/// On the PostgreSQL backend: a fresh database of the test cluster for these settings, and a
/// small pool (many servers share the cluster). On sled: nothing.
pub fn use_test_database(settings: &mut Settings) {
    if let Some(url) = crate::postgres_cluster::fresh_database_url() {
        settings.database_url = Some(Secret::new(url));
        settings.database_pool_size = crate::postgres_cluster::POOL_SIZE;
    }
}

/// Tests about sled itself (its data directory, files or format): on the PostgreSQL backend
/// prints why the test is skipped and returns true. Use as `if skip_unless_sled("…") { return; }`.
///
/// Used by exactly these, each about the sled data dir rather than the shop's behaviour:
/// - `backups::cli` (3 tests): the CLI backs up / restores a *stopped sled data dir*, and
///   sled's format-version record is refused when newer;
/// - `backups::under_load`: its backup is restored with the CLI into a sled data dir, which the
///   restarted binary then serves;
/// - `ops::disk_full`: fills a tmpfs mounted as the sled data dir;
/// - `catalog::start_up`: seeds the stopped server's sled `Store` directly and races sled's
///   index load at start.
///
/// Everything else runs on both: kill -9 durability (`cart_orders::crash`), oversell,
/// idempotency, restarts, webhooks after a restart.
pub fn skip_unless_sled(reason: &str) -> bool {
    if crate::postgres_cluster::backend_is_postgres() {
        eprintln!("skipped on PostgreSQL: {reason}");
        return true;
    }
    false
}

/// The tests' HTTP client: redirects are answers to check, not to follow.
fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // The server closes a keep-alive connection idle for 5 s (actix's default); a client
        // that reuses one at that instant gets IncompleteMessage, as any HTTP/1.1 client can.
        // Dropping idle connections sooner keeps the tests off that race.
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the app with settings adjusted by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut settings = test_settings(dir.path());
        // Before `adjust`, which may read or change it; restarts keep the settings, so the
        // same database.
        use_test_database(&mut settings);
        adjust(&mut settings);
        Self::start(dir, settings, Clock::system()).await
    }

    async fn start(data_dir: Arc<tempfile::TempDir>, settings: Settings, clock: Clock) -> TestApp {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (server_settings, server_clock) = (settings.clone(), clock.clone());
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match Application::build_with_clock(server_settings, server_clock).await {
                    Ok(app) => {
                        let ports = (app.port(), app.metrics_port());
                        let _ = ready_tx.send(Ok((ports, app.stopper())));
                        app.run_until_stopped().await.expect("server ran");
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            })
        });
        let ((port, metrics_port), handle) = ready_rx
            .await
            .expect("server thread")
            .expect("server started");
        let client = test_client();
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            metrics_port,
            client,
            data_dir,
            settings,
            clock,
            handle: Some(handle),
            thread: Some(thread),
        }
    }

    /// Stops the server gracefully and waits until the database is closed.
    pub async fn stop(&mut self) {
        // Idle keep-alive connections would keep a worker (and the database) busy.
        self.client = test_client();
        if let Some(stopper) = self.handle.take() {
            stopper.stop().await;
        }
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .unwrap()
                .expect("server thread ended cleanly");
        }
    }

    /// Stops and starts again on the same data directory (a new port).
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let (dir, settings) = (self.data_dir.clone(), self.settings.clone());
        Self::start(dir, settings, self.clock.clone()).await
    }

    /// Stops and starts again on the same data directory with adjusted settings.
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        self.stop().await;
        let (dir, mut settings) = (self.data_dir.clone(), self.settings.clone());
        adjust(&mut settings);
        Self::start(dir, settings, self.clock.clone()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, path)
    }

    /// Any request; `token` becomes a Bearer header, `body` a JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/auth/register/",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Obtains a token pair; panics unless 200.
    pub async fn login(&self, email: &str, password: &str) -> (String, String) {
        let response = self
            .post(
                "/api/auth/token/",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "login of {email}");
        let body: Value = response.json().await.unwrap();
        (
            body["access"].as_str().unwrap().to_owned(),
            body["refresh"].as_str().unwrap().to_owned(),
        )
    }

    /// A freshly registered, signed-in shopper with a unique email.
    pub async fn new_user(&self) -> TestUser {
        let n = NEXT_USER.fetch_add(1, Ordering::Relaxed);
        let email = format!("user{n}-{}@example.com", self.port);
        let response = self.register(&email, PASSWORD).await;
        assert_eq!(response.status(), 201, "register {email}");
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_u64()
            .unwrap();
        let (access, refresh) = self.login(&email, PASSWORD).await;
        TestUser {
            id,
            email,
            password: PASSWORD.into(),
            access,
            refresh,
        }
    }

    /// The admin made at start from the settings.
    pub async fn admin(&self) -> TestUser {
        let (access, refresh) = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let me: Value = self
            .get("/api/me/", Some(&access))
            .await
            .json()
            .await
            .unwrap();
        TestUser {
            id: me["id"].as_u64().unwrap(),
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
            access,
            refresh,
        }
    }

    /// Creates a category as `admin`; returns its id.
    pub async fn create_category(&self, admin: &TestUser, name: &str) -> u64 {
        let response = self
            .post(
                "/api/categories/",
                Some(&admin.access),
                json!({"name": name, "description": ""}),
            )
            .await;
        assert_eq!(response.status(), 201, "create category {name}");
        response.json::<Value>().await.unwrap()["id"]
            .as_u64()
            .unwrap()
    }

    /// Creates a product as `admin`; returns its id.
    pub async fn create_product(
        &self,
        admin: &TestUser,
        name: &str,
        price: &str,
        stock: u64,
        category: u64,
    ) -> u64 {
        let body = json!({"name": name, "description": "", "price": price, "stock": stock, "category_id": category});
        let response = self.post("/api/products/", Some(&admin.access), body).await;
        assert_eq!(response.status(), 201, "create product {name}");
        response.json::<Value>().await.unwrap()["id"]
            .as_u64()
            .unwrap()
    }

    /// Puts `quantity` of `product` in `user`'s cart; panics unless 201.
    pub async fn add_to_cart(&self, user: &TestUser, product: u64, quantity: u64) {
        let response = self
            .post(
                "/api/cart/items/",
                Some(&user.access),
                json!({"product_id": product, "quantity": quantity}),
            )
            .await;
        assert_eq!(response.status(), 201, "add to cart");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stopper) = self.handle.take() {
            // Sends the stop command now; the server thread winds down on its own.
            stopper.stop_now();
        }
    }
}

/// Whether an external tool is present. In CI (`CI=true`) a missing tool fails the test;
/// elsewhere the test is skipped with a printed reason.
pub fn require_tool(name: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
    {
        panic!("{name} is required in CI but was not found");
    }
    eprintln!("skipping: {name} is not installed");
    false
}
