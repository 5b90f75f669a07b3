//! `/metrics`: the metric names, and that each of them moves with what it counts. Scraped on the
//! public port with `metrics_token` (who may scrape is in `metrics_access.rs`).
use crate::helpers::*;
use futures_util::StreamExt;
use orderstream::config::{Secret, Settings};
use serde_json::json;
use std::time::Duration;

const FAMILIES: [(&str, &str); 8] = [
    ("orderstream_http_requests_total", "counter"),
    ("orderstream_http_request_duration_seconds", "histogram"),
    ("orderstream_http_requests_in_flight", "gauge"),
    ("orderstream_cache_hits_total", "counter"),
    ("orderstream_cache_misses_total", "counter"),
    ("orderstream_live_connections", "gauge"),
    ("orderstream_orders", "gauge"),
    ("orderstream_events_published_total", "counter"),
];

const METRICS_TOKEN: &str = "a-metrics-token-for-tests";

/// The app with `/metrics` open to `METRICS_TOKEN` on its public port.
async fn scrapable(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::spawn_with(|s| {
        s.metrics_token = Some(Secret::new(METRICS_TOKEN));
        adjust(s)
    })
    .await
}

/// Scrapes until `ready` holds of the text (at most 3 s), and returns the last text. On
/// PostgreSQL the hub counts events as its follower reads them from the log, a moment after
/// the request that wrote them was answered.
async fn scrape_when(app: &TestApp, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let text = scrape(app).await;
        if ready(&text) || std::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

/// The value of the sample `name` whose labels include all of `labels` (0 when absent).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric, label_text) = series.split_once('{').unwrap_or((series, ""));
            metric == name
                && labels
                    .iter()
                    .all(|(k, v)| label_text.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

#[tokio::test]
async fn every_metric_family_is_exposed_with_its_type() {
    let app = scrapable(|_| {}).await;
    app.get("/healthz", None).await;
    let text = scrape(&app).await;
    for (name, kind) in FAMILIES {
        let base = name.trim_end_matches("_total");
        let declared = format!(
            "# TYPE {} {kind}",
            if kind == "counter" { name } else { base }
        );
        assert!(text.contains(&declared), "missing {declared:?} in:\n{text}");
    }
    for status in ["pending", "shipped", "delivered", "cancelled"] {
        assert!(
            text.contains(&format!("orderstream_orders{{status=\"{status}\"}} 0")),
            "{text}"
        );
    }
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern_and_status_with_latency() {
    let app = scrapable(|_| {}).await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Tea").await;
    let product = app
        .create_product(&admin, "Green", "3.50", 5, category)
        .await;
    let route = [("method", "GET"), ("route", "/api/products/{id}")];
    let before = scrape(&app).await;
    // Each URL twice: the second answer comes from the URL cache in front of the router, and
    // must be counted all the same.
    for path in [
        format!("/api/products/{product}/"),
        format!("/api/products/{product}"),
    ] {
        assert_eq!(app.get(&path, None).await.status(), 200);
        assert_eq!(app.get(&path, None).await.status(), 200);
    }
    assert_eq!(app.get("/api/products/987654/", None).await.status(), 404);
    let after = scrape(&app).await;
    let count = |text: &str, status: &str| {
        let mut labels = route.to_vec();
        labels.push(("status", status));
        sample(text, "orderstream_http_requests_total", &labels)
    };
    assert_eq!(count(&after, "200") - count(&before, "200"), 4.0, "{after}");
    assert_eq!(count(&after, "404") - count(&before, "404"), 1.0, "{after}");
    // The pattern, never the raw path: a client cannot grow the label set.
    assert!(
        !after.contains(&format!("route=\"/api/products/{product}\"")),
        "{after}"
    );
    assert!(!after.contains("route=\"/api/products/987654\""), "{after}");
    let timed = |text: &str| {
        sample(
            text,
            "orderstream_http_request_duration_seconds_count",
            &route,
        )
    };
    assert_eq!(timed(&after) - timed(&before), 5.0);
    assert!(
        sample(
            &after,
            "orderstream_http_request_duration_seconds_sum",
            &route
        ) > 0.0
    );
    // Unknown paths share one label.
    app.get("/api/nothing/here/", None).await;
    let text = scrape(&app).await;
    assert!(
        sample(
            &text,
            "orderstream_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
    assert!(!text.contains("/api/nothing/here"), "{text}");
}

#[tokio::test]
async fn cache_hits_and_misses_move_with_cached_reads() {
    let app = scrapable(|_| {}).await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Tea").await;
    let product = app
        .create_product(&admin, "Green", "3.50", 5, category)
        .await;
    let path = format!("/api/products/{product}/");
    let before = scrape(&app).await;
    let first = app.get(&path, None).await;
    assert_eq!(first.headers()["x-cache"], "MISS");
    let second = app.get(&path, None).await;
    assert_eq!(second.headers()["x-cache"], "HIT");
    let after = scrape(&app).await;
    let moved = |name: &str| sample(&after, name, &[]) - sample(&before, name, &[]);
    assert_eq!(moved("orderstream_cache_misses_total"), 1.0, "{after}");
    assert_eq!(moved("orderstream_cache_hits_total"), 1.0, "{after}");
}

#[tokio::test]
async fn orders_by_status_and_events_published_follow_the_orders_and_survive_a_restart() {
    let app = scrapable(|_| {}).await;
    let admin = app.admin().await;
    let user = app.new_user().await;
    let category = app.create_category(&admin, "Tea").await;
    let product = app
        .create_product(&admin, "Green", "3.50", 50, category)
        .await;
    let orders =
        |text: &str, status: &str| sample(text, "orderstream_orders", &[("status", status)]);
    let events = |text: &str, kind: &str| {
        sample(
            text,
            "orderstream_events_published_total",
            &[("type", kind)],
        )
    };

    let mut placed = Vec::new();
    for _ in 0..3 {
        app.add_to_cart(&user, product, 1).await;
        let response = app
            .post("/api/orders/", Some(&user.access), json!({}))
            .await;
        assert_eq!(response.status(), 201);
        placed.push(
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_u64()
                .unwrap(),
        );
    }
    let text = scrape_when(&app, |t| events(t, "order.created") >= 3.0).await;
    assert_eq!(orders(&text, "pending"), 3.0, "{text}");
    assert_eq!(events(&text, "order.created"), 3.0, "{text}");
    assert_eq!(events(&text, "order.status"), 0.0, "{text}");

    let ship = |id: u64, status: &'static str| {
        let (app, token) = (&app, admin.access.clone());
        async move {
            let path = format!("/api/orders/{id}/status/");
            app.post(&path, Some(&token), json!({"status": status}))
                .await
        }
    };
    assert_eq!(ship(placed[0], "shipped").await.status(), 200);
    assert_eq!(ship(placed[0], "delivered").await.status(), 200);
    let cancel = app
        .post(
            &format!("/api/orders/{}/cancel/", placed[1]),
            Some(&user.access),
            json!({}),
        )
        .await;
    assert_eq!(cancel.status(), 200);
    // A refused transition changes nothing.
    assert_eq!(ship(placed[1], "shipped").await.status(), 409);
    let text = scrape_when(&app, |t| events(t, "order.status") >= 3.0).await;
    assert_eq!(orders(&text, "pending"), 1.0, "{text}");
    assert_eq!(orders(&text, "shipped"), 0.0, "{text}");
    assert_eq!(orders(&text, "delivered"), 1.0, "{text}");
    assert_eq!(orders(&text, "cancelled"), 1.0, "{text}");
    assert_eq!(events(&text, "order.status"), 3.0, "{text}");

    // After a restart the counts come from the store; events count from the new start.
    let app = app.restart().await;
    let text = scrape(&app).await;
    assert_eq!(orders(&text, "pending"), 1.0, "{text}");
    assert_eq!(orders(&text, "delivered"), 1.0, "{text}");
    assert_eq!(orders(&text, "cancelled"), 1.0, "{text}");
    assert_eq!(events(&text, "order.created"), 0.0, "{text}");
}

#[tokio::test]
async fn live_connections_gauge_counts_open_streams() {
    // A closed stream is noticed at the next write: keep-alives every second.
    let app = scrapable(|s| s.sse_keepalive_seconds = 1).await;
    let user = app.new_user().await;
    let live = |text: &str| sample(text, "orderstream_live_connections", &[]);
    assert_eq!(live(&scrape(&app).await), 0.0);

    let stream = app
        .client
        .get(app.url("/api/events/"))
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    // The first bytes arrive once the connection is registered.
    tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("the stream starts")
        .expect("a first chunk")
        .unwrap();
    assert_eq!(live(&scrape(&app).await), 1.0);
    let in_flight = sample(
        &scrape(&app).await,
        "orderstream_http_requests_in_flight",
        &[],
    );
    assert_eq!(in_flight, 1.0, "only the scrape itself is being handled");

    drop(body);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if live(&scrape(&app).await) == 0.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream is still counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
