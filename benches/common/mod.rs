//! Shared parts of the load harnesses: the release server as a child process (killed on drop),
//! the backend it runs on (sled, or a throwaway PostgreSQL cluster with `BENCH_BACKEND=postgres`),
//! env-var knobs, percentiles, tables, the fd limit and the server's RSS.
#![allow(dead_code)]

/// The test suite's throwaway cluster, the same file: here chosen by `BENCH_BACKEND` and durable.
#[path = "../../tests/api/postgres_cluster.rs"]
mod postgres_cluster;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_EMAIL: &str = "bench-admin@example.com";
pub const ADMIN_PASSWORD: &str = "bench-admin-password";
pub const PASSWORD: &str = "bench-password-123";

/// An env knob with a default.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => raw
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={raw:?} is not valid")),
        _ => default,
    }
}

/// The server binary: `BENCH_SERVER_BIN`, else the one cargo built for this bench (the
/// `bench` profile inherits `release`, so this is `target/release/orderstream`).
pub fn server_binary() -> PathBuf {
    let path = std::env::var_os("BENCH_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_orderstream")));
    if !path.exists() {
        eprintln!(
            "server binary {} not found: run `cargo build --release` first",
            path.display()
        );
        std::process::exit(2);
    }
    path
}

/// The cluster settings of a harness: `BENCH_BACKEND=postgres` (else sled), PostgreSQL durable
/// (fsync, synchronous_commit, full_page_writes on), and an error rather than sled when it is
/// missing.
fn bench_cluster_settings() {
    postgres_cluster::configure(postgres_cluster::Settings {
        backend_var: "BENCH_BACKEND",
        durable: true,
        require_postgres: true,
    });
}

/// Whether the harness runs the server on PostgreSQL (`BENCH_BACKEND=postgres`).
pub fn backend_is_postgres() -> bool {
    bench_cluster_settings();
    postgres_cluster::backend_is_postgres()
}

/// The environment of every run of the binary on `dir` (`serve`, `seed-demo`): on PostgreSQL,
/// `ORDERSTREAM_DATABASE_URL` of the database of `dir`, made on first ask and the same one
/// afterwards (so a restart, or a start after SIGKILL, sees the same data); nothing on sled.
/// The pool keeps the server's default size.
pub fn database_env(dir: &Path) -> Vec<(&'static str, String)> {
    bench_cluster_settings();
    match postgres_cluster::database_url_for(dir) {
        Some(url) => vec![("ORDERSTREAM_DATABASE_URL", url)],
        None => Vec::new(),
    }
}

/// One line naming the backend, printed by every harness before it starts a server. On
/// PostgreSQL this starts the cluster (so its start is not counted in a server's start time)
/// and shows the server's version and durability settings as the server itself reports them.
pub fn backend_line() -> String {
    if !backend_is_postgres() {
        return "backend: sled (embedded, in the data dir; BENCH_BACKEND=postgres for PostgreSQL)"
            .to_owned();
    }
    let cluster = postgres_cluster::cluster();
    assert!(cluster.durable, "the bench cluster must be durable");
    format!(
        "backend: {} (throwaway cluster on 127.0.0.1:{}, started by the harness in {:.1} s; \
         one database per data dir, server pool at its default size)",
        cluster.describe(),
        cluster.port,
        cluster.started_in.as_secs_f64()
    )
}

pub fn print_backend() {
    println!("{}", backend_line());
}

/// Exits with install instructions when an external tool is missing.
pub fn require_tool(name: &str, install: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        eprintln!(
            "`{name}` is required by this harness but was not found; install it with: {install}"
        );
        std::process::exit(2);
    }
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (children inherit it); returns the new value.
pub fn raise_fd_limit() -> u64 {
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur as u64
    }
}

/// A free port on 127.0.0.1 (bound then released; the server binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The release server as a child process; SIGKILLed and reaped on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    /// Time from spawn until /healthz answered 200.
    pub ready_after: Duration,
}

impl Server {
    /// Spawns `orderstream --data-dir dir serve --addr 127.0.0.1:<port> --no-demo` with `env`
    /// (plus 2 workers, a bench admin and, with `BENCH_BACKEND=postgres`, the database of `dir`)
    /// and waits for /healthz.
    pub fn start(dir: &Path, env: &[(&str, String)]) -> Server {
        let port = free_port();
        let mut command = Command::new(server_binary());
        command
            .arg("--data-dir")
            .arg(dir)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--no-demo"])
            // Before the caller's variables, so those still win.
            .envs(database_env(dir))
            .env("ORDERSTREAM_WORKERS", "2")
            // Benches sign up thousands of shoppers from one address.
            .env("ORDERSTREAM_REGISTRATIONS_PER_IP_PER_HOUR", "100000000")
            .env("ORDERSTREAM_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ORDERSTREAM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let started = Instant::now();
        let child = command.spawn().expect("spawn the server");
        let mut server = Server {
            child: Some(child),
            port,
            ready_after: Duration::ZERO,
        };
        server.ready_after = server.wait_healthy(started, Duration::from_secs(120));
        server
    }

    fn wait_healthy(&mut self, started: Instant, limit: Duration) -> Duration {
        let address = format!("127.0.0.1:{}", self.port);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("the server exited during start: {status}");
            }
            if healthz(&address) {
                return started.elapsed();
            }
            if started.elapsed() > limit {
                panic!("the server was not healthy after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Resident memory of the server process in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// SIGKILL (no graceful shutdown: what survives is what was durable) and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait up to 10 s, then SIGKILL.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One blocking GET /healthz over a fresh connection; true on 200.
fn healthz(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Percentile (nearest rank) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Prints a table with a title, a header and rows, columns padded to fit.
pub fn print_table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    println!("\n{title}");
    println!("{}", line(header.to_vec()));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in rows {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
}

pub fn verdict(met: bool) -> String {
    if met { "MET" } else { "MISSED" }.to_owned()
}

/// A data directory: `BENCH_DATA_DIR` if set (kept, so a seeded catalog is reused), else a
/// temporary one removed at the end.
pub enum DataDir {
    Kept(PathBuf),
    Temp(tempfile::TempDir),
}

impl DataDir {
    pub fn new(prefix: &str) -> DataDir {
        match std::env::var_os("BENCH_DATA_DIR") {
            Some(dir) => {
                std::fs::create_dir_all(&dir).expect("create BENCH_DATA_DIR");
                DataDir::Kept(PathBuf::from(dir))
            }
            None => DataDir::Temp(
                tempfile::Builder::new()
                    .prefix(prefix)
                    .tempdir()
                    .expect("temp dir"),
            ),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            DataDir::Kept(p) => p,
            DataDir::Temp(t) => t.path(),
        }
    }
}

/// Small JSON-over-HTTP helpers on reqwest for setting up data.
pub mod api {
    use serde_json::{json, Value};

    pub async fn call(
        client: &reqwest::Client,
        method: reqwest::Method,
        url: String,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(
        client: &reqwest::Client,
        url: String,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        call(client, reqwest::Method::POST, url, token, Some(body)).await
    }

    /// Logs in; panics unless 200. Returns the access token.
    pub async fn login(
        client: &reqwest::Client,
        base: &str,
        email: &str,
        password: &str,
    ) -> String {
        let (status, body) = post(
            client,
            format!("{base}/api/auth/token/"),
            None,
            json!({"email": email, "password": password}),
        )
        .await;
        assert_eq!(status, 200, "login of {email}: {body}");
        body["access"].as_str().expect("access token").to_owned()
    }

    /// Registers and logs in a user; returns (user id, access token).
    pub async fn new_user(client: &reqwest::Client, base: &str, email: &str) -> (u64, String) {
        let (status, body) = post(
            client,
            format!("{base}/api/auth/register/"),
            None,
            json!({"email": email, "password": super::PASSWORD}),
        )
        .await;
        assert_eq!(status, 201, "register {email}: {body}");
        let id = body["id"].as_u64().expect("user id");
        (id, login(client, base, email, super::PASSWORD).await)
    }

    /// Creates a category and one product of `stock` per name; returns the product ids.
    pub async fn create_products(
        client: &reqwest::Client,
        base: &str,
        admin: &str,
        count: usize,
        stock: u64,
    ) -> Vec<u64> {
        let (status, body) = post(
            client,
            format!("{base}/api/categories/"),
            Some(admin),
            json!({"name": format!("Bench {}", std::process::id()), "description": ""}),
        )
        .await;
        assert_eq!(status, 201, "create category: {body}");
        let category = body["id"].as_u64().unwrap();
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            let (status, body) = post(
                client,
                format!("{base}/api/products/"),
                Some(admin),
                json!({"name": format!("Bench item {i}"), "description": "", "price": "9.99",
                       "stock": stock, "category_id": category}),
            )
            .await;
            assert_eq!(status, 201, "create product: {body}");
            ids.push(body["id"].as_u64().unwrap());
        }
        ids
    }
}

/// CPU time (user + system) a process has used so far, from /proc/<pid>/stat.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" that ends the command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros(ticks * 1_000_000 / per_second)
}

/// On PostgreSQL, the CPU time (user + system) the cluster's processes have used so far: the
/// postmaster and its children alive now (a backend that exited since is not counted; the
/// server's pool keeps its connections). `None` on sled.
pub fn database_cpu_time() -> Option<Duration> {
    if !backend_is_postgres() {
        return None;
    }
    let postmaster = postgres_cluster::cluster().postmaster_pid()?;
    let mut total = cpu_time(postmaster);
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let parent = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|v| v.trim().parse::<u32>().ok());
        if parent == Some(postmaster) {
            total += cpu_time(pid);
        }
    }
    Some(total)
}

/// The 1-minute load average (the machine is shared: a high value means noisy figures).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` does not. A load harness run as a
/// test would take minutes, so it then only says how to run it.
pub fn exit_unless_cargo_bench() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "load harness: run it with `cargo bench --bench <name>` (skipped under cargo test)"
        );
        std::process::exit(0);
    }
}
