//! The `redis` feature against a real redis-server (started per test on a free port, no persistence).
use crate::helpers::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A throwaway redis-server; killed on drop. Also used by the multi-instance suite.
pub(crate) struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub(crate) fn start() -> Option<RedisServer> {
        if !require_tool("redis-server") {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer { port, child: None };
        server.launch();
        Some(server)
    }

    pub(crate) fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on {}", self.port);
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills it (if running) and launches a new, empty one on the same port.
    pub(crate) fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn app_with_redis(redis: &RedisServer) -> TestApp {
    let url = redis.url();
    TestApp::spawn_with(move |s| s.redis_url = Some(url)).await
}

async fn read(app: &TestApp, path: &str) -> (String, Value) {
    let response = app.get(path, None).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let cache = response
        .headers()
        .get("x-cache")
        .expect("X-Cache header")
        .to_str()
        .unwrap()
        .to_owned();
    (cache, response.json().await.unwrap())
}

async fn health(app: &TestApp) -> Value {
    app.get("/healthz", None).await.json().await.unwrap()
}

#[tokio::test]
async fn hits_after_miss_and_misses_with_the_new_value_after_each_write() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let app = app_with_redis(&redis).await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Mugs").await;
    let product = app
        .create_product(&admin, "Blue mug", "5.00", 10, category)
        .await;
    let detail = format!("/api/products/{product}/");

    assert_eq!(read(&app, &detail).await.0, "MISS");
    assert_eq!(read(&app, &detail).await.0, "HIT");
    assert_eq!(read(&app, "/api/products/").await.0, "MISS");
    assert_eq!(read(&app, "/api/products/").await.0, "HIT");

    app.patch(&detail, Some(&admin.access), json!({"price": "6.50"}))
        .await;
    let (cache, body) = read(&app, &detail).await;
    assert_eq!(
        (cache.as_str(), body["price"].as_str()),
        ("MISS", Some("6.50"))
    );

    app.post(
        &format!("{detail}stock/"),
        Some(&admin.access),
        json!({"set": 3}),
    )
    .await;
    let (cache, body) = read(&app, "/api/products/").await;
    assert_eq!(
        (cache.as_str(), body["results"][0]["stock"].as_u64()),
        ("MISS", Some(3))
    );

    app.patch(
        &format!("/api/categories/{category}/"),
        Some(&admin.access),
        json!({"name": "Cups"}),
    )
    .await;
    let (cache, body) = read(&app, &detail).await;
    assert_eq!(
        (cache.as_str(), body["category"]["name"].as_str()),
        ("MISS", Some("Cups"))
    );

    let shopper = app.new_user().await;
    app.add_to_cart(&shopper, product, 2).await;
    assert_eq!(
        app.post("/api/orders/", Some(&shopper.access), json!({}))
            .await
            .status(),
        201
    );
    let (cache, body) = read(&app, &detail).await;
    assert_eq!((cache.as_str(), body["stock"].as_u64()), ("MISS", Some(1)));
    assert_eq!(read(&app, &detail).await.0, "HIT");
}

#[tokio::test]
async fn a_restart_with_no_change_reads_from_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let app = app_with_redis(&redis).await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Tea").await;
    let product = app
        .create_product(&admin, "Green tea", "3.20", 4, category)
        .await;
    let detail = format!("/api/products/{product}/");
    assert_eq!(read(&app, &detail).await.0, "MISS");

    // The in-process cache is gone after a restart: a HIT can only come from Redis.
    let app = app.restart().await;
    let (cache, body) = read(&app, &detail).await;
    assert_eq!(cache, "HIT");
    assert_eq!(body["price"], "3.20");
}

#[tokio::test]
async fn redis_down_degrades_safely_and_never_serves_stale_values() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let app = app_with_redis(&redis).await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Bags").await;
    let product = app
        .create_product(&admin, "Tote", "12.00", 7, category)
        .await;
    let detail = format!("/api/products/{product}/");
    assert_eq!(read(&app, &detail).await.0, "MISS");
    assert_eq!(health(&app).await["status"], "ok");

    redis.kill();
    // Reads keep working, writes keep working and are visible at once.
    let (_, body) = read(&app, &detail).await;
    assert_eq!(body["stock"], 7);
    let response = app
        .post(
            &format!("{detail}stock/"),
            Some(&admin.access),
            json!({"set": 2}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (_, body) = read(&app, &detail).await;
    assert_eq!(body["stock"], 2);
    let status = health(&app).await;
    assert_eq!(
        status,
        json!({"status": "degraded", "storage": "ok", "cache": "unreachable"})
    );

    // Redis comes back (empty: it keeps nothing on disk) and the app uses it again.
    redis.launch();
    let mut healthy = false;
    for _ in 0..50 {
        if health(&app).await["status"] == "ok" {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "healthz recovers once redis is back");
    let (_, body) = read(&app, &detail).await;
    assert_eq!(body["stock"], 2, "never the stale value");
    let (cache, body) = read(&app, &detail).await;
    assert_eq!(
        (cache.as_str(), body["stock"].as_u64()),
        ("HIT", Some(2)),
        "the cache is used again"
    );
}

#[tokio::test]
async fn a_write_made_while_redis_was_unreachable_is_never_hidden_by_an_older_entry() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let app = app_with_redis(&redis).await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Snacks").await;
    let product = app
        .create_product(&admin, "Biscotti", "2.50", 9, category)
        .await;
    let detail = format!("/api/products/{product}/");
    assert_eq!(read(&app, &detail).await.0, "MISS");

    // Same database, Redis unreachable: a write happens that Redis never hears of.
    let offline = app
        .restart_with(|s| s.redis_url = Some("redis://127.0.0.1:1/".into()))
        .await;
    let admin = offline.admin().await;
    let response = offline
        .post(
            &format!("{detail}stock/"),
            Some(&admin.access),
            json!({"set": 1}),
        )
        .await;
    assert_eq!(response.status(), 200);

    // Back on the live Redis, which still holds the entry from before the write.
    let back = offline.restart_with(|s| s.redis_url = Some(url)).await;
    let (cache, body) = read(&back, &detail).await;
    assert_eq!((cache.as_str(), body["stock"].as_u64()), ("MISS", Some(1)));
}

#[tokio::test]
async fn two_databases_sharing_one_redis_stay_apart() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let first = app_with_redis(&redis).await;
    let second = app_with_redis(&redis).await;
    for (app, name) in [(&first, "First shop mug"), (&second, "Second shop mug")] {
        let admin = app.admin().await;
        let category = app.create_category(&admin, "Mugs").await;
        app.create_product(&admin, name, "1.00", 1, category).await;
    }
    for (app, name) in [(&first, "First shop mug"), (&second, "Second shop mug")] {
        for _ in 0..2 {
            let (_, body) = read(app, "/api/products/1/").await;
            assert_eq!(body["name"], name);
        }
    }
}
