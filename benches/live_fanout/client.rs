//! The WebSocket clients and what they saw, and the plain-HTTP memory comparison.
use futures_util::StreamExt;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::common::Server;

pub struct Shopper {
    pub token: String,
    pub order: u64,
}

/// What one client saw.
#[derive(Default)]
pub struct Seen {
    /// (status, latency from `at`, latency from the admin's send)
    pub events: Vec<(String, Duration, Duration)>,
    pub foreign: u64,
    pub out_of_order: u64,
    pub closed_early: bool,
}

/// Shared between the admin driver and the clients.
pub struct Board {
    pub base: Instant,
    /// Per client: nanoseconds since `base` when the admin sent the latest transition.
    pub sent_at: Vec<AtomicU64>,
    /// Per client: transitions the server acknowledged with 200.
    pub expected: Vec<AtomicU32>,
    pub received: AtomicU64,
    pub stop: AtomicBool,
    pub stop_notify: tokio::sync::Notify,
}

fn parse_at(raw: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).ok()
}

pub async fn run_client(
    url: String,
    index: usize,
    order: u64,
    board: Arc<Board>,
    connected: tokio::sync::mpsc::Sender<Result<(), String>>,
) -> Seen {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let mut stream =
        match tokio_tungstenite::connect_async_with_config(url, Some(config), true).await {
            Ok((stream, _)) => {
                let _ = connected.send(Ok(())).await;
                stream
            }
            Err(e) => {
                let _ = connected.send(Err(e.to_string())).await;
                return Seen {
                    closed_early: true,
                    ..Seen::default()
                };
            }
        };
    drop(connected);
    let mut seen = Seen::default();
    let mut last_id = 0u64;
    loop {
        let stopped = board.stop_notify.notified();
        if board.stop.load(Ordering::Acquire) {
            break;
        }
        let message = tokio::select! {
            m = stream.next() => m,
            _ = stopped => break,
        };
        let received = Instant::now();
        let wall = time::OffsetDateTime::now_utc();
        match message {
            Some(Ok(Message::Text(text))) => {
                let Ok(event) = serde_json::from_str::<Value>(text.as_str()) else {
                    seen.foreign += 1;
                    continue;
                };
                if event["order_id"].as_u64() != Some(order) {
                    seen.foreign += 1;
                    continue;
                }
                let id = event["id"].as_u64().unwrap_or(0);
                if id <= last_id {
                    seen.out_of_order += 1;
                }
                last_id = id;
                let from_at = event["at"]
                    .as_str()
                    .and_then(parse_at)
                    .map(|at| (wall - at).max(time::Duration::ZERO).unsigned_abs())
                    .unwrap_or_default();
                let sent = board.sent_at[index].load(Ordering::Acquire);
                let from_send = (received - board.base).saturating_sub(Duration::from_nanos(sent));
                let status = event["status"].as_str().unwrap_or("").to_owned();
                seen.events.push((status, from_at, from_send));
                board.received.fetch_add(1, Ordering::AcqRel);
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                seen.closed_early = true;
                break;
            }
        }
    }
    let _ = stream.close(None).await;
    seen
}

/// Server RSS per idle keep-alive HTTP connection (one GET /healthz each, no upgrade), on a
/// fresh server: the share of the WebSocket figure that is actix-http's own per-connection cost.
/// Measured at once, since actix closes idle keep-alive connections after 5 s.
pub fn idle_http_rss(
    dir: &std::path::Path,
    env: &[(&str, String)],
    connections: usize,
    runtime: &tokio::runtime::Runtime,
) -> (f64, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start(dir, env);
    let port = server.port;
    let open = |n: usize| async move {
        futures_util::stream::iter(0..n)
            .map(|_| async move {
                let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()?;
                let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
                stream.write_all(request).await.ok()?;
                let mut buf = [0u8; 1024];
                let read = stream.read(&mut buf).await.ok()?;
                (read > 0).then_some(stream)
            })
            .buffer_unordered(256)
            .filter_map(|s| async move { s })
            .collect::<Vec<_>>()
            .await
    };
    drop(runtime.block_on(open(20)));
    std::thread::sleep(Duration::from_secs(1));
    let before = server.rss_kib();
    let streams = runtime.block_on(open(connections));
    let after = server.rss_kib();
    let fds = std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .map(|d| d.count())
        .unwrap_or(0);
    let per = after.saturating_sub(before) as f64 / streams.len().max(1) as f64;
    drop(streams);
    (per, fds)
}
