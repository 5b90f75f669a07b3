//! Two instances on one PostgreSQL database (issue #17): what a second identical instance costs
//! and that nothing breaks. On a 2-core machine two instances cannot beat one; the figures show
//! the price of sharing.
//!
//!     BENCH_BACKEND=postgres cargo bench --features redis,postgres --bench instances_load
//!
//! (a) cached catalog req/s, one instance (wrk -t2 -c64; the other up, idle) against two
//!     instances at once (two wrk processes, -t1 -c32 each), page 1 and one filtered page,
//!     alternating over BENCH_ROUNDS rounds;
//! (b) live delivery across instances: shoppers' WebSockets on A, the admin's status changes on
//!     B (then on A, for comparison): latency from the admin's send to the event's receipt, lost,
//!     duplicated and out-of-order events;
//! (c) staleness: a price PATCHed on B, read on A at once and then every millisecond until A
//!     shows it, first with nothing else running, then under an order load on both instances.
//!
//! Knobs: BENCH_PRODUCTS (10,000), BENCH_SECONDS (10, per wrk run), BENCH_ROUNDS (2, of (a)),
//! BENCH_SHOPPERS (200),
//! BENCH_RATE (200 transitions/s), BENCH_ADMIN_TASKS (4), BENCH_PAIRS (500),
//! BENCH_LOAD_CLIENTS (16).
mod catalog;
#[path = "../common/mod.rs"]
mod common;
mod live;
mod staleness;
// catalog_load's wrk runner; this harness reads fewer of its figures.
#[allow(dead_code)]
#[path = "../catalog_load/wrk.rs"]
mod wrk;

use common::{api, env_or, print_table, DataDir, Server};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Stock of the products orders are placed on: never the limit.
const STOCK: u64 = 1_000_000_000;

/// A progress line with the UTC time (the servers' warnings, on stderr, carry it too).
pub fn phase(what: &str) {
    let now = time::OffsetDateTime::now_utc();
    println!(
        "[{:02}:{:02}:{:02} UTC] {what}",
        now.hour(),
        now.minute(),
        now.second()
    );
}

/// `orderstream seed-demo --products N` on the database of `dir` (before any server starts).
fn seed(dir: &Path, products: usize) -> Duration {
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
    assert!(
        output.status.success(),
        "seed-demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

/// Registers a user on `base`, puts `product` in the cart and places `orders` orders, each on
/// the instance `place_on(k)` names; returns (token, order ids).
pub async fn shopper_with_orders(
    client: &reqwest::Client,
    bases: [&str; 2],
    email: &str,
    product: u64,
    orders: usize,
    place_on: impl Fn(usize) -> usize,
) -> (String, Vec<u64>) {
    let (_, token) = api::new_user(client, bases[place_on(0)], email).await;
    let mut ids = Vec::with_capacity(orders);
    for k in 0..orders {
        let base = bases[place_on(k)];
        let (status, body) = api::post(
            client,
            format!("{base}/api/cart/items/"),
            Some(&token),
            json!({"product_id": product, "quantity": 1}),
        )
        .await;
        assert_eq!(status, 201, "add to cart: {body}");
        let (status, body) = api::post(
            client,
            format!("{base}/api/orders/"),
            Some(&token),
            json!({}),
        )
        .await;
        assert_eq!(status, 201, "place order: {body}");
        ids.push(body["id"].as_u64().expect("order id"));
    }
    (token, ids)
}

fn main() {
    common::exit_unless_cargo_bench();
    if !common::backend_is_postgres() {
        eprintln!(
            "instances_load runs two server instances on one database, which only PostgreSQL \
             allows (sled is one process's database): run it with BENCH_BACKEND=postgres and the \
             `postgres` feature, e.g.\n    BENCH_BACKEND=postgres cargo bench --features \
             redis,postgres --bench instances_load (skipped)"
        );
        // Not a failure: a plain `cargo bench` on sled goes on to the other harnesses.
        std::process::exit(0);
    }
    common::require_tool("wrk", "apt-get install -y wrk");
    let products: usize = env_or("BENCH_PRODUCTS", 10_000);
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let rounds: usize = env_or("BENCH_ROUNDS", 2);
    let shoppers: usize = env_or("BENCH_SHOPPERS", 200);
    let rate: u64 = env_or("BENCH_RATE", 200);
    let admin_tasks: usize = env_or("BENCH_ADMIN_TASKS", 4);
    let pairs: usize = env_or("BENCH_PAIRS", 500);
    let load_clients: usize = env_or("BENCH_LOAD_CLIENTS", 16);
    common::raise_fd_limit();
    let data = DataDir::new("orderstream-bench-instances-");
    println!(
        "instances_load: {products} products, {rounds} × 4 wrk runs of {seconds} s, {shoppers} shoppers, \
         {rate} transitions/s over {admin_tasks} admin tasks, {pairs} write/read pairs under \
         {load_clients} order clients; 2 workers per instance, data {}",
        data.path().display()
    );
    common::print_backend();
    let harness_started = Instant::now();
    let env = [
        ("ORDERSTREAM_ARGON2_MEMORY_KIB", "1024".to_owned()),
        ("ORDERSTREAM_ARGON2_ITERATIONS", "1".to_owned()),
        (
            "ORDERSTREAM_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE",
            "10000000".to_owned(),
        ),
        ("ORDERSTREAM_ACCESS_TTL_SECONDS", "7200".to_owned()),
    ];
    let seed_took = seed(data.path(), products);
    println!(
        "seeded {products} products in {:.1} s",
        seed_took.as_secs_f64()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();

    // (a) One instance, then a second one on the same database beside it.
    phase("(a) starting A and B, warming both");
    let a = Server::start(data.path(), &env);
    let b = Server::start(data.path(), &env);
    let urls = runtime.block_on(catalog::warm(&client, &a, products));
    runtime.block_on(catalog::warm(&client, &b, products));
    let measured = catalog::rounds(&a, &b, &urls, seconds, rounds);
    catalog::print(products, seconds, &measured, urls.pages.len());

    // The shop's own products for (b) and (c): `load_clients` to order from (also the
    // shoppers'), then the ones whose price (c) changes.
    let targets = 8;
    let (admin, own_products) = runtime.block_on(async {
        let admin = api::login(
            &client,
            &b.url(""),
            common::ADMIN_EMAIL,
            common::ADMIN_PASSWORD,
        )
        .await;
        let ids = api::create_products(
            &client,
            &b.url(""),
            &admin,
            load_clients.max(1) + targets,
            STOCK,
        )
        .await;
        (admin, ids)
    });
    let (order_products, target_products) = own_products.split_at(load_clients.max(1));

    // (b) Live delivery, the admin on B, then on A.
    phase("(b) setting up shoppers");
    let live = live::Live::set_up(&runtime, &client, [&a, &b], shoppers, order_products);
    phase("(b) admin on B");
    let cross = live.run(&runtime, &client, &admin, 0, &b, rate, admin_tasks);
    phase("(b) admin on A");
    let same = live.run(&runtime, &client, &admin, 1, &a, rate, admin_tasks);
    live::print(
        shoppers,
        rate,
        &[
            ("admin on B (cross-instance)", &cross),
            ("admin on A (same instance)", &same),
        ],
    );

    // (c) Staleness, first with nothing else running, then under an order load on both
    // instances.
    let stale: Vec<staleness::Staleness> = [false, true]
        .into_iter()
        .map(|load| {
            phase(match load {
                false => "(c) write/read pairs, no other load",
                true => "(c) write/read pairs under the order load",
            });
            staleness::run(
                &runtime,
                &client,
                [&a, &b],
                &admin,
                order_products,
                target_products,
                pairs,
                load,
            )
        })
        .collect();
    staleness::print(&stale.iter().collect::<Vec<_>>(), load_clients, pairs);

    drop(a);
    drop(b);
    print_table(
        "Run",
        &["figure", "value"],
        &[
            vec![
                "harness wall time (cluster start excluded)".into(),
                format!("{:.0} s", harness_started.elapsed().as_secs_f64()),
            ],
            vec![
                "load average (1 min) at the end".into(),
                format!("{:.2}", common::load_average()),
            ],
        ],
    );
}
