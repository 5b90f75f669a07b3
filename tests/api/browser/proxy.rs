//! A forward HTTP proxy for browser contexts that can cut every connection and refuse new ones
//! for a while, as a network outage would. (DevTools' offline emulation fails new requests
//! but leaves an open WebSocket or event stream connected, so it cannot stand in for this.)
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
}

struct State {
    offline: AtomicBool,
    cuts: watch::Sender<u64>,
}

pub async fn passing_proxy() -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(State {
        offline: AtomicBool::new(false),
        cuts: watch::channel(0).0,
    });
    let shared = state.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            if !shared.offline.load(Ordering::SeqCst) {
                tokio::spawn(serve(client, shared.clone()));
            }
        }
    });
    Proxy { port, state }
}

impl Proxy {
    /// Offline: every open connection is cut and new ones are dropped, until back online.
    pub fn set_offline(&self, offline: bool) {
        self.state.offline.store(offline, Ordering::SeqCst);
        if offline {
            self.state.cuts.send_modify(|n| *n += 1);
        }
    }
}

/// Pipes both ways until either side closes or the network is cut.
async fn pipe(client: &mut TcpStream, upstream: &mut TcpStream, state: &State) {
    let mut cut = state.cuts.subscribe();
    tokio::select! {
        _ = tokio::io::copy_bidirectional(client, upstream) => {}
        _ = cut.changed() => {}
    }
}

/// One request (or one tunnel) per connection.
async fn serve(mut client: TcpStream, state: Arc<State>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    // Browsers open WebSockets through a proxy with CONNECT: a tunnel.
    if let Some(authority) = request_line
        .strip_prefix("CONNECT ")
        .and_then(|r| r.split(' ').next())
    {
        let Ok(mut upstream) = TcpStream::connect(authority).await else {
            return;
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_ok()
        {
            let _ = upstream.write_all(&buf[head_end..]).await;
            pipe(&mut client, &mut upstream, &state).await;
        }
        return;
    }
    // "GET http://127.0.0.1:1234/path HTTP/1.1" → upstream 127.0.0.1:1234, "GET /path HTTP/1.1".
    let mut parts = request_line.splitn(3, ' ');
    let (method, target, version) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let Some(rest) = target.strip_prefix("http://") else {
        return;
    };
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let Ok(mut upstream) = TcpStream::connect(authority).await else {
        return;
    };
    let mut forwarded = format!("{method} {path} {version}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        if name != "connection" && name != "proxy-connection" && name != "keep-alive" {
            forwarded.push_str(line);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    let mut outgoing = forwarded.into_bytes();
    outgoing.extend_from_slice(&buf[head_end..]);
    if upstream.write_all(&outgoing).await.is_err() {
        return;
    }
    // The rest of a request body, and the answer (a stream, for SSE) until either side closes.
    pipe(&mut client, &mut upstream, &state).await;
}
