//! Durable order placement against the release server: BENCH_CLIENTS (64) concurrent clients,
//! each its own user with its own product of large stock, each looping
//! POST /api/cart/items/ then POST /api/orders/ for BENCH_SECONDS. Every 201 from
//! POST /api/orders/ is an acknowledged durable order; at the end the server is SIGKILLed and
//! restarted, and every acknowledged order must still be there (count and stock).
//!
//!     cargo bench --bench orders_load
//!     BENCH_CLIENTS=64 BENCH_SECONDS=15 cargo bench --bench orders_load
//!
//! With `BENCH_INSTANCES=N` (PostgreSQL only: `BENCH_BACKEND=postgres`), N servers share one
//! database and client i talks to server i % N; the kill -9 check kills them all.
mod common;

use common::{api, cpu_time, env_or, ms, percentile, print_table, verdict, DataDir, Server};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Default)]
struct ClientStats {
    cart: Vec<Duration>,
    order: Vec<Duration>,
    cycle: Vec<Duration>,
    errors: Vec<String>,
    /// Orders acknowledged with 201, including the warm-up.
    acknowledged: u64,
}

async fn client_loop(
    client: reqwest::Client,
    base: String,
    token: String,
    product: u64,
    measure_from: Instant,
    until: Instant,
) -> ClientStats {
    let mut stats = ClientStats::default();
    let cart_url = format!("{base}/api/cart/items/");
    let order_url = format!("{base}/api/orders/");
    while Instant::now() < until {
        let started = Instant::now();
        let response = client
            .post(&cart_url)
            .bearer_auth(&token)
            .json(&json!({"product_id": product, "quantity": 1}))
            .send()
            .await;
        let carted = Instant::now();
        match response {
            Ok(r) if r.status() == 201 => {
                let _ = r.bytes().await;
            }
            Ok(r) => {
                stats.errors.push(format!("cart {}", r.status()));
                continue;
            }
            Err(e) => {
                stats.errors.push(format!("cart {e}"));
                continue;
            }
        }
        let response = client.post(&order_url).bearer_auth(&token).send().await;
        let ordered = Instant::now();
        match response {
            Ok(r) if r.status() == 201 => {
                let _ = r.bytes().await;
                stats.acknowledged += 1;
            }
            Ok(r) => {
                stats.errors.push(format!("order {}", r.status()));
                continue;
            }
            Err(e) => {
                stats.errors.push(format!("order {e}"));
                continue;
            }
        }
        if started >= measure_from {
            stats.cart.push(carted - started);
            stats.order.push(ordered - carted);
            stats.cycle.push(ordered - started);
        }
    }
    stats
}

fn main() {
    common::exit_unless_cargo_bench();
    let clients: usize = env_or("BENCH_CLIENTS", 64);
    let seconds: u64 = env_or("BENCH_SECONDS", 15);
    let warmup: u64 = env_or("BENCH_WARMUP_SECONDS", 2);
    let client_threads: usize = env_or("BENCH_CLIENT_THREADS", 1);
    let instances: usize = env_or("BENCH_INSTANCES", 1usize).max(1);
    if instances > 1 && !common::backend_is_postgres() {
        eprintln!(
            "BENCH_INSTANCES={instances} needs BENCH_BACKEND=postgres (sled is one process's)"
        );
        std::process::exit(2);
    }
    const STOCK: u64 = 1_000_000_000;
    common::raise_fd_limit();
    let data = DataDir::new("orderstream-bench-orders-");
    common::print_backend();
    let env = [
        ("ORDERSTREAM_ARGON2_MEMORY_KIB", "1024".to_owned()),
        ("ORDERSTREAM_ARGON2_ITERATIONS", "1".to_owned()),
        (
            "ORDERSTREAM_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE",
            "1000000".to_owned(),
        ),
        ("ORDERSTREAM_ACCESS_TTL_SECONDS", "3600".to_owned()),
    ];
    let mut servers: Vec<Server> = (0..instances)
        .map(|_| Server::start(data.path(), &env))
        .collect();
    println!(
        "orders_load: {clients} clients, {warmup} s warm-up + {seconds} s measured, \
         {instances} server(s) of 2 workers, client runtime threads {client_threads}, data {}",
        data.path().display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .build()
        .unwrap();
    let bases: Vec<String> = servers.iter().map(|s| s.url("")).collect();
    let base = bases[0].clone();
    let servers_cpu =
        |servers: &[Server]| -> Duration { servers.iter().map(|s| cpu_time(s.pid())).sum() };

    // Setup: users, one product each.
    let (users, products) = runtime.block_on(async {
        let admin = api::login(&client, &base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
        let products = api::create_products(&client, &base, &admin, clients, STOCK).await;
        let mut users = Vec::new();
        for i in 0..clients {
            let email = format!("orders-{i}-{}@example.com", std::process::id());
            users.push(api::new_user(&client, &base, &email).await.1);
        }
        (users, products)
    });

    // The run.
    let server_cpu_before = servers_cpu(&servers);
    let database_cpu_before = common::database_cpu_time();
    let own_cpu_before = cpu_time(std::process::id());
    let started = Instant::now();
    let measure_from = started + Duration::from_secs(warmup);
    let until = measure_from + Duration::from_secs(seconds);
    let stats: Vec<ClientStats> = runtime.block_on(async {
        let tasks: Vec<_> = users
            .iter()
            .zip(&products)
            .enumerate()
            .map(|(i, (token, &product))| {
                tokio::spawn(client_loop(
                    client.clone(),
                    bases[i % bases.len()].clone(),
                    token.clone(),
                    product,
                    measure_from,
                    until,
                ))
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("client task"));
        }
        out
    });
    let ended = Instant::now();
    let measured = ended.saturating_duration_since(measure_from).as_secs_f64();
    let server_cpu = servers_cpu(&servers) - server_cpu_before;
    let database_cpu = common::database_cpu_time()
        .zip(database_cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let own_cpu = cpu_time(std::process::id()) - own_cpu_before;
    let wall = (ended - started).as_secs_f64();

    let mut cart: Vec<Duration> = stats.iter().flat_map(|s| s.cart.iter().copied()).collect();
    let mut order: Vec<Duration> = stats.iter().flat_map(|s| s.order.iter().copied()).collect();
    let mut cycle: Vec<Duration> = stats.iter().flat_map(|s| s.cycle.iter().copied()).collect();
    cart.sort();
    order.sort();
    cycle.sort();
    let errors: Vec<&String> = stats.iter().flat_map(|s| s.errors.iter()).collect();
    let acknowledged: u64 = stats.iter().map(|s| s.acknowledged).sum();
    let measured_orders = order.len() as f64;
    let orders_per_second = measured_orders / measured;

    // Durability: SIGKILL, restart, and every acknowledged order must be there.
    servers.iter_mut().for_each(Server::kill);
    let server = Server::start(data.path(), &env);
    let (stored_orders, stock_ok) = runtime.block_on(async {
        let base = server.url("");
        let admin = api::login(&client, &base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
        let (status, body) = api::call(
            &client,
            reqwest::Method::GET,
            format!("{base}/api/orders/?page_size=1"),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let stored = body["count"].as_u64().unwrap_or(0);
        let mut stock_ok = true;
        for (s, &product) in stats.iter().zip(&products) {
            let (_, p) = api::call(
                &client,
                reqwest::Method::GET,
                format!("{base}/api/products/{product}/"),
                None,
                None,
            )
            .await;
            let stock = p["stock"].as_u64().unwrap_or(0);
            // At least every acknowledged order took its unit (an unacknowledged one may have too).
            stock_ok &= stock <= STOCK - s.acknowledged;
        }
        (stored, stock_ok)
    });
    drop(server);

    let lat = |name: &str, v: &[Duration]| {
        vec![
            name.to_owned(),
            v.len().to_string(),
            ms(percentile(v, 50.0)),
            ms(percentile(v, 90.0)),
            ms(percentile(v, 99.0)),
            ms(v.last().copied().unwrap_or_default()),
        ]
    };
    print_table(
        &format!("Order placement, {clients} concurrent clients, {measured:.1} s measured"),
        &["request", "count", "p50", "p90", "p99", "max"],
        &[
            lat("POST /api/cart/items/", &cart),
            lat("POST /api/orders/ (durable)", &order),
            lat("cart + order cycle", &cycle),
        ],
    );
    let mut checks = vec![
        vec![
            "durable orders/s (full cycle)".into(),
            format!("{orders_per_second:.0}"),
        ],
        vec![
            "requests/s (cart + order)".into(),
            format!("{:.0}", 2.0 * orders_per_second),
        ],
        vec![
            "errors".into(),
            format!(
                "{} {:?}",
                errors.len(),
                errors.iter().take(3).collect::<Vec<_>>()
            ),
        ],
        vec![
            format!("server CPU (of 2 cores, {instances} instance(s))"),
            format!("{:.0}%", 100.0 * server_cpu.as_secs_f64() / wall / 2.0),
        ],
        vec![
            "load generator CPU (of 2 cores)".into(),
            format!("{:.0}%", 100.0 * own_cpu.as_secs_f64() / wall / 2.0),
        ],
        vec![
            "orders acknowledged (incl. warm-up)".into(),
            acknowledged.to_string(),
        ],
        vec![
            "orders present after SIGKILL + restart".into(),
            stored_orders.to_string(),
        ],
        vec![
            "stock reflects every acknowledged order".into(),
            stock_ok.to_string(),
        ],
    ];
    if let Some(database_cpu) = database_cpu {
        // Beside the server's: on PostgreSQL much of an order's work is the database's.
        checks.insert(
            4,
            vec![
                "PostgreSQL CPU (of 2 cores)".into(),
                format!("{:.0}%", 100.0 * database_cpu.as_secs_f64() / wall / 2.0),
            ],
        );
    }
    print_table("Throughput and checks", &["figure", "value"], &checks);
    print_table(
        "Targets",
        &["target", "measured", "verdict"],
        &[
            vec![
                "≥ 3,000 durable orders/s, 64 clients".into(),
                format!("{orders_per_second:.0}/s"),
                verdict(orders_per_second >= 3000.0),
            ],
            vec![
                "no acknowledged order lost on SIGKILL".into(),
                format!("{stored_orders} stored ≥ {acknowledged} acked"),
                verdict(stored_orders >= acknowledged && stock_ok),
            ],
        ],
    );
}
