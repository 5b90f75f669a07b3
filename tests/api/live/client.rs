//! Real live clients: a WebSocket client on tokio-tungstenite and an SSE client on a streaming
//! reqwest response, both yielding the server's events as JSON values.
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

/// How long a test waits for an event that must come.
pub const EVENT_WAIT: Duration = Duration::from_secs(5);
/// How long nothing may arrive for a stream to count as quiet.
pub const SILENCE: Duration = Duration::from_millis(300);

/// `?token=...` plus `&last_event_id=...` when resuming.
pub fn live_query(token: &str, last_event_id: Option<u64>) -> String {
    match last_event_id {
        Some(id) => format!("?token={token}&last_event_id={id}"),
        None => format!("?token={token}"),
    }
}

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects to `/ws/` with the token in the query; panics unless the upgrade succeeds.
    pub async fn connect(app: &TestApp, token: &str, last_event_id: Option<u64>) -> WsClient {
        let url = app.ws_url(&format!("/ws/{}", live_query(token, last_event_id)));
        Self::connect_request(url).await.expect("WebSocket upgrade")
    }

    /// Any handshake request (URL, or a request with extra headers).
    pub async fn connect_request(
        request: impl IntoClientRequest + Unpin,
    ) -> Result<WsClient, tungstenite::Error> {
        let (stream, response) = tokio_tungstenite::connect_async(request).await?;
        assert_eq!(response.status(), 101);
        Ok(WsClient { stream })
    }

    /// The HTTP status a refused handshake answered with.
    pub async fn refused_status(request: impl IntoClientRequest + Unpin) -> u16 {
        match Self::connect_request(request).await {
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(other) => panic!("expected an HTTP refusal, got {other}"),
            Ok(_) => panic!("the upgrade was accepted"),
        }
    }

    /// The next frame of any kind, or None on timeout. Panics if the stream ends. A connection
    /// the server has already dropped reads as a close frame without a code: the client's
    /// automatic pong to a ping read just before can hit the closed socket (broken pipe) before
    /// the server's close frame is read.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Message> {
        match tokio::time::timeout(wait, self.stream.next()).await {
            Err(_) => None,
            Ok(Some(Ok(message))) => Some(message),
            Ok(Some(Err(tokio_tungstenite::tungstenite::Error::Io(e))))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                Some(Message::Close(None))
            }
            Ok(Some(Err(e))) => panic!("WebSocket error: {e}"),
            Ok(None) => panic!("WebSocket stream ended"),
        }
    }

    /// The next event within `wait` (pings and pongs skipped), or None.
    pub async fn try_next_event(&mut self, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let message = match timeout_at(deadline, self.stream.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(e))) => panic!("WebSocket error: {e}"),
                Ok(None) => panic!("WebSocket stream ended"),
            };
            match message {
                Message::Text(text) => {
                    return Some(serde_json::from_str(text.as_str()).expect("event is JSON"))
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected WebSocket frame: {other:?}"),
            }
        }
    }

    /// The close frame's code and reason, when the server closes within `wait` (events,
    /// pings and pongs before it skipped). Panics if the stream ends without one.
    pub async fn closed_with(&mut self, wait: Duration) -> Option<(u16, String)> {
        let deadline = Instant::now() + wait;
        loop {
            match timeout_at(deadline, self.stream.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let frame = frame.expect("a close frame with a code");
                    return Some((frame.code.into(), frame.reason.to_string()));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => panic!("WebSocket error: {e}"),
                Ok(None) => panic!("WebSocket stream ended without a close frame"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// One parsed SSE frame.
#[derive(Debug, Default, Clone)]
pub struct SseFrame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Vec<String>,
}

pub struct SseClient {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    /// Comment lines seen so far (keep-alives), without the leading colon.
    pub comments: Vec<String>,
    pub retry: Option<u64>,
}

impl SseClient {
    /// Opens `/api/events/` with the token in the query and, optionally, a `Last-Event-ID` header.
    pub async fn connect(app: &TestApp, token: &str, last_event_id: Option<u64>) -> SseClient {
        let mut request = app
            .client
            .get(app.url(&format!("/api/events/?token={token}")));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        Self::open(request).await.expect("SSE stream opened")
    }

    /// Sends `request`; a non-200 answer comes back as Err with its status.
    pub async fn open(request: reqwest::RequestBuilder) -> Result<SseClient, u16> {
        let response = request.send().await.expect("SSE request sent");
        if response.status() != 200 {
            return Err(response.status().as_u16());
        }
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Ok(SseClient {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
            comments: Vec::new(),
            retry: None,
        })
    }

    /// Takes one complete frame out of the buffer, if there is one with data.
    fn take_frame(&mut self) -> Option<SseFrame> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut frame = SseFrame::default();
            for line in block.lines().map(|l| l.trim_end_matches('\r')) {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "" if line.starts_with(':') => self.comments.push(value.to_owned()),
                    "" => {}
                    "id" => frame.id = Some(value.to_owned()),
                    "event" => frame.event = Some(value.to_owned()),
                    "data" => frame.data.push(value.to_owned()),
                    "retry" => self.retry = Some(value.parse().expect("retry is a number")),
                    other => panic!("unknown SSE field {other:?} in {block:?}"),
                }
            }
            if !frame.data.is_empty() {
                return Some(frame);
            }
        }
    }

    /// The next frame that carries data within `wait`, or None.
    pub async fn try_next_frame(&mut self, wait: Duration) -> Option<SseFrame> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(frame) = self.take_frame() {
                return Some(frame);
            }
            match timeout_at(deadline, self.body.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(chunk))) => self
                    .buffer
                    .push_str(std::str::from_utf8(&chunk).expect("UTF-8 stream")),
                Ok(Some(Err(e))) => panic!("SSE stream error: {e}"),
                Ok(None) => panic!("SSE stream ended"),
            }
        }
    }

    /// Whether the server ends the stream within `wait` (frames before the end are dropped).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            match timeout_at(deadline, self.body.next()).await {
                Err(_) => return false,
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => panic!("SSE stream error: {e}"),
                Ok(None) => return true,
            }
        }
    }

    /// The next event's data as JSON; checks that `id:` and `event:` agree with it.
    pub async fn try_next_event(&mut self, wait: Duration) -> Option<Value> {
        let frame = self.try_next_frame(wait).await?;
        let data: Value = serde_json::from_str(&frame.data.join("\n")).expect("SSE data is JSON");
        assert_eq!(
            frame.id.as_deref(),
            Some(data["id"].to_string().as_str()),
            "id: line of {frame:?}"
        );
        assert_eq!(
            frame.event.as_deref(),
            data["type"].as_str(),
            "event: line of {frame:?}"
        );
        Some(data)
    }
}

/// Either kind of live connection, so tests can treat them alike.
pub enum LiveClient {
    Ws(WsClient),
    Sse(SseClient),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ws,
    Sse,
}

impl LiveClient {
    pub async fn connect(
        kind: Kind,
        app: &TestApp,
        token: &str,
        last_event_id: Option<u64>,
    ) -> LiveClient {
        match kind {
            Kind::Ws => LiveClient::Ws(WsClient::connect(app, token, last_event_id).await),
            Kind::Sse => LiveClient::Sse(SseClient::connect(app, token, last_event_id).await),
        }
    }

    pub async fn try_next_event(&mut self, wait: Duration) -> Option<Value> {
        match self {
            LiveClient::Ws(ws) => ws.try_next_event(wait).await,
            LiveClient::Sse(sse) => sse.try_next_event(wait).await,
        }
    }

    /// The next event; panics if none comes within `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Value {
        match self.try_next_event(wait).await {
            Some(event) => event,
            None => panic!("no event within {wait:?}"),
        }
    }

    /// The next `n` events.
    pub async fn next_events(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.next_event(EVENT_WAIT).await);
        }
        out
    }

    /// Panics if an event arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(event) = self.try_next_event(wait).await {
            panic!("expected silence, got {event}");
        }
    }

    /// Every event that arrives until the stream has been quiet for `quiet`.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(event) = self.try_next_event(quiet).await {
            out.push(event);
        }
        out
    }

    pub async fn close(self) {
        match self {
            LiveClient::Ws(ws) => ws.close().await,
            LiveClient::Sse(sse) => drop(sse),
        }
    }
}
