//! The ceiling: a bare actix-web handler in this process, on its own thread and System.
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;

/// The ceiling: a bare actix-web handler returning `body`, with 2 workers, in this process.
pub struct Baseline {
    pub port: u16,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Baseline {
    /// `middleware`: wrap the handler in the server's NormalizePath and security headers
    /// (a diagnostic row: how much of the gap those two stock middlewares explain).
    pub fn start(body: Bytes, workers: usize, middleware: bool) -> Baseline {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let body = body.clone();
                    let handler = web::to(move || {
                        let body = body.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    });
                    App::new()
                        .wrap(actix_web::middleware::Condition::new(
                            middleware,
                            orderstream::http::normalize_path(),
                        ))
                        .wrap(actix_web::middleware::Condition::new(
                            middleware,
                            orderstream::http::security_headers(),
                        ))
                        .default_service(handler)
                })
                .workers(workers)
                .bind(("127.0.0.1", 0))
                .expect("bind baseline");
                let port = server.addrs()[0].port();
                let server = server.run();
                tx.send((port, server.handle())).unwrap();
                let _ = server.await;
            })
        });
        let (port, handle) = rx.recv().expect("baseline started");
        Baseline {
            port,
            handle,
            thread: Some(thread),
        }
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(handle.stop(false));
        })
        .join()
        .ok();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
