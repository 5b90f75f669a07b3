//! The ceiling: a bare actix-web handler returning fixed bytes, with the server's worker count.
//! Two of them: one on its own thread in this process, and one in a separate process (this
//! bench binary started again in baseline mode), as the server is. The separate one also sends
//! the headers a cached answer carries (security headers, `X-Cache`, an `X-Request-Id` of the
//! same length), so the bytes on the wire are the same and the ratio cannot flatter itself.
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Set (to a file holding the body) when this binary runs as the separate-process ceiling.
const BASELINE_BODY_ENV: &str = "CATALOG_LOAD_BASELINE_BODY";

/// The headers a cached answer carries besides the date and length.
fn cached_answer_headers() -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("x-cache", "HIT"),
        ("x-request-id", "0123456789abcdef01234567"),
    ];
    headers.extend(orderstream::http::SECURITY_HEADERS);
    headers
        .into_iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect()
}

/// In baseline mode: serves the body, prints the port, and never returns.
pub fn serve_if_asked() {
    let Some(path) = std::env::var_os(BASELINE_BODY_ENV) else {
        return;
    };
    let body = Bytes::from(std::fs::read(path).expect("read the baseline body"));
    let headers = cached_answer_headers();
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let (body, headers) = (body.clone(), headers.clone());
            App::new().default_service(web::to(move || {
                let mut response = HttpResponse::Ok().body(body.clone());
                for (name, value) in &headers {
                    response.headers_mut().insert(name.clone(), value.clone());
                }
                async move { response }
            }))
        })
        .workers(2)
        .bind(("127.0.0.1", 0))
        .expect("bind baseline");
        println!("port {}", server.addrs()[0].port());
        server.run().await.ok();
    });
    std::process::exit(0);
}

/// The ceiling in a separate process; killed on drop.
pub struct BaselineProcess {
    pub port: u16,
    child: Child,
    _body: tempfile::NamedTempFile,
}

impl BaselineProcess {
    pub fn start(body: &Bytes) -> BaselineProcess {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), body).unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(BASELINE_BODY_ENV, file.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the baseline process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("baseline port");
        let port = line.trim().strip_prefix("port ").unwrap().parse().unwrap();
        BaselineProcess {
            port,
            child,
            _body: file,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BaselineProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ceiling in this process: a bare actix-web handler returning `body`, 2 workers.
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
