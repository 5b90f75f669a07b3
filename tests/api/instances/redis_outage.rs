//! Redis (the shared cache) stops in the middle of a run: every instance keeps serving, from the
//! database, with live events unaffected (they never went through Redis) and `/healthz` saying
//! `degraded`; when Redis is back on the same address the instances use it again by themselves.
use super::*;
use crate::live::{status, summary};
use crate::redis::RedisServer;
use std::io::{BufRead, BufReader, Write};

/// Redis's own count of keys (`DBSIZE`), over a plain TCP connection; None when unreachable.
fn redis_keys(port: u16) -> Option<u64> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.trim().strip_prefix(':')?.parse().ok()
}

/// Waits (up to 5 s) until every running instance's /healthz says `status`; the last bodies.
async fn all_healthz(deployment: &Deployment, status: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    for (i, api) in deployment.running() {
        let became = within(Duration::from_secs(5), || async move {
            let (code, body) = health(api).await;
            code == 200 && body["status"] == status
        })
        .await;
        let (code, body) = health(api).await;
        assert!(
            became.is_some(),
            "instance {i}: /healthz never said {status:?} (now {code} {body})"
        );
        bodies.push(body);
    }
    bodies
}

#[tokio::test]
async fn redis_stopping_degrades_only_the_cache_and_its_return_is_picked_up_without_a_restart() {
    if skip_unless_postgres() {
        return;
    }
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let deployment = Deployment::start(2, &[("ORDERSTREAM_REDIS_URL", &url)]).await;
    let (a, b) = (deployment.api(0), deployment.api(1));
    let admin = admin(a).await;
    let category = create_category(a, &admin, "Bags").await;
    let product = create_product(a, &admin, "Tote", "12.00", 50, category).await;
    let shopper = new_user(a, "bagger").await;
    let placed = order(a, &shopper.access, product).await;
    let detail = &format!("/api/products/{product}/");
    let list = &format!("/api/products/?category={category}");
    for (_, api) in deployment.running() {
        assert_eq!(read(api, detail).await["price"], "12.00");
        read(api, list).await;
    }
    all_healthz(&deployment, "ok").await;
    assert!(
        redis_keys(redis.port()).is_some_and(|n| n > 0),
        "the instances cache in Redis"
    );

    redis.kill();
    for body in all_healthz(&deployment, "degraded").await {
        assert_eq!(body["cache"], "unreachable", "{body}");
    }

    // Live delivery does not go through Redis: a change on B reaches a WebSocket on A.
    let mut ws = deployment.ws(0, &shopper.access, None).await;
    let response = set_status(b, &admin, placed, "shipped").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        summary(&ws.next_events(1).await),
        vec![status(placed, "shipped")]
    );

    // Catalog reads answer from the database, and a write on B is read fresh on A.
    for (_, api) in deployment.running() {
        assert_eq!(read(api, detail).await["stock"], 49);
        assert_eq!(read(api, list).await["count"], 1);
        assert_eq!(read(api, "/api/categories/").await["count"], 1);
    }
    b.expect(
        200,
        Method::PATCH,
        detail,
        Some(&admin),
        Some(json!({"price": "13.00"})),
    )
    .await;
    let fresh = within(CATCH_UP, || async move {
        read(a, detail).await["price"] == "13.00"
    })
    .await;
    assert!(
        fresh.is_some(),
        "a write on B during the outage is read on A"
    );
    assert_eq!(read(a, list).await["results"][0]["price"], "13.00");

    // Redis is back, empty, on the same port: the instances find it without a restart.
    redis.restart();
    for body in all_healthz(&deployment, "ok").await {
        assert_ne!(body["cache"], "unreachable", "{body}");
    }
    b.expect(
        200,
        Method::PATCH,
        detail,
        Some(&admin),
        Some(json!({"price": "14.00"})),
    )
    .await;
    let fresh = within(CATCH_UP, || async move {
        read(a, detail).await["price"] == "14.00"
    })
    .await;
    assert!(
        fresh.is_some(),
        "a write on B after Redis came back is read on A"
    );
    a.expect(
        200,
        Method::PATCH,
        detail,
        Some(&admin),
        Some(json!({"price": "15.00"})),
    )
    .await;
    let fresh = within(CATCH_UP, || async move {
        read(b, detail).await["price"] == "15.00"
    })
    .await;
    assert!(
        fresh.is_some(),
        "a write on A after Redis came back is read on B"
    );
    read(b, list).await;
    assert!(
        redis_keys(redis.port()).is_some_and(|n| n > 0),
        "the instances cache in Redis again"
    );
    // And live delivery still works.
    let response = set_status(b, &admin, placed, "delivered").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        summary(&ws.next_events(1).await),
        vec![status(placed, "delivered")]
    );
}
