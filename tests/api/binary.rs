//! The real `orderstream` binary in a child process, and a small HTTP client for it.
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The real binary on a free port; killed (SIGKILL) when dropped, whatever happened.
pub struct Server {
    pub child: Child,
    pub api: Api,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The process's resident set size in KiB (`VmRSS` in /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server process is alive");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// kill -9, and reap the process.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().unwrap().port()
}

/// Starts the binary on `dir`/data (its `run`-th start) and waits for /healthz.
pub async fn start(dir: &Path, run: usize) -> Server {
    start_with(dir, run, &[]).await
}

/// Like `start`, with `env` set last (so it overrides the cheap test settings).
pub async fn start_with(dir: &Path, run: usize, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let log_path = dir.join(format!("server-{run}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_orderstream"))
        .current_dir(dir)
        .arg("--config")
        .arg(dir.join("absent.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--no-demo"])
        .env("ORDERSTREAM_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ORDERSTREAM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ORDERSTREAM_ARGON2_MEMORY_KIB", "1024")
        .env("ORDERSTREAM_ARGON2_ITERATIONS", "1")
        .env("ORDERSTREAM_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", "10000")
        .env("ORDERSTREAM_WORKERS", "2")
        // On the PostgreSQL backend: the database of `dir`, the same at every start on it.
        .envs(crate::postgres_cluster::database_env(dir))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("start the orderstream binary");
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let api = Api {
        client,
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut server = Server { child, api };
    for _ in 0..400 {
        if let Ok(response) = server.api.send(Method::GET, "/healthz", None, None).await {
            if response.status() == 200 {
                return server;
            }
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("server exited with {status}: {log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become healthy");
}

#[derive(Clone)]
pub struct Api {
    pub client: Client,
    pub base: String,
}

impl Api {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Result<Response> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await
    }

    /// Sends, expects `status`, returns the JSON body (Null when there is none).
    pub async fn expect(
        &self,
        status: u16,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let response = self
            .send(method, path, token, body)
            .await
            .expect("request sent");
        assert_eq!(response.status(), status, "{path}");
        response.json().await.unwrap_or(Value::Null)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Value {
        self.expect(200, Method::GET, path, token, None).await
    }

    pub async fn post(
        &self,
        status: u16,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        self.expect(status, Method::POST, path, token, body).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = json!({"email": email, "password": password});
        let tokens = self.post(200, "/api/auth/token/", None, Some(body)).await;
        tokens["access"].as_str().unwrap().to_owned()
    }
}
