//! (c) Staleness under load: while order clients on both instances loop add-to-cart + place
//! order, the admin PATCHes a product's price on B, and from the moment B answers the harness
//! reads the product on A every millisecond until A shows the new price.
use crate::common::{api, cpu_time, database_cpu_time, ms, percentile, print_table, Server};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A pair whose new price has not shown on A after this long is given up on (and reported).
const GIVE_UP: Duration = Duration::from_secs(10);
/// The order load runs this long before the first pair.
const WARM_UP: Duration = Duration::from_secs(1);

pub struct Staleness {
    /// Whether the order load ran.
    pub loaded: bool,
    /// B's answer → the send of A's first read that answered the new price, per fresh pair,
    /// sorted: how long A was seen stale (about 0 when the first read was fresh).
    pub fresh_sent: Vec<Duration>,
    /// B's answer → that fresh answer received (includes the read's own round trip), sorted.
    pub fresh_after: Vec<Duration>,
    /// X-Cache of the stale answers A gave: HIT, MISS (an answer read from the database after
    /// B answered, yet old: should never happen), other.
    pub stale_cache: [u64; 3],
    /// X-Cache of the fresh answers: HIT, MISS, other.
    pub fresh_cache: [u64; 3],
    pub fresh_first_read: usize,
    pub over_one_second: usize,
    pub never_fresh: usize,
    pub reads: u64,
    pub max_reads: u64,
    pub patch: Vec<Duration>,
    pub window: Duration,
    /// Orders acknowledged during the pairs, placed on A and on B.
    pub orders: [u64; 2],
    pub order_errors: Vec<String>,
    /// CPU over the pairs: A + B, PostgreSQL, this harness.
    pub cpu: [Duration; 3],
    pub load: f64,
}

/// One order client: its own user and product, on one instance, until `stop`.
async fn order_loop(
    client: reqwest::Client,
    base: String,
    token: String,
    product: u64,
    acknowledged: Arc<AtomicU64>,
    errors: Arc<Mutex<Vec<String>>>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let cart = format!("{base}/api/cart/items/");
    let order = format!("{base}/api/orders/");
    while !*stop.borrow() {
        let (status, body) = api::post(
            &client,
            cart.clone(),
            Some(&token),
            json!({"product_id": product, "quantity": 1}),
        )
        .await;
        if status != 201 {
            errors.lock().unwrap().push(format!("cart {status} {body}"));
            continue;
        }
        let (status, body) = api::post(&client, order.clone(), Some(&token), json!({})).await;
        if status == 201 {
            acknowledged.fetch_add(1, Ordering::Relaxed);
        } else {
            errors
                .lock()
                .unwrap()
                .push(format!("order {status} {body}"));
        }
    }
}

/// GET a product: (its price, the X-Cache header's slot: HIT 0, MISS 1, other 2).
async fn price_on(client: &reqwest::Client, url: &str) -> (Option<String>, usize) {
    let Ok(response) = client.get(url).send().await else {
        return (None, 2);
    };
    let cache = match response.headers().get("x-cache").map(|v| v.as_bytes()) {
        Some(b"HIT") => 0,
        Some(b"MISS") => 1,
        _ => 2,
    };
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (body["price"].as_str().map(str::to_owned), cache)
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    servers: [&Server; 2],
    admin: &str,
    order_products: &[u64],
    targets: &[u64],
    pairs: usize,
    load: bool,
) -> Staleness {
    let [a, b] = servers;
    let bases = [a.url(""), b.url("")];
    runtime.block_on(async {
        // Order clients, alternately on A and B, each registered on its own instance.
        let mut tokens = Vec::new();
        let load_products = if load { order_products } else { &[] };
        for (i, _) in load_products.iter().enumerate() {
            let email = format!("instances-load-{i}-{}@example.com", std::process::id());
            tokens.push(api::new_user(client, &bases[i % 2], &email).await.1);
        }
        let counters = [Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0))];
        let errors = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let loops: Vec<_> = tokens
            .into_iter()
            .zip(load_products)
            .enumerate()
            .map(|(i, (token, &product))| {
                tokio::spawn(order_loop(
                    client.clone(),
                    bases[i % 2].clone(),
                    token,
                    product,
                    counters[i % 2].clone(),
                    errors.clone(),
                    stop_rx.clone(),
                ))
            })
            .collect();
        if load {
            tokio::time::sleep(WARM_UP).await;
        }

        let orders_before = counters.each_ref().map(|c| c.load(Ordering::Relaxed));
        let cpu_before = [
            cpu_time(a.pid()) + cpu_time(b.pid()),
            database_cpu_time().unwrap_or_default(),
            cpu_time(std::process::id()),
        ];
        let window = Instant::now();
        let mut out = Staleness {
            loaded: load,
            fresh_sent: Vec::with_capacity(pairs),
            fresh_after: Vec::with_capacity(pairs),
            stale_cache: [0; 3],
            fresh_cache: [0; 3],
            fresh_first_read: 0,
            over_one_second: 0,
            never_fresh: 0,
            reads: 0,
            max_reads: 0,
            patch: Vec::with_capacity(pairs),
            window: Duration::ZERO,
            orders: [0; 2],
            order_errors: Vec::new(),
            cpu: [Duration::ZERO; 3],
            load: 0.0,
        };
        for k in 0..pairs {
            let product = targets[k % targets.len()];
            let on_a = format!("{}/api/products/{product}/", bases[0]);
            // A has the old price in hand (and in its caches) before the write.
            let _ = price_on(client, &on_a).await;
            let price = format!("{}.{:02}", 10 + k / 100 + 100 * load as usize, k % 100);
            let sent = Instant::now();
            let (status, body) = api::call(
                client,
                reqwest::Method::PATCH,
                format!("{}/api/products/{product}/", bases[1]),
                Some(admin),
                Some(json!({"price": price})),
            )
            .await;
            let answered = Instant::now();
            assert_eq!(status, 200, "PATCH on B: {body}");
            out.patch.push(answered - sent);
            // The first read at once (an interval's first tick waits for the timer wheel, up
            // to a millisecond), the next ones every millisecond after that.
            let every = Duration::from_millis(1);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut reads = 0u64;
            loop {
                if reads > 0 {
                    tick.tick().await;
                }
                reads += 1;
                let read_sent = answered.elapsed();
                let (seen, cache) = price_on(client, &on_a).await;
                let elapsed = answered.elapsed();
                if seen.as_deref() == Some(price.as_str()) {
                    out.fresh_cache[cache] += 1;
                    out.fresh_sent.push(read_sent);
                    out.fresh_after.push(elapsed);
                    out.fresh_first_read += (reads == 1) as usize;
                    out.over_one_second += (elapsed > Duration::from_secs(1)) as usize;
                    break;
                }
                out.stale_cache[cache] += 1;
                if elapsed > GIVE_UP {
                    out.never_fresh += 1;
                    break;
                }
            }
            out.reads += reads;
            out.max_reads = out.max_reads.max(reads);
        }
        out.window = window.elapsed();
        let orders_after = counters.each_ref().map(|c| c.load(Ordering::Relaxed));
        out.orders = [
            orders_after[0] - orders_before[0],
            orders_after[1] - orders_before[1],
        ];
        out.cpu = [
            (cpu_time(a.pid()) + cpu_time(b.pid())).saturating_sub(cpu_before[0]),
            database_cpu_time()
                .unwrap_or_default()
                .saturating_sub(cpu_before[1]),
            cpu_time(std::process::id()).saturating_sub(cpu_before[2]),
        ];
        out.load = crate::common::load_average();
        let _ = stop_tx.send(true);
        for l in loops {
            let _ = l.await;
        }
        let order_errors = std::mem::take(&mut *errors.lock().unwrap());
        out.order_errors = order_errors;
        out.fresh_sent.sort();
        out.fresh_after.sort();
        out.patch.sort();
        out
    })
}

pub fn print(runs: &[&Staleness], clients: usize, pairs: usize) {
    let quartet = |v: &[Duration]| {
        format!(
            "{} / {} / {} / {}",
            ms(percentile(v, 50.0)),
            ms(percentile(v, 90.0)),
            ms(percentile(v, 99.0)),
            ms(v.last().copied().unwrap_or_default())
        )
    };
    let share = |s: &Staleness, d: Duration| 100.0 * d.as_secs_f64() / s.window.as_secs_f64() / 2.0;
    type Figure<'a> = Box<dyn Fn(&Staleness) -> String + 'a>;
    let figures: Vec<(&str, Figure)> = vec![
        (
            "B answered → first fresh read on A sent, p50 / p90 / p99 / max",
            Box::new(|s| quartet(&s.fresh_sent)),
        ),
        (
            "B answered → fresh answer from A received, p50 / p90 / p99 / max",
            Box::new(|s| quartet(&s.fresh_after)),
        ),
        (
            "pairs fresh on the first read",
            Box::new(|s| {
                format!(
                    "{} of {pairs} ({:.0}%)",
                    s.fresh_first_read,
                    100.0 * s.fresh_first_read as f64 / pairs.max(1) as f64
                )
            }),
        ),
        (
            "pairs fresh only after > 1 s / never (given up after 10 s)",
            Box::new(|s| format!("{} / {}", s.over_one_second, s.never_fresh)),
        ),
        (
            "reads on A: total / most in one pair",
            Box::new(|s| format!("{} / {}", s.reads, s.max_reads)),
        ),
        (
            "X-Cache of stale answers: HIT / MISS / none",
            Box::new(|s| {
                let [h, m, n] = s.stale_cache;
                format!("{h} / {m} / {n}")
            }),
        ),
        (
            "X-Cache of fresh answers: HIT / MISS / none",
            Box::new(|s| {
                let [h, m, n] = s.fresh_cache;
                format!("{h} / {m} / {n}")
            }),
        ),
        (
            "PATCH on B p50 / p99",
            Box::new(|s| {
                format!(
                    "{} / {}",
                    ms(percentile(&s.patch, 50.0)),
                    ms(percentile(&s.patch, 99.0))
                )
            }),
        ),
        (
            "background orders/s during the pairs: total (on A + on B)",
            Box::new(|s| {
                let secs = s.window.as_secs_f64();
                match s.loaded {
                    false => "-".into(),
                    true => format!(
                        "{:.0} ({:.0} + {:.0})",
                        (s.orders[0] + s.orders[1]) as f64 / secs,
                        s.orders[0] as f64 / secs,
                        s.orders[1] as f64 / secs
                    ),
                }
            }),
        ),
        (
            "order load errors",
            Box::new(|s| {
                format!(
                    "{} {:?}",
                    s.order_errors.len(),
                    s.order_errors.iter().take(2).collect::<Vec<_>>()
                )
            }),
        ),
        (
            "pairs' wall time",
            Box::new(|s| format!("{:.1} s", s.window.as_secs_f64())),
        ),
        (
            "CPU of 2 cores: servers A + B / PostgreSQL / harness",
            Box::new(move |s| {
                format!(
                    "{:.0}% / {:.0}% / {:.0}%",
                    share(s, s.cpu[0]),
                    share(s, s.cpu[1]),
                    share(s, s.cpu[2])
                )
            }),
        ),
        ("loadavg", Box::new(|s| format!("{:.1}", s.load))),
    ];
    let rows: Vec<Vec<String>> = figures
        .iter()
        .map(|(name, figure)| {
            let mut row = vec![name.to_string()];
            row.extend(runs.iter().map(|s| figure(s)));
            row
        })
        .collect();
    let mut header = vec!["figure"];
    header.extend(runs.iter().map(|s| match s.loaded {
        false => "no other load",
        true => "under the order load",
    }));
    print_table(
        &format!(
            "(c) Staleness: a price PATCHed on B, read on A every 1 ms until fresh, {pairs} pairs; \
             order load: {clients} clients looping cart + order, half on A, half on B"
        ),
        &header,
        &rows,
    );
}
