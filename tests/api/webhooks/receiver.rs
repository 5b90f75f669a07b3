//! A real HTTP endpoint for webhooks: an actix-web server on 127.0.0.1 in its own thread that
//! records every request and answers 500 to the first `fail_first` of them.
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// What this endpoint answered.
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    fail_first: AtomicUsize,
    /// How long each answer takes (a slow or hanging endpoint).
    delay: Duration,
    /// Requests being answered now, and the most there ever were at once.
    open: AtomicUsize,
    most_open: AtomicUsize,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Receiver {
        Self::start_with(fail_first, Duration::ZERO).await
    }

    /// A receiver that takes `delay` to answer each request.
    pub async fn start_with(fail_first: usize, delay: Duration) -> Receiver {
        let state = Arc::new(State {
            fail_first: AtomicUsize::new(fail_first),
            delay,
            ..State::default()
        });
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let shared = state.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let data = web::Data::from(shared);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .default_service(web::to(record))
                })
                .workers(2)
                .disable_signals()
                .bind("127.0.0.1:0")
                .expect("bind the receiver");
                let port = server.addrs()[0].port();
                let server = server.run();
                let _ = ready_tx.send((port, server.handle()));
                let _ = server.await;
            })
        });
        let (port, server) = ready_rx.await.expect("receiver started");
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
            server,
        }
    }

    /// The most requests this endpoint was answering at one moment.
    pub fn most_at_once(&self) -> usize {
        self.state.most_open.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests came in (panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {n} webhook requests, got {}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

async fn record(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let fail = state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answered = if fail { 500 } else { 204 };
    let open = state.open.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_open.fetch_max(open, Ordering::SeqCst);
    if !state.delay.is_zero() {
        tokio::time::sleep(state.delay).await;
    }
    state.open.fetch_sub(1, Ordering::SeqCst);
    state.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
}
