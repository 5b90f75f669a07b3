//! How soon a catalog write on one instance is read on another: the product's price is changed
//! on B, and A (which holds the old answer in its caches) is polled until it shows the new one.
//! Every pair must be fresh within the catch-up bound; the distribution is printed on a line
//! starting `FRESHNESS`.
//!
//! Then A's list page is read once. It is normally fresh too, but not always at once: a cache
//! miss files its answer under the generation the instance knew *before* computing it, and the
//! data may already be newer (the instance has not learned the write yet). Two pages at one
//! generation can so hold data from different moments, and the list may be one write behind the
//! detail until the instance learns the next generation (seen once in about 20,000 pairs).
//! Such a list is polled on, counted (`lists_behind_detail`) and held to the same bound.
use super::*;

const PAIRS: usize = 1000;
/// Pause between two reads of A while it still shows the old value.
const POLL: Duration = Duration::from_millis(1);
/// Past this a pair is reported as failed rather than polled on.
const GIVE_UP: Duration = Duration::from_secs(5);
/// For all the pairs: each takes a few milliseconds when instances wake each other; woken by
/// the catch-up tick alone (LISTEN/NOTIFY broken) it would be half a tick on average, and the
/// test would run for minutes instead of failing.
const BUDGET: Duration = Duration::from_secs(45);

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn price_of(listed: &Value, product: u64) -> Option<Value> {
    listed["results"]
        .as_array()?
        .iter()
        .find(|p| p["id"] == product)
        .map(|p| p["price"].clone())
}

async fn writes_on_b_are_read_fresh_on_a(cache: &str, env: &[(&str, &str)]) {
    let deployment = Deployment::start(2, env).await;
    let (a, b) = (deployment.api(0), deployment.api(1));
    let admin = admin(b).await;
    let category = create_category(b, &admin, "Fresh").await;
    create_product(b, &admin, "Neighbour", "1.00", 5, category).await;
    let product = create_product(b, &admin, "Fresh", "9.99", 5, category).await;
    let detail = format!("/api/products/{product}/");
    let list = format!("/api/products/?category={category}");
    // A caches both answers before the first write (a shopper has been browsing).
    assert_eq!(read(a, &detail).await["price"], "9.99");
    assert_eq!(
        price_of(&read(a, &list).await, product),
        Some(json!("9.99"))
    );

    let mut fresh_after = Vec::with_capacity(PAIRS);
    let mut write_took = Vec::with_capacity(PAIRS);
    let mut late = Vec::new();
    let mut stale_first_reads = 0;
    let mut stale_lists = Vec::new();
    let started = Instant::now();
    let mut out_of_time = None;
    for i in 0..PAIRS {
        if started.elapsed() > BUDGET {
            out_of_time = Some(i);
            break;
        }
        let price = format!("{}.{:02}", 10 + i / 100, i % 100);
        let sent = Instant::now();
        b.expect(
            200,
            Method::PATCH,
            &detail,
            Some(&admin),
            Some(json!({ "price": price })),
        )
        .await;
        let answered = Instant::now();
        write_took.push(answered - sent);
        let mut reads = 0;
        let took = loop {
            let shown = read(a, &detail).await;
            reads += 1;
            if shown["price"] == price.as_str() {
                break answered.elapsed();
            }
            if answered.elapsed() > GIVE_UP {
                panic!(
                    "pair {i}: A still shows price {} {:?} after B answered {price}",
                    shown["price"],
                    answered.elapsed()
                );
            }
            tokio::time::sleep(POLL).await;
        };
        if reads > 1 {
            stale_first_reads += 1;
        }
        if took > CATCH_UP {
            late.push((i, took));
        }
        fresh_after.push(took);
        // Then A's list page (one read; polled on only if it is behind the detail page).
        let expected = Some(json!(price));
        let listed = price_of(&read(a, &list).await, product);
        if listed != expected {
            let behind_since = Instant::now();
            let caught_up = within(CATCH_UP, || {
                let (list, expected) = (&list, &expected);
                async move { price_of(&read(a, list).await, product) == *expected }
            })
            .await;
            stale_lists.push((i, listed, caught_up));
            if caught_up.is_none() {
                late.push((i, behind_since.elapsed() + took));
            }
        }
    }
    let elapsed = started.elapsed();
    let pairs = fresh_after.len();
    fresh_after.sort_unstable();
    write_took.sort_unstable();
    eprintln!(
        "FRESHNESS cache={cache} pairs={pairs} p50={:.2}ms p99={:.2}ms max={:.2}ms \
         stale_first_reads={stale_first_reads} lists_behind_detail={} \
         (write on B: p50={:.2}ms p99={:.2}ms; {pairs} pairs in {:.1}s)",
        millis(percentile(&fresh_after, 50.0)),
        millis(percentile(&fresh_after, 99.0)),
        millis(*fresh_after.last().unwrap()),
        stale_lists.len(),
        millis(percentile(&write_took, 50.0)),
        millis(percentile(&write_took, 99.0)),
        elapsed.as_secs_f64(),
    );
    assert_eq!(
        out_of_time, None,
        "only {pairs} of {PAIRS} writes on B were read fresh on A in {BUDGET:?}"
    );
    assert!(
        late.is_empty(),
        "{} of {PAIRS} writes were read fresh on A (detail, then list) only after {CATCH_UP:?}: \
         {late:?}",
        late.len()
    );
    if !stale_lists.is_empty() {
        // Rare: A's list page behind its detail page (see the module notes), fresh within the
        // bound all the same.
        eprintln!(
            "FRESHNESS cache={cache}: list behind detail at (pair, list showed, caught up \
             after) {stale_lists:?}"
        );
    }
}

#[tokio::test]
async fn writes_on_one_instance_are_read_fresh_on_another_within_the_catch_up_bound() {
    if skip_unless_postgres() {
        return;
    }
    writes_on_b_are_read_fresh_on_a("in-process", &[]).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn writes_on_one_instance_are_read_fresh_on_another_with_a_shared_redis() {
    if skip_unless_postgres() {
        return;
    }
    let Some(redis) = crate::redis::RedisServer::start() else {
        return;
    };
    let url = redis.url();
    writes_on_b_are_read_fresh_on_a("redis", &[("ORDERSTREAM_REDIS_URL", &url)]).await;
}
