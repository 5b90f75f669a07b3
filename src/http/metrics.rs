//! Prometheus metrics at `GET /metrics` (text format 0.0.4): HTTP requests by route pattern and
//! status, latency, requests in flight, cache hits and misses, live connections, orders by status
//! and events published. One registry per server, shared by its workers.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::actors::messages::HubStats;
use crate::services::Services;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    r#type: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    in_flight: Gauge,
    cache_hits: Counter,
    cache_misses: Counter,
    live_connections: Gauge,
    orders: Family<StatusLabels, Gauge>,
    events: Family<EventLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("orderstream");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let in_flight = Gauge::default();
        let cache_hits = Counter::default();
        let cache_misses = Counter::default();
        let live_connections = Gauge::default();
        let orders = Family::<StatusLabels, Gauge>::default();
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (until the response head), by method and route pattern",
            latency.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled now",
            in_flight.clone(),
        );
        registry.register(
            "cache_hits",
            "Reads answered from the cache",
            cache_hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Reads the cache could not answer",
            cache_misses.clone(),
        );
        registry.register(
            "live_connections",
            "Open WebSocket and Server-Sent Events connections",
            live_connections.clone(),
        );
        registry.register("orders", "Orders in each status", orders.clone());
        registry.register(
            "events_published",
            "Order events published to live connections since start, by type",
            events.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            cache_hits,
            cache_misses,
            live_connections,
            orders,
            events,
        }
    }

    /// Copies the values kept elsewhere (cache, hub) into the registry before encoding.
    fn mirror(&self, cache_hits: u64, cache_misses: u64, hub: &HubStats) {
        self.cache_hits.inner().store(cache_hits, Ordering::Relaxed);
        self.cache_misses
            .inner()
            .store(cache_misses, Ordering::Relaxed);
        self.live_connections.set(hub.connections as i64);
        for (status, count) in &hub.orders {
            let labels = StatusLabels {
                status: status.as_str(),
            };
            self.orders.get_or_create(&labels).set(*count as i64);
        }
        for (kind, count) in [
            ("order.created", hub.created_events),
            ("order.status", hub.status_events),
        ] {
            let labels = EventLabels { r#type: kind };
            self.events
                .get_or_create(&labels)
                .inner()
                .store(count, Ordering::Relaxed);
        }
    }

    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry).expect("writing to a String");
        text
    }
}

/// The request counter and latency histogram of one route's `GET … 200`, looked up once, for
/// the URL-cache fast path that answers without routing.
#[derive(Clone)]
pub struct RouteOk {
    requests: Counter,
    latency: Histogram,
}

impl RouteOk {
    pub fn record(&self, started: Instant) {
        self.latency.observe(started.elapsed().as_secs_f64());
        self.requests.inc();
    }
}

impl Metrics {
    pub fn route_ok(&self, route: &str) -> RouteOk {
        RouteOk {
            requests: self
                .requests
                .get_or_create(&RequestLabels {
                    method: "GET",
                    route: route.to_owned(),
                    status: 200,
                })
                .clone(),
            latency: self
                .latency
                .get_or_create(&RouteLabels {
                    method: "GET",
                    route: route.to_owned(),
                })
                .clone(),
        }
    }
}

/// Method as a label: the standard ones by name, anything else as `OTHER` (bounded cardinality).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or("OTHER")
}

/// Decrements the in-flight gauge however the request ends (also when the client goes away).
struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Middleware: counts and times every request under its route pattern (`/api/products/{id}`),
/// never the raw path, so a client cannot grow the label set.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(metrics) = req.app_data::<web::Data<Metrics>>().cloned() else {
        return next.call(req).await;
    };
    let method = method_label(req.method());
    metrics.in_flight.inc();
    let _in_flight = InFlight(metrics.in_flight.clone());
    let started = Instant::now();
    let result = next.call(req).await;
    let (route, status) = match &result {
        Ok(res) => (
            res.request().match_pattern(),
            res.response().status().as_u16(),
        ),
        Err(e) => (None, e.as_response_error().status_code().as_u16()),
    };
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method,
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
    result
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4",
         body = String, content_type = "text/plain"),
        // On the public listener without `Authorization: Bearer <metrics_token>`.
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    )
)]
pub async fn metrics(metrics: web::Data<Metrics>, services: web::Data<Services>) -> HttpResponse {
    let hub = services.notifications.hub_stats().await;
    let (hits, misses) = services.catalog.cache_counts();
    metrics.mirror(hits, misses, &hub);
    HttpResponse::Ok()
        .content_type(prometheus_text::CONTENT_TYPE)
        .body(metrics.encode())
}
