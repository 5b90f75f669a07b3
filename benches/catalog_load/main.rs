//! Catalog load harness: seeds BENCH_PRODUCTS products with the release binary, measures
//! restart-to-ready time, then drives the real server with `wrk` for (a) page 1 cached,
//! (b) a filtered page cached, (c) uncached filtered pages (a different price range per
//! request, so every one misses the cache), and, in the same run, a bare actix-web handler
//! returning the same bytes with the same worker count (the ceiling): in a separate process
//! with the same headers (what the verdict compares with), and in this process.
//!
//!     cargo bench --bench catalog_load
//!     BENCH_PRODUCTS=1000000 BENCH_SECONDS=10 cargo bench --bench catalog_load
//!
//! `BENCH_CACHE=redis` (with `--features redis`) runs the same against a throwaway
//! `redis-server` as the shared cache; `BENCH_CACHE=redis-only` also turns the in-process cache
//! off (capacity 0), so every hit is read from Redis.
mod baseline;
#[path = "../common/mod.rs"]
mod common;
mod redis;
mod wrk;

use baseline::{Baseline, BaselineProcess};
use bytes::Bytes;
use common::{env_or, ms, print_table, verdict, DataDir, Server};
use std::process::Command;
use std::time::{Duration, Instant};
use wrk::{Wrk, WrkResult};

fn seed(dir: &std::path::Path, products: usize) -> (Duration, String) {
    // On PostgreSQL the database lives in this run's throwaway cluster: never reused.
    let marker = dir.join(format!("bench-seeded-{products}"));
    if !common::backend_is_postgres() {
        if let Ok(previous) = std::fs::read_to_string(&marker) {
            return (Duration::ZERO, format!("reused ({})", previous.trim()));
        }
    }
    // Made (CREATE DATABASE) before the clock starts.
    let database = common::database_env(dir);
    let started = Instant::now();
    let output = Command::new(common::server_binary())
        .arg("--data-dir")
        .arg(dir)
        .args(["seed-demo", "--products", &products.to_string()])
        .envs(database)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run seed-demo");
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "seed-demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !common::backend_is_postgres() {
        std::fs::write(&marker, &printed).ok();
    }
    (took, printed)
}

/// GET once with a plain client: (status, X-Cache, body).
async fn fetch(client: &reqwest::Client, url: &str) -> (u16, String, Bytes) {
    let response = client.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    (status, cache, response.bytes().await.unwrap_or_default())
}

fn main() {
    baseline::serve_if_asked();
    common::exit_unless_cargo_bench();
    common::require_tool("wrk", "apt-get install -y wrk");
    let products: usize = env_or("BENCH_PRODUCTS", 100_000);
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let restarts: usize = env_or("BENCH_RESTARTS", 3);
    let rounds: usize = env_or("BENCH_ROUNDS", 2);
    let wrk = Wrk {
        threads: env_or("BENCH_WRK_THREADS", 2),
        connections: env_or("BENCH_WRK_CONNECTIONS", 64),
        seconds,
        script_dir: tempfile::tempdir().unwrap(),
    };
    let uncached_connections: Vec<u32> = std::env::var("BENCH_UNCACHED_CONNECTIONS")
        .unwrap_or_else(|_| format!("1,2,{}", wrk.connections))
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    common::raise_fd_limit();
    let cache_mode = std::env::var("BENCH_CACHE").unwrap_or_else(|_| "moka".into());
    let redis = match cache_mode.as_str() {
        "moka" => None,
        "redis" | "redis-only" => {
            common::require_tool("redis-server", "apt-get install -y redis-server");
            Some(redis::RedisServer::start())
        }
        other => panic!("BENCH_CACHE={other:?}: use moka, redis or redis-only"),
    };
    let mut server_env: Vec<(&str, String)> = Vec::new();
    if let Some(redis) = &redis {
        server_env.push(("ORDERSTREAM_REDIS_URL", redis.url()));
    }
    if cache_mode == "redis-only" {
        server_env.push(("ORDERSTREAM_CACHE_CAPACITY_MB", "0".into()));
    }
    let data = DataDir::new("orderstream-bench-catalog-");
    println!(
        "catalog_load: {products} products, cache {cache_mode}, {seconds} s per run, wrk -t{} -c{}, server workers 2, data {}",
        wrk.threads,
        wrk.connections,
        data.path().display()
    );
    common::print_backend();

    // Seeding and restarts.
    let (seed_time, seed_printed) = seed(data.path(), products);
    let mut ready = Vec::new();
    for i in 0..restarts {
        let mut server = Server::start(data.path(), &server_env);
        let label = if i == 0 {
            "start 1 (first after seeding)".to_owned()
        } else {
            format!("start {} (after graceful stop)", i + 1)
        };
        ready.push((label, server.ready_after));
        if i + 1 == restarts {
            server.kill();
            let server = Server::start(data.path(), &server_env);
            ready.push(("start after SIGKILL".into(), server.ready_after));
        } else {
            server.stop();
        }
    }
    let server = Server::start(data.path(), &server_env);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    // The catalog index is read after /healthz answers: the first list waits for the rest of
    // the read (the search index is built beside it), then the first search.
    let first_answer = |path: &'static str| {
        runtime.block_on(async {
            let started = Instant::now();
            let (status, _, _) = fetch(&client, &server.url(path)).await;
            assert_eq!(status, 200, "GET {path}");
            started.elapsed()
        })
    };
    let first_list = first_answer("/api/products/?min_price=10.00&in_stock=true");
    let first_search = first_answer("/api/products/?search=espresso");
    ready.push((
        "first list right after /healthz".into(),
        server.ready_after + first_list,
    ));
    ready.push((
        "first search after that list".into(),
        server.ready_after + first_list + first_search,
    ));

    // What we serve, and proof the cached URLs are cached.
    let categories: Vec<String> = runtime.block_on(async {
        let (_, _, body) = fetch(&client, &server.url("/api/categories/?page_size=100")).await;
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        value["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].to_string())
            .collect()
    });
    let page1 = server.url("/api/products/");
    let filtered = server.url(&format!(
        "/api/products/?category={}&min_price=10.00&max_price=50.00&in_stock=true",
        categories[2 % categories.len()]
    ));
    let (page1_body, filtered_body) = runtime.block_on(async {
        let mut bodies = Vec::new();
        for url in [&page1, &filtered] {
            let (status, _, _) = fetch(&client, url).await;
            assert_eq!(status, 200, "{url}");
            let (_, cache, body) = fetch(&client, url).await;
            assert_eq!(cache, "HIT", "second GET of {url} must be a cache hit");
            bodies.push(body);
        }
        (bodies[0].clone(), bodies[1].clone())
    });
    let count: u64 = serde_json::from_slice::<serde_json::Value>(&page1_body).unwrap()["count"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        count as usize, products,
        "the served catalog has every product"
    );

    // Cached pages and the ceiling, interleaved over BENCH_ROUNDS rounds so background load
    // on this shared machine hits both alike; each figure keeps its best round.
    let no_args: Vec<String> = Vec::new();
    // The baselines serve from this process (otherwise idle during a run).
    let own = std::process::id();
    let baseline_page1 = Baseline::start(page1_body.clone(), 2, false);
    let baseline_filtered = Baseline::start(filtered_body.clone(), 2, false);
    let baseline_middleware = Baseline::start(page1_body.clone(), 2, true);
    let process_page1 = BaselineProcess::start(&page1_body);
    let process_filtered = BaselineProcess::start(&filtered_body);
    let process_url = |b: &BaselineProcess| format!("http://127.0.0.1:{}/api/products/", b.port);
    let base_url = |b: &Baseline| format!("http://127.0.0.1:{}/api/products/", b.port);
    let best = |runs: &[WrkResult]| {
        runs.iter()
            .max_by(|x, y| x.rps().total_cmp(&y.rps()))
            .cloned()
            .unwrap_or_default()
    };
    let (mut bases, mut base_bs, mut as_, mut bs, mut mids) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut procs, mut proc_bs) = (vec![], vec![]);
    for _ in 0..rounds.max(1) {
        procs.push(wrk.run(
            &process_url(&process_page1),
            false,
            wrk.connections,
            &no_args,
            process_page1.pid(),
        ));
        bases.push(wrk.run(
            &base_url(&baseline_page1),
            false,
            wrk.connections,
            &no_args,
            own,
        ));
        as_.push(wrk.run(&page1, false, wrk.connections, &no_args, server.pid()));
        base_bs.push(wrk.run(
            &base_url(&baseline_filtered),
            false,
            wrk.connections,
            &no_args,
            own,
        ));
        proc_bs.push(wrk.run(
            &process_url(&process_filtered),
            false,
            wrk.connections,
            &no_args,
            process_filtered.pid(),
        ));
        bs.push(wrk.run(&filtered, false, wrk.connections, &no_args, server.pid()));
        mids.push(wrk.run(
            &base_url(&baseline_middleware),
            false,
            wrk.connections,
            &no_args,
            own,
        ));
    }
    drop(baseline_page1);
    drop(baseline_filtered);
    drop(baseline_middleware);
    drop(process_page1);
    drop(process_filtered);
    let (base, base_b, a, b) = (best(&bases), best(&base_bs), best(&as_), best(&bs));
    let (proc_a, proc_b) = (best(&procs), best(&proc_bs));
    let mid = best(&mids);
    let uncached: Vec<(u32, WrkResult)> = uncached_connections
        .iter()
        .enumerate()
        .map(|(run, &c)| {
            let mut args = vec![(run * 10_000_000).to_string()];
            args.extend(categories.iter().cloned());
            (c, wrk.run(&server.url("/"), true, c, &args, server.pid()))
        })
        .collect();
    let rss_kib = server.rss_kib();
    drop(server);
    if let Some(redis) = &redis {
        let keys = redis.keys();
        assert!(
            keys > 0,
            "Redis holds no keys: build the server with `--features redis`"
        );
        println!("Redis held {keys} keys after the runs");
    }

    let row = |name: &str, r: &WrkResult, conns: u32, body: usize, ceiling: Option<&WrkResult>| {
        vec![
            name.to_owned(),
            conns.to_string(),
            body.to_string(),
            format!("{:.0}", r.rps()),
            format!("{:.2}", r.p50_us / 1000.0),
            format!("{:.2}", r.p90_us / 1000.0),
            format!("{:.2}", r.p99_us / 1000.0),
            format!("{:.2}", r.max_us / 1000.0),
            r.errors.to_string(),
            ceiling
                .map(|c| format!("{:.0}%", 100.0 * r.rps() / c.rps()))
                .unwrap_or_default(),
            format!("{:.0}", r.cpu_us_per_request),
            format!("{:.1}", r.load),
        ]
    };
    let mut rows = vec![
        row(
            "bare actix-web, separate process, page-1 bytes and headers (ceiling)",
            &proc_a,
            wrk.connections,
            page1_body.len(),
            None,
        ),
        row(
            "bare actix-web, separate process, filtered-page bytes and headers (ceiling)",
            &proc_b,
            wrk.connections,
            filtered_body.len(),
            None,
        ),
        row(
            "bare actix-web in the bench process, page-1 size",
            &base,
            wrk.connections,
            page1_body.len(),
            None,
        ),
        row(
            "bare actix-web in the bench process, filtered-page size",
            &base_b,
            wrk.connections,
            filtered_body.len(),
            None,
        ),
        row(
            "diagnostic: bare + NormalizePath + security headers",
            &mid,
            wrk.connections,
            page1_body.len(),
            Some(&base),
        ),
    ];
    rows.push(row(
        "(a) page 1, cached",
        &a,
        wrk.connections,
        page1_body.len(),
        Some(&proc_a),
    ));
    rows.push(row(
        "(b) filtered page, cached",
        &b,
        wrk.connections,
        filtered_body.len(),
        Some(&proc_b),
    ));
    for (c, r) in &uncached {
        rows.push(row(
            "(c) uncached filtered pages",
            r,
            *c,
            filtered_body.len(),
            None,
        ));
    }
    print_table(
        &format!(
            "Catalog over HTTP, {products} products, {seconds} s per row (wrk; latencies in ms)"
        ),
        &[
            "run",
            "conns",
            "body B",
            "req/s",
            "p50",
            "p90",
            "p99",
            "max",
            "errors",
            "of ceiling",
            "server CPU µs/req",
            "loadavg",
        ],
        &rows,
    );
    let miss_rows: Vec<Vec<String>> = uncached
        .iter()
        .map(|(c, r)| {
            vec![
                c.to_string(),
                r.requests.to_string(),
                r.misses.to_string(),
                r.hits.to_string(),
                r.no_header.to_string(),
            ]
        })
        .collect();
    print_table(
        "(c) X-Cache of the uncached runs (every request must be a MISS)",
        &["conns", "responses", "MISS", "HIT", "no header"],
        &miss_rows,
    );
    let mut start_rows: Vec<Vec<String>> = vec![vec![
        format!("seed-demo --products {products}"),
        if seed_time.is_zero() {
            "-".into()
        } else {
            format!("{:.1} s", seed_time.as_secs_f64())
        },
        seed_printed,
    ]];
    for (name, took) in &ready {
        start_rows.push(vec![
            name.clone(),
            ms(*took),
            if name.starts_with("first list") {
                "spawn → /healthz → first product list answered".into()
            } else if name.starts_with("first search") {
                "spawn → /healthz → list → first search answered".into()
            } else {
                "spawn → GET /healthz 200".into()
            },
        ]);
    }
    start_rows.push(vec![
        "server RSS after the runs".into(),
        format!("{} MiB", rss_kib / 1024),
        String::new(),
    ]);
    print_table(
        "Seeding and restart",
        &["what", "time", "note"],
        &start_rows,
    );

    let uncached_c1 = uncached.iter().find(|(c, _)| *c == 1).map(|(_, r)| r);
    // Each round measures a ceiling right before its cached page, so the two see the same
    // background load; the verdict takes the median of these paired ratios. (The best round of
    // each, as in the table above, swings by ±15 points from run to run on this machine.)
    let paired = |cached: &[WrkResult], ceiling: &[WrkResult]| {
        let ratios: Vec<f64> = cached
            .iter()
            .zip(ceiling)
            .map(|(c, b)| 100.0 * c.rps() / b.rps())
            .collect();
        let mut sorted = ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 0 {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        } else {
            sorted[mid]
        };
        let rounds: Vec<String> = ratios.iter().map(|r| format!("{r:.0}%")).collect();
        (
            median,
            format!("median {median:.0}% (rounds {})", rounds.join(", ")),
        )
    };
    let (median_a, shown_a) = paired(&as_, &procs);
    let (median_b, shown_b) = paired(&bs, &proc_bs);
    let (median_a_in, shown_a_in) = paired(&as_, &bases);
    let mut targets = vec![
        vec![
            "(a) cached page 1 ≥ 85% of the separate-process ceiling".into(),
            shown_a,
            verdict(median_a >= 85.0),
        ],
        vec![
            "(b) cached filtered page ≥ 85% of the separate-process ceiling".into(),
            shown_b,
            verdict(median_b >= 85.0),
        ],
        vec![
            "(a) against the in-process ceiling (diagnostic)".into(),
            shown_a_in,
            verdict(median_a_in >= 85.0),
        ],
    ];
    if let Some(r) = uncached_c1 {
        targets.push(vec![
            format!(
                "uncached filtered page p99 ≤ 5 ms, max ≤ 20 ms ({products} products, 1 client)"
            ),
            format!(
                "p99 {:.2} ms, max {:.2} ms",
                r.p99_us / 1000.0,
                r.max_us / 1000.0
            ),
            verdict(r.p99_us <= 5_000.0 && r.max_us <= 20_000.0 && r.misses == r.requests),
        ]);
    }
    let restarts_only = ready.iter().filter(|(name, _)| name.starts_with("start"));
    let max_ready = restarts_only.map(|(_, d)| *d).max().unwrap_or_default();
    targets.push(vec![
        format!("restart until /healthz answers ≤ 1 s ({products} products)"),
        ms(max_ready),
        verdict(max_ready <= Duration::from_secs(1)),
    ]);
    if !seed_time.is_zero() {
        targets.push(vec![
            format!("seeding {products} products < 2 min"),
            format!("{:.1} s", seed_time.as_secs_f64()),
            verdict(seed_time < Duration::from_secs(120)),
        ]);
    }
    print_table("Targets", &["target", "measured", "verdict"], &targets);
    if products < 1_000_000 {
        println!(
            "\n(the issue's targets are stated for 1,000,000 products: BENCH_PRODUCTS=1000000)"
        );
    }
}
