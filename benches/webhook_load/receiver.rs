//! The slow webhook receiver: an actix-web server on 127.0.0.1 that takes `delay` to answer
//! each delivery with 204 and records the event id of each, in arrival order.
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Delivered {
    pub webhook_id: String,
    /// The event's id in the log (`data.id`).
    pub event_id: u64,
}

struct State {
    delivered: Mutex<Vec<Delivered>>,
    delay: Duration,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub fn start(delay: Duration) -> Receiver {
        let state = Arc::new(State {
            delivered: Mutex::new(Vec::new()),
            delay,
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let shared = state.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let data = web::Data::from(shared);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .default_service(web::to(record))
                })
                .workers(1)
                .disable_signals()
                .bind("127.0.0.1:0")
                .expect("bind the receiver");
                let port = server.addrs()[0].port();
                let server = server.run();
                let _ = ready_tx.send((port, server.handle()));
                let _ = server.await;
            })
        });
        let (port, server) = ready_rx.recv().expect("receiver started");
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
            server,
        }
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.state.delivered.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

async fn record(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    tokio::time::sleep(state.delay).await;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let webhook_id = req
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state.delivered.lock().unwrap().push(Delivered {
        webhook_id,
        event_id: body["data"]["id"].as_u64().unwrap_or(0),
    });
    HttpResponse::NoContent().finish()
}
