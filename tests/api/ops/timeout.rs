//! `request_timeout_seconds`: a request the server cannot answer in time gets 503 with
//! `Retry-After` and a problem document within the bound; it never hangs, and other requests
//! are served meanwhile. The slow request is a genuine one: a login on the real binary with
//! password hashing made very expensive. Live streams outlast the bound.
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::live::client::{SseClient, WsClient};
use crate::live::Shop;

/// The real binary with `env`, without an admin account: making one at start would hash a
/// password at the slow setting before the server listens.
async fn start_slow_hashing(dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_orderstream"))
        .arg("--config")
        .arg(dir.join("absent.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--no-demo"])
        .env("ORDERSTREAM_WORKERS", "2")
        .envs(crate::postgres_cluster::database_env(dir))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the orderstream binary");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..400 {
        if let Ok(response) = reqwest::get(format!("{base}/healthz")).await {
            if response.status() == 200 {
                return (child, base);
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    panic!("the server did not become healthy");
}

#[tokio::test]
async fn a_request_past_the_bound_answers_503_with_retry_after_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ORDERSTREAM_REQUEST_TIMEOUT_SECONDS", "1"),
        // One hash takes seconds (about 5 s where this was written): far past the bound.
        ("ORDERSTREAM_ARGON2_MEMORY_KIB", "8192"),
        ("ORDERSTREAM_ARGON2_ITERATIONS", "800"),
    ];
    let (child, base) = start_slow_hashing(dir.path(), &env).await;
    let _server = KillOnDrop(child);
    let client = reqwest::Client::new();
    let body = json!({"email": "someone@example.com", "password": "a guess at it"});
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/auth/token/"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), 503, "after {took:?}");
    assert!(
        took < Duration::from_millis(2500),
        "answered after {took:?}"
    );
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503);

    // Quick requests are served as before, within the bound.
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The bound is on the answer's head: live streams, once started, outlast it.
#[tokio::test]
async fn live_streams_outlast_the_bound() {
    let app = crate::helpers::TestApp::spawn_with(|s| s.request_timeout_seconds = 1).await;
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let mut ws = WsClient::connect(&app, &user.access, None).await;
    let mut sse = SseClient::connect(&app, &user.access, None).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let order = shop.order(&app, &user).await;
    shop.set_status(&app, order, "shipped").await;
    for event in [
        ws.try_next_event(Duration::from_secs(5)).await,
        sse.try_next_event(Duration::from_secs(5)).await,
    ] {
        let event = event.expect("the stream is still open past the bound");
        assert_eq!(event["order_id"], order);
        assert_eq!(event["status"], "shipped");
    }
    ws.close().await;
}
