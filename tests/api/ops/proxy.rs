//! Behind a real nginx (`trusted_proxies`): clients keep their own login budgets, a forged
//! `X-Forwarded-For` buys nothing, and WebSocket and SSE streams pass through.
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::nginx::Nginx;
use crate::helpers::*;
use crate::live::client::{SseClient, WsClient};
use crate::live::Shop;

const ATTEMPTS_PER_MINUTE: u32 = 3;

/// The app trusting the loopback proxy, with a small login budget per address.
async fn app_behind_proxy() -> TestApp {
    TestApp::spawn_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".into()];
        s.login_attempts_per_ip_per_minute = ATTEMPTS_PER_MINUTE;
    })
    .await
}

/// A client connecting from its own loopback address (Linux routes all of 127/8 locally), so
/// nginx's `$remote_addr` tells the clients apart.
fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .build()
        .unwrap()
}

/// A login with a wrong password for an email nobody has (a new one each time, so only the
/// per-address budget can run out); returns the status.
async fn failed_login(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> u16 {
    let email = format!("nobody-{}@example.com", rand_suffix());
    let mut request = client
        .post(url)
        .json(&json!({"email": email, "password": "wrong password"}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Spends `ATTEMPTS_PER_MINUTE` attempts (all 401), then asserts the next one is refused.
async fn exhaust(client: &reqwest::Client, url: &str, forged: impl Fn(u32) -> String) {
    for n in 0..ATTEMPTS_PER_MINUTE {
        let forged = forged(n);
        let headers = [("x-forwarded-for", forged.as_str())];
        assert_eq!(
            failed_login(client, url, &headers).await,
            401,
            "attempt {n}"
        );
    }
    let forged = forged(99);
    let headers = [
        ("x-forwarded-for", forged.as_str()),
        ("forwarded", "for=203.0.113.99"),
    ];
    assert_eq!(failed_login(client, url, &headers).await, 429);
}

#[tokio::test]
async fn clients_behind_nginx_have_their_own_login_budgets() {
    let app = app_behind_proxy().await;
    let Some(nginx) = Nginx::start(app.port) else {
        return;
    };
    let url = nginx.url("/api/auth/token/");
    // Each client also sends its own X-Forwarded-For, which nginx keeps on the left of the
    // address it saw: the right-most untrusted hop is still the real one.
    exhaust(&client_from(2), &url, |n| format!("198.51.100.{n}")).await;
    assert_eq!(failed_login(&client_from(3), &url, &[]).await, 401);
    assert_eq!(failed_login(&client_from(2), &url, &[]).await, 429);
}

#[tokio::test]
async fn a_forged_x_forwarded_for_sent_straight_to_the_server_does_not_escape_the_budget() {
    let app = app_behind_proxy().await;
    // 127.0.0.4 is not a trusted proxy, so every forwarding header it sends is ignored.
    let direct = client_from(4);
    let url = app.url("/api/auth/token/");
    exhaust(&direct, &url, |n| format!("192.0.2.{n}")).await;
    assert_eq!(failed_login(&direct, &url, &[]).await, 429);
    // The trusted proxy's own address still has its budget.
    assert_eq!(failed_login(&app.client, &url, &[]).await, 401);
}

#[tokio::test]
async fn forwarded_host_and_proto_count_only_from_the_trusted_proxy() {
    let app = app_behind_proxy().await;
    let Some(nginx) = Nginx::start(app.port) else {
        return;
    };
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Links").await;
    for name in ["One", "Two"] {
        app.create_product(&admin, name, "1.00", 1, category).await;
    }
    let next_link = |client: reqwest::Client, url: String| async move {
        let response = client
            .get(url)
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["next"].as_str().unwrap().to_owned()
    };
    let path = "/api/products/?page_size=1";
    let direct = next_link(client_from(4), app.url(path)).await;
    assert!(direct.starts_with(&app.url("/api/products/")), "{direct}");
    // nginx overwrites X-Forwarded-Proto and X-Forwarded-Host with what the client used.
    let proxied = next_link(client_from(2), nginx.url(path)).await;
    assert!(
        proxied.starts_with(&nginx.url("/api/products/")),
        "{proxied}"
    );
}

#[tokio::test]
async fn websocket_and_sse_streams_work_through_nginx() {
    let app = app_behind_proxy().await;
    let Some(nginx) = Nginx::start(app.port) else {
        return;
    };
    let shop = Shop::open(&app).await;
    let user = app.new_user().await;
    let ws_url = format!("ws://127.0.0.1:{}/ws/?token={}", nginx.port, user.access);
    let mut ws = WsClient::connect_request(ws_url).await.expect("upgrade");
    let sse_request =
        reqwest::Client::new().get(nginx.url(&format!("/api/events/?token={}", user.access)));
    let mut sse = SseClient::open(sse_request)
        .await
        .expect("SSE through nginx");
    // Both subscriptions are registered before the event is made.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let order = shop.order(&app, &user).await;
    shop.set_status(&app, order, "shipped").await;
    for event in [
        ws.try_next_event(Duration::from_secs(5)).await,
        sse.try_next_event(Duration::from_secs(5)).await,
    ] {
        let event = event.expect("the event came through nginx");
        assert_eq!(event["type"], "order.status");
        assert_eq!(event["order_id"], order);
        assert_eq!(event["status"], "shipped");
    }
    ws.close().await;
}

/// The request log names the client the throttles count, on the real binary with the setting
/// from its environment variable (comma-separated).
#[tokio::test]
async fn request_log_lines_name_the_forwarded_client_only_from_a_trusted_peer() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("ORDERSTREAM_TRUSTED_PROXIES", "10.9.0.0/16, 127.0.0.1")];
    let server = crate::binary::start_with(dir.path(), 0, &env).await;
    for (client, forwarded) in [
        (client_from(1), "198.51.100.7"),
        (client_from(4), "198.51.100.8"),
    ] {
        let response = client
            .get(format!("{}/healthz", server.api.base))
            .header("x-forwarded-for", forwarded)
            .header("x-request-id", forwarded.replace('.', "-"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let log_of = |id: &str| {
        let log = std::fs::read_to_string(dir.path().join("server-0.log")).unwrap();
        log.lines()
            .find(|l| l.contains(id) && l.contains("answered"))
            .map(str::to_owned)
    };
    let mut lines = (None, None);
    for _ in 0..100 {
        lines = (log_of("198-51-100-7"), log_of("198-51-100-8"));
        if lines.0.is_some() && lines.1.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (proxied, direct) = (lines.0.unwrap(), lines.1.unwrap());
    assert!(proxied.contains("client=198.51.100.7"), "{proxied}");
    assert!(direct.contains("client=127.0.0.4"), "{direct}");
}
