//! (a) Cached catalog pages: one instance under wrk -t2 -c64, then two instances on the same
//! database at once, each under its own wrk -t1 -c32.
use crate::common::{cpu_time, database_cpu_time, load_average, print_table, Server};
use crate::wrk::{Wrk, WrkResult};
use std::time::Duration;

/// The two cached pages, as paths.
pub struct Urls {
    pub pages: Vec<(&'static str, String)>,
}

/// What one configuration did on one page.
pub struct Measured {
    pub page: &'static str,
    /// One per wrk process (one for a single instance, A then B for two).
    pub runs: Vec<WrkResult>,
    /// Server CPU (both servers for two instances) and PostgreSQL CPU over the run.
    pub server_cpu: Duration,
    pub database_cpu: Duration,
    pub load: f64,
}

impl Measured {
    fn requests(&self) -> u64 {
        self.runs.iter().map(|r| r.requests).sum()
    }
    fn rps(&self) -> f64 {
        self.runs.iter().map(WrkResult::rps).sum()
    }
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String, serde_json::Value) {
    let response = client.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let body = response.json().await.unwrap_or_default();
    (status, cache, body)
}

/// Warms page 1 and the filtered page on `server` (the second GET must be a cache hit) and
/// checks the catalog is the seeded one; returns the paths.
pub async fn warm(client: &reqwest::Client, server: &Server, products: usize) -> Urls {
    let (status, _, categories) = get(client, &server.url("/api/categories/?page_size=100")).await;
    assert_eq!(status, 200, "categories: {categories}");
    let results = categories["results"].as_array().expect("categories");
    let category = &results[2 % results.len()]["id"];
    let urls = Urls {
        pages: vec![
            ("page 1", "/api/products/".to_owned()),
            (
                "filtered page",
                format!("/api/products/?category={category}&min_price=10.00&in_stock=true"),
            ),
        ],
    };
    for (_, path) in &urls.pages {
        let url = server.url(path);
        let (status, _, body) = get(client, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        let (_, cache, _) = get(client, &url).await;
        assert_eq!(cache, "HIT", "the second GET of {url} must be a cache hit");
    }
    let (_, _, page1) = get(client, &server.url("/api/products/")).await;
    assert_eq!(
        page1["count"].as_u64(),
        Some(products as u64),
        "the served catalog has every seeded product"
    );
    urls
}

fn wrk(threads: u32, connections: u32, seconds: u64, script_dir: tempfile::TempDir) -> Wrk {
    Wrk {
        threads,
        connections,
        seconds,
        script_dir,
    }
}

/// One wrk per server at once (each against its own server), the CPU summed over them.
fn measure(page: &'static str, path: &str, servers: &[&Server], runners: &[Wrk]) -> Measured {
    let cpu_before: Vec<Duration> = servers.iter().map(|s| cpu_time(s.pid())).collect();
    let database_before = database_cpu_time().unwrap_or_default();
    let runs: Vec<WrkResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .zip(runners)
            .map(|(server, runner)| {
                let url = server.url(path);
                let pid = server.pid();
                scope.spawn(move || runner.run(&url, false, runner.connections, &[], pid))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("wrk thread"))
            .collect()
    });
    let server_cpu = servers
        .iter()
        .zip(&cpu_before)
        .map(|(s, before)| cpu_time(s.pid()).saturating_sub(*before))
        .sum();
    let database_cpu = database_cpu_time()
        .unwrap_or_default()
        .saturating_sub(database_before);
    Measured {
        page,
        runs,
        server_cpu,
        database_cpu,
        load: load_average(),
    }
}

/// Per round, per page: A alone under wrk -t2 -c64 (B up, idle), then A and B at once under
/// one wrk -t1 -c32 each. The two alternate so background load on this shared machine hits
/// both alike.
pub fn rounds(
    a: &Server,
    b: &Server,
    urls: &Urls,
    seconds: u64,
    rounds: usize,
) -> Vec<(Measured, Measured)> {
    let dir = || tempfile::tempdir().expect("wrk script dir");
    let one = [wrk(2, 64, seconds, dir())];
    let two = [wrk(1, 32, seconds, dir()), wrk(1, 32, seconds, dir())];
    let mut out = Vec::new();
    for round in 0..rounds.max(1) {
        for (page, path) in &urls.pages {
            crate::phase(&format!("(a) round {}: {page}", round + 1));
            let single = measure(page, path, &[a], &one);
            let dual = measure(page, path, &[a, b], &two);
            out.push((single, dual));
        }
    }
    out
}

pub fn print(products: usize, seconds: u64, measured: &[(Measured, Measured)], pages: usize) {
    let mut rows = Vec::new();
    let ms = |us: f64| format!("{:.2}", us / 1000.0);
    for (n, (one, two)) in measured.iter().enumerate() {
        let round = n / pages.max(1) + 1;
        let per_request = |cpu: Duration, m: &Measured| {
            format!(
                "{:.0}",
                cpu.as_secs_f64() * 1e6 / m.requests().max(1) as f64
            )
        };
        let r = &one.runs[0];
        rows.push(vec![
            format!("round {round}, {}: 1 instance", one.page),
            "-t2 -c64".into(),
            format!("{:.0}", one.rps()),
            ms(r.p50_us),
            ms(r.p99_us),
            r.errors.to_string(),
            per_request(one.server_cpu, one),
            per_request(one.database_cpu, one),
            format!("{:.1}", one.load),
        ]);
        for (name, r) in ["A", "B"].iter().zip(&two.runs) {
            rows.push(vec![
                format!("round {round}, {}: 2 instances, {name}", two.page),
                "-t1 -c32".into(),
                format!("{:.0}", r.rps()),
                ms(r.p50_us),
                ms(r.p99_us),
                r.errors.to_string(),
                format!("{:.0}", r.cpu_us_per_request),
                String::new(),
                String::new(),
            ]);
        }
        rows.push(vec![
            format!(
                "round {round}, {}: 2 instances, total ({:.0}% of 1 instance)",
                two.page,
                100.0 * two.rps() / one.rps().max(1e-9)
            ),
            "2 × -t1 -c32".into(),
            format!("{:.0}", two.rps()),
            String::new(),
            String::new(),
            two.runs.iter().map(|r| r.errors).sum::<u64>().to_string(),
            per_request(two.server_cpu, two),
            per_request(two.database_cpu, two),
            format!("{:.1}", two.load),
        ]);
    }
    print_table(
        &format!(
            "(a) Cached catalog, {products} products, {seconds} s per run, one database \
             (latencies in ms; CPU summed over the servers of the run)"
        ),
        &[
            "run",
            "wrk",
            "req/s",
            "p50",
            "p99",
            "errors",
            "server CPU µs/req",
            "PG CPU µs/req",
            "loadavg",
        ],
        &rows,
    );
    for page in 0..pages {
        let mut ratios: Vec<f64> = measured
            .iter()
            .skip(page)
            .step_by(pages.max(1))
            .map(|(one, two)| 100.0 * two.rps() / one.rps().max(1e-9))
            .collect();
        let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.0}%")).collect();
        ratios.sort_by(f64::total_cmp);
        let mid = ratios.len() / 2;
        let median = match ratios.len() % 2 {
            0 => (ratios[mid - 1] + ratios[mid]) / 2.0,
            _ => ratios[mid],
        };
        println!(
            "{}: 2 instances / 1 instance, per round {}, median {median:.0}%",
            measured[page].0.page,
            shown.join(", ")
        );
    }
}
