//! Webhooks under load: BENCH_ORDERS (1,000) orders placed by BENCH_CLIENTS (16) concurrent
//! shoppers, then each moved pending → shipped → delivered by the admin, once without a webhook
//! and once with a webhook (order.created + order.status, strict order) whose receiver takes
//! BENCH_RECEIVER_MS (200 ms) per delivery. Compares order placement and live delivery (the
//! admin's WebSocket: event arrival − request send) between the two runs, then waits for the
//! webhook to drain and checks every event reached the receiver exactly once, in log order.
//!
//!     cargo bench --bench webhook_load
//!     BENCH_ORDERS=200 BENCH_RECEIVER_MS=200 cargo bench --bench webhook_load
//!
//! The drain takes about events × BENCH_RECEIVER_MS (3,000 × 200 ms = 10 min by default): an
//! ordered webhook is one request at a time by design.
#[path = "../common/mod.rs"]
mod common;
mod live;
mod receiver;

use common::{env_or, ms, percentile, print_table, verdict, DataDir, Server};
use live::{Run, RunFigures};
use receiver::Receiver;
use std::time::{Duration, Instant};

fn main() {
    common::exit_unless_cargo_bench();
    let orders: usize = env_or("BENCH_ORDERS", 1000);
    let clients: usize = env_or("BENCH_CLIENTS", 16);
    let delay = Duration::from_millis(env_or("BENCH_RECEIVER_MS", 200));
    common::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "webhook_load: {orders} orders, {clients} concurrent shoppers, receiver {} per delivery, \
         load average {:.1}",
        ms(delay),
        common::load_average()
    );
    common::print_backend();

    let mut baseline = runtime.block_on(one_run(orders, clients, None));
    drop(baseline.server.take()); // the webhook run gets the machine to itself
    let receiver = Receiver::start(delay);
    let mut with_hook = runtime.block_on(one_run(orders, clients, Some(&receiver.url)));

    // The webhook's backlog drains at one delivery per `delay`.
    let expected = with_hook.events_logged;
    let drain_started = Instant::now();
    let limit = delay * (expected as u32) * 2 + Duration::from_secs(60);
    while receiver.delivered().len() < expected && drain_started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(delay * 3); // anything extra (a duplicate) would show up now
    let drain = with_hook
        .hook_started
        .map(|t| t.elapsed())
        .unwrap_or_default();
    let delivered = receiver.delivered();
    let ids: Vec<u64> = delivered.iter().map(|d| d.event_id).collect();
    let in_order = ids.windows(2).all(|w| w[0] < w[1]);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    let mut hook_ids: Vec<&str> = delivered.iter().map(|d| d.webhook_id.as_str()).collect();
    hook_ids.sort();
    hook_ids.dedup();
    drop(with_hook.server.take());

    let row = |name: &str, f: &RunFigures| {
        vec![
            name.to_owned(),
            format!("{:.0}", f.orders_per_second),
            ms(percentile(&f.placement, 50.0)),
            ms(percentile(&f.placement, 99.0)),
            ms(percentile(&f.live, 50.0)),
            ms(percentile(&f.live, 99.0)),
            ms(percentile(&f.status, 50.0)),
            f.live_lost.to_string(),
        ]
    };
    print_table(
        &format!("{orders} orders through pending → shipped → delivered"),
        &[
            "run",
            "orders/s",
            "place p50",
            "place p99",
            "live p50",
            "live p99",
            "status p50",
            "live events lost",
        ],
        &[
            row("no webhook", &baseline),
            row(&format!("webhook, {} receiver", ms(delay)), &with_hook),
        ],
    );
    let p99 = |f: &RunFigures| percentile(&f.live, 99.0).as_secs_f64();
    let place99 = |f: &RunFigures| percentile(&f.placement, 99.0).as_secs_f64();
    print_table(
        "Webhook deliveries and checks",
        &["figure", "value", "verdict"],
        &[
            vec![
                "events in the log / delivered".into(),
                format!("{expected} / {}", delivered.len()),
                verdict(delivered.len() == expected),
            ],
            vec![
                "each event once (distinct ids, distinct webhook-ids)".into(),
                format!("{} / {}", unique.len(), hook_ids.len()),
                verdict(unique.len() == ids.len() && hook_ids.len() == ids.len()),
            ],
            vec![
                "in event order".into(),
                in_order.to_string(),
                verdict(in_order),
            ],
            vec![
                "drain time (webhook created → last delivery seen)".into(),
                format!("{:.1} s", drain.as_secs_f64()),
                String::new(),
            ],
            vec![
                "placement p99 with webhook ≤ 1.5 × without + 5 ms".into(),
                format!(
                    "{:.1} vs {:.1} ms",
                    place99(&with_hook) * 1e3,
                    place99(&baseline) * 1e3
                ),
                verdict(place99(&with_hook) <= place99(&baseline) * 1.5 + 0.005),
            ],
            vec![
                "live p99 with webhook ≤ 1.5 × without + 5 ms".into(),
                format!(
                    "{:.1} vs {:.1} ms",
                    p99(&with_hook) * 1e3,
                    p99(&baseline) * 1e3
                ),
                verdict(p99(&with_hook) <= p99(&baseline) * 1.5 + 0.005),
            ],
        ],
    );
}

/// One server on a fresh data dir: set up, (maybe) a webhook, orders, statuses.
async fn one_run(orders: usize, clients: usize, hook: Option<&str>) -> RunFigures {
    let data = DataDir::new("orderstream-bench-webhooks-");
    let env = [
        ("ORDERSTREAM_ARGON2_MEMORY_KIB", "1024".to_owned()),
        ("ORDERSTREAM_ARGON2_ITERATIONS", "1".to_owned()),
        (
            "ORDERSTREAM_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE",
            "1000000".to_owned(),
        ),
        ("ORDERSTREAM_ACCESS_TTL_SECONDS", "3600".to_owned()),
        ("ORDERSTREAM_WEBHOOKS_ALLOW_PRIVATE", "true".to_owned()),
    ];
    let server = Server::start(data.path(), &env);
    let run = Run::set_up(server, data, clients).await;
    run.measure(orders, hook).await
}
