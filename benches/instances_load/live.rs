//! (b) Live delivery across instances: every shopper's WebSocket is on A, the admin moves each
//! shopper's order to shipped, then delivered, through B (or A), at a steady rate from a few
//! concurrent tasks. Latency is the socket's receipt minus the admin's send of that request.
use crate::common::{api, ms, percentile, print_table, Server};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const STEPS: [&str; 2] = ["shipped", "delivered"];
/// After the last acknowledged transition, how long the sockets keep listening.
const SETTLE: Duration = Duration::from_secs(2);

pub struct Live {
    /// (token, one pending order per run) per shopper.
    shoppers: Vec<(String, Vec<u64>)>,
    ws_port: u16,
}

/// Shared by the admin tasks and the sockets of one run.
struct Board {
    base: Instant,
    /// Per (shopper, step): nanoseconds since `base` when the admin sent the request, plus 1.
    sent: Vec<AtomicU64>,
    /// The same when the admin had the 200 answer.
    answered: Vec<AtomicU64>,
    /// Per shopper: transitions acknowledged with 200.
    expected: Vec<AtomicU32>,
}

/// What one socket saw.
#[derive(Default)]
struct Seen {
    /// (step, when the socket received it), first receipt of each event.
    receipts: Vec<(usize, Instant)>,
    distinct: u32,
    duplicates: u32,
    out_of_order: u32,
    foreign: u32,
    closed_early: bool,
}

pub struct Outcome {
    /// Admin's send → receipt on A, sorted.
    pub latencies: Vec<Duration>,
    /// Receipt on A − the admin's 200 answer, in ms (negative: the event came first), sorted.
    pub after_answer: Vec<f64>,
    pub admin: Vec<Duration>,
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub foreign: u64,
    pub closed_early: usize,
    pub connect_errors: usize,
    pub admin_errors: Vec<String>,
    pub achieved_rate: f64,
}

impl Live {
    /// Registers the shoppers (on A or B in turn) and places each one order per run, each
    /// through either instance; their sockets will be on `servers[0]`.
    pub fn set_up(
        runtime: &tokio::runtime::Runtime,
        client: &reqwest::Client,
        servers: [&Server; 2],
        shoppers: usize,
        products: &[u64],
    ) -> Live {
        let bases = [servers[0].url(""), servers[1].url("")];
        let started = Instant::now();
        let mut list: Vec<(usize, (String, Vec<u64>))> = runtime.block_on(
            futures_util::stream::iter((0..shoppers).map(|i| {
                let (client, bases) = (client.clone(), bases.clone());
                let product = products[i % products.len()];
                async move {
                    let email = format!("instances-live-{i}-{}@example.com", std::process::id());
                    let shopper = crate::shopper_with_orders(
                        &client,
                        [&bases[0], &bases[1]],
                        &email,
                        product,
                        2,
                        |k| (i + k) % 2,
                    )
                    .await;
                    (i, shopper)
                }
            }))
            .buffer_unordered(16)
            .collect(),
        );
        list.sort_by_key(|(i, _)| *i);
        println!(
            "(b) set up {shoppers} shoppers with 2 pending orders each in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Live {
            shoppers: list.into_iter().map(|(_, s)| s).collect(),
            ws_port: servers[0].port,
        }
    }

    /// One run: sockets on A, the admin's requests to `admin_on`, order `round` of each shopper.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        runtime: &tokio::runtime::Runtime,
        client: &reqwest::Client,
        admin: &str,
        round: usize,
        admin_on: &Server,
        rate: u64,
        tasks: usize,
    ) -> Outcome {
        let count = self.shoppers.len();
        let board = Arc::new(Board {
            base: Instant::now(),
            sent: (0..2 * count).map(|_| AtomicU64::new(0)).collect(),
            answered: (0..2 * count).map(|_| AtomicU64::new(0)).collect(),
            expected: (0..count).map(|_| AtomicU32::new(0)).collect(),
        });
        let base = admin_on.url("");
        runtime.block_on(async {
            // Every socket connected (and registered with A's hub) before the first request.
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let connected = Arc::new(tokio::sync::Semaphore::new(0));
            let sockets: Vec<_> = self
                .shoppers
                .iter()
                .map(|(token, orders)| {
                    let url = format!("ws://127.0.0.1:{}/ws/?token={token}", self.ws_port);
                    tokio::spawn(socket(
                        url,
                        orders[round],
                        stop_rx.clone(),
                        connected.clone(),
                    ))
                })
                .collect();
            let _ = connected.acquire_many(count as u32).await;
            tokio::time::sleep(Duration::from_millis(500)).await;

            // The admin: transition n (ship every order, then deliver every order) is due at
            // n / rate; shopper i's two transitions are both on task i % tasks, one after the
            // other, so the delivery never overtakes the shipping.
            let admin_latencies = Arc::new(Mutex::new(Vec::new()));
            let admin_errors = Arc::new(Mutex::new(Vec::new()));
            let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
            let start = tokio::time::Instant::now() + Duration::from_millis(10);
            let driving = Instant::now();
            let lanes: Vec<_> = (0..tasks.max(1))
                .map(|lane| {
                    let (client, admin, base, board) = (
                        client.clone(),
                        admin.to_owned(),
                        base.clone(),
                        board.clone(),
                    );
                    let (latencies, errors) = (admin_latencies.clone(), admin_errors.clone());
                    let orders: Vec<u64> = self.shoppers.iter().map(|s| s.1[round]).collect();
                    tokio::spawn(async move {
                        for (step, status) in STEPS.iter().enumerate() {
                            for i in (lane..count).step_by(tasks.max(1)) {
                                let n = step * count + i;
                                tokio::time::sleep_until(start + interval * n as u32).await;
                                let sent = Instant::now();
                                let nanos = (sent - board.base).as_nanos() as u64 + 1;
                                board.sent[2 * i + step].store(nanos, Ordering::Release);
                                let (code, body) = api::post(
                                    &client,
                                    format!("{base}/api/orders/{}/status/", orders[i]),
                                    Some(&admin),
                                    json!({"status": status}),
                                )
                                .await;
                                if code == 200 {
                                    let nanos = (Instant::now() - board.base).as_nanos() as u64;
                                    board.answered[2 * i + step]
                                        .store(nanos + 1, Ordering::Release);
                                    board.expected[i].fetch_add(1, Ordering::AcqRel);
                                    latencies.lock().unwrap().push(sent.elapsed());
                                } else {
                                    errors.lock().unwrap().push(format!("{code} {body}"));
                                }
                            }
                        }
                    })
                })
                .collect();
            for lane in lanes {
                lane.await.expect("admin task");
            }
            let achieved_rate = 2.0 * count as f64 / driving.elapsed().as_secs_f64();
            tokio::time::sleep(SETTLE).await;
            let _ = stop_tx.send(true);
            let mut seen = Vec::with_capacity(count);
            for s in sockets {
                seen.push(s.await.unwrap_or_default());
            }
            let latencies = std::mem::take(&mut *admin_latencies.lock().unwrap());
            let errors = std::mem::take(&mut *admin_errors.lock().unwrap());
            tally(&board, seen, latencies, errors, achieved_rate)
        })
    }
}

fn tally(
    board: &Board,
    seen: Vec<Option<Seen>>,
    mut admin: Vec<Duration>,
    admin_errors: Vec<String>,
    achieved_rate: f64,
) -> Outcome {
    let mut outcome = Outcome {
        latencies: Vec::new(),
        after_answer: Vec::new(),
        admin: Vec::new(),
        expected: 0,
        received: 0,
        lost: 0,
        duplicates: 0,
        out_of_order: 0,
        foreign: 0,
        closed_early: 0,
        connect_errors: seen.iter().filter(|s| s.is_none()).count(),
        admin_errors,
        achieved_rate,
    };
    for (i, s) in seen.into_iter().enumerate() {
        let want = board.expected[i].load(Ordering::Acquire) as u64;
        outcome.expected += want;
        let Some(s) = s else {
            outcome.lost += want;
            continue;
        };
        outcome.received += s.distinct as u64;
        outcome.lost += want.saturating_sub(s.distinct as u64);
        outcome.duplicates += s.duplicates as u64;
        outcome.out_of_order += s.out_of_order as u64;
        outcome.foreign += s.foreign as u64;
        outcome.closed_early += s.closed_early as usize;
        for (step, receipt) in s.receipts {
            let at = |times: &[AtomicU64]| match times[2 * i + step].load(Ordering::Acquire) {
                0 => None,
                nanos => Some(board.base + Duration::from_nanos(nanos - 1)),
            };
            if let Some(sent) = at(&board.sent) {
                outcome
                    .latencies
                    .push(receipt.saturating_duration_since(sent));
            }
            if let Some(answered) = at(&board.answered) {
                let ms = match receipt >= answered {
                    true => (receipt - answered).as_secs_f64(),
                    false => -(answered - receipt).as_secs_f64(),
                };
                outcome.after_answer.push(ms * 1000.0);
            }
        }
    }
    outcome.latencies.sort();
    outcome.after_answer.sort_by(f64::total_cmp);
    admin.sort();
    outcome.admin = admin;
    outcome
}

/// One shopper's socket on A: connects, reports it, then records every event until stopped.
/// `None` when it could not connect.
async fn socket(
    url: String,
    order: u64,
    mut stop: tokio::sync::watch::Receiver<bool>,
    connected: Arc<tokio::sync::Semaphore>,
) -> Option<Seen> {
    let outcome = tokio_tungstenite::connect_async(url).await;
    connected.add_permits(1);
    let (mut stream, _) = outcome.ok()?;
    let mut seen = Seen::default();
    let mut ids: Vec<u64> = Vec::new();
    let mut steps_seen = [false; 2];
    loop {
        let message = tokio::select! {
            m = stream.next() => m,
            _ = stop.changed() => break,
        };
        let received = Instant::now();
        match message {
            Some(Ok(Message::Text(text))) => {
                let event: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                let step = STEPS.iter().position(|s| event["status"] == *s);
                let (Some(step), Some(id)) = (step, event["id"].as_u64()) else {
                    seen.foreign += 1;
                    continue;
                };
                if event["type"] != "order.status" || event["order_id"].as_u64() != Some(order) {
                    seen.foreign += 1;
                    continue;
                }
                if ids.contains(&id) || steps_seen[step] {
                    seen.duplicates += 1;
                    continue;
                }
                // In order: ids increase, and shipped comes before delivered.
                if ids.last().is_some_and(|&last| id < last) || steps_seen[..step].contains(&false)
                {
                    seen.out_of_order += 1;
                }
                ids.push(id);
                steps_seen[step] = true;
                seen.distinct += 1;
                seen.receipts.push((step, received));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                seen.closed_early = true;
                break;
            }
        }
    }
    let _ = stream.close(None).await;
    Some(seen)
}

/// Nearest-rank percentile of sorted signed milliseconds.
fn signed(sorted: &[f64], p: f64) -> String {
    if sorted.is_empty() {
        return "-".into();
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    format!("{:.2} ms", sorted[rank.clamp(1, sorted.len()) - 1])
}

pub fn print(shoppers: usize, rate: u64, runs: &[(&str, &Outcome)]) {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|(name, o)| {
            let v = &o.latencies;
            vec![
                name.to_string(),
                format!("{:.0}", o.achieved_rate),
                v.len().to_string(),
                ms(percentile(v, 50.0)),
                ms(percentile(v, 90.0)),
                ms(percentile(v, 99.0)),
                ms(v.last().copied().unwrap_or_default()),
                signed(&o.after_answer, 50.0),
                signed(&o.after_answer, 99.0),
                ms(percentile(&o.admin, 50.0)),
                ms(percentile(&o.admin, 99.0)),
            ]
        })
        .collect();
    print_table(
        &format!(
            "(b) Live delivery, {shoppers} WebSockets on A, {rate} transitions/s asked \
             (latency: admin's send → event received on A; \"after the 200\": receipt − the \
             admin's 200 answer, negative when the event came first)"
        ),
        &[
            "admin",
            "transitions/s",
            "events",
            "p50",
            "p90",
            "p99",
            "max",
            "after the 200, p50",
            "after the 200, p99",
            "status POST p50",
            "status POST p99",
        ],
        &rows,
    );
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|(name, o)| {
            vec![
                name.to_string(),
                o.expected.to_string(),
                o.received.to_string(),
                o.lost.to_string(),
                o.duplicates.to_string(),
                o.out_of_order.to_string(),
                o.foreign.to_string(),
                format!("{} / {}", o.connect_errors, o.closed_early),
                format!(
                    "{} {:?}",
                    o.admin_errors.len(),
                    o.admin_errors.iter().take(2).collect::<Vec<_>>()
                ),
            ]
        })
        .collect();
    print_table(
        &format!(
            "(b) Events, counted {} s after the last acknowledged transition",
            SETTLE.as_secs()
        ),
        &[
            "admin",
            "expected (200s)",
            "received",
            "lost",
            "duplicates",
            "out of order",
            "foreign",
            "connect failed / closed early",
            "status errors",
        ],
        &rows,
    );
}
