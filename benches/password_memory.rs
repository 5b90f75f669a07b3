//! Memory under password checks (issue #13): the release server with the DEFAULT argon2 settings
//! (19 MiB, 2 iterations), BENCH_CLIENTS (8) clients looping POST /api/auth/token/ for
//! BENCH_SECONDS (20); one request in ten fails (an unknown email), one in twenty registers a new
//! account. Reports checks/s, latency and the server's RSS sampled every second, and its RSS
//! 5 s after the load stops. Before the fix RSS grew ≈ 10 MiB per login, without bound.
//!
//!     cargo bench --bench password_memory
//!     BENCH_CLIENTS=64 BENCH_SECONDS=60 cargo bench --bench password_memory
mod common;

use common::{api, env_or, ms, percentile, print_table, verdict, DataDir, Server};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EMAIL: &str = "memory@bench.example";
const PASSWORD: &str = "correct horse battery";

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    unexpected: Vec<u16>,
}

/// The n-th request of a client: mostly a good login, sometimes a failing one or a sign-up.
fn request(n: u64, client_id: usize) -> (String, serde_json::Value, u16) {
    match n % 20 {
        0 => (
            "/api/auth/register/".into(),
            json!({"email": format!("c{client_id}n{n}@bench.example"), "password": PASSWORD}),
            201,
        ),
        // Failed logins on unknown emails (the decoy hash): one email's own failures would be
        // slowed down by the login throttle, which is not what this measures.
        1 | 11 => (
            "/api/auth/token/".into(),
            json!({"email": format!("nobody-c{client_id}n{n}@bench.example"), "password": PASSWORD}),
            401,
        ),
        _ => (
            "/api/auth/token/".into(),
            json!({"email": EMAIL, "password": PASSWORD}),
            200,
        ),
    }
}

async fn client_loop(base: String, client_id: usize, stop: Arc<AtomicBool>) -> Tally {
    let client = reqwest::Client::new();
    let mut tally = Tally::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let (path, body, want) = request(n, client_id);
        n += 1;
        let started = Instant::now();
        let (status, _) = api::post(&client, format!("{base}{path}"), None, body).await;
        if status == want {
            tally.latencies.push(started.elapsed());
        } else {
            tally.unexpected.push(status);
        }
    }
    tally
}

fn main() {
    common::exit_unless_cargo_bench();
    let clients: usize = env_or("BENCH_CLIENTS", 8);
    let seconds: u64 = env_or("BENCH_SECONDS", 20);
    let data = DataDir::new("password-memory");
    common::print_backend();
    let env = [
        (
            "ORDERSTREAM_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE",
            "100000000".to_owned(),
        ),
        (
            "ORDERSTREAM_LOGIN_FAILURES_PER_EMAIL_PER_HOUR",
            "100000000".to_owned(),
        ),
        (
            "ORDERSTREAM_REGISTRATIONS_PER_IP_PER_HOUR",
            "100000000".to_owned(),
        ),
    ];
    let server = Server::start(data.path(), &env);
    let base = server.url("");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let register = json!({"email": EMAIL, "password": PASSWORD});
        let (status, _) = api::post(
            &client,
            format!("{base}/api/auth/register/"),
            None,
            register,
        )
        .await;
        assert_eq!(status, 201);
        api::login(&client, &base, EMAIL, PASSWORD).await;
    });
    let rss_before = server.rss_kib();

    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_before));
    let started = Instant::now();
    let tallies = runtime.block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|id| tokio::spawn(client_loop(base.clone(), id, stop.clone())))
            .collect();
        let mut samples = Vec::new();
        while started.elapsed() < Duration::from_secs(seconds) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let rss = server.rss_kib();
            peak.fetch_max(rss, Ordering::Relaxed);
            samples.push(rss / 1024);
        }
        stop.store(true, Ordering::Relaxed);
        println!("server RSS each second, MiB: {samples:?}");
        let mut tallies = Vec::new();
        for task in tasks {
            tallies.push(task.await.unwrap());
        }
        tallies
    });
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_secs(5));
    let rss_after = server.rss_kib();

    let mut latencies: Vec<Duration> = tallies.iter().flat_map(|t| t.latencies.clone()).collect();
    latencies.sort();
    let unexpected: Vec<u16> = tallies.iter().flat_map(|t| t.unexpected.clone()).collect();
    let checks = latencies.len();
    let growth_mib = rss_after.saturating_sub(rss_before) as f64 / 1024.0;
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    print_table(
        &format!("Password checks, default argon2, {clients} clients, {seconds} s"),
        &["figure", "value"],
        &[
            vec![
                "password checks answered as expected".into(),
                checks.to_string(),
            ],
            vec![
                "unexpected statuses".into(),
                format!(
                    "{} {:?}",
                    unexpected.len(),
                    &unexpected[..unexpected.len().min(5)]
                ),
            ],
            vec![
                "checks/s".into(),
                format!("{:.1}", checks as f64 / elapsed.as_secs_f64()),
            ],
            vec![
                "latency p50 / p99".into(),
                format!(
                    "{} / {}",
                    ms(percentile(&latencies, 50.0)),
                    ms(percentile(&latencies, 99.0))
                ),
            ],
            vec!["server RSS before".into(), mib(rss_before)],
            vec![
                "server RSS peak (1 s samples)".into(),
                mib(peak.load(Ordering::Relaxed)),
            ],
            vec!["server RSS 5 s after the load".into(), mib(rss_after)],
            vec![
                "growth per check".into(),
                format!("{:.1} KiB", growth_mib * 1024.0 / checks.max(1) as f64),
            ],
        ],
    );
    print_table(
        "Targets",
        &["target", "measured", "verdict"],
        &[vec![
            "RSS growth < 64 MiB (two 19 MiB buffers and slack)".into(),
            format!("{growth_mib:.1} MiB"),
            verdict(growth_mib < 64.0 && unexpected.is_empty()),
        ]],
    );
}
