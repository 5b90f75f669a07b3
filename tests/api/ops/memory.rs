//! Memory that requests leave behind, measured as the real binary's RSS with the DEFAULT argon2
//! settings (19 MiB per hash): a password check must not keep any of its memory block.
use crate::binary::{start_with, Server};
use futures_util::{stream, StreamExt};
use serde_json::json;
use std::time::Duration;

const CONCURRENCY: usize = 8;
/// What the issue allows: the two hashing buffers plus allocator slack, never per-login growth.
const ALLOWED_GROWTH_KIB: u64 = 64 * 1024;

async fn default_argon2_server(dir: &std::path::Path) -> Server {
    let defaults = orderstream::config::Settings::default();
    let (memory, iterations) = (
        defaults.argon2_memory_kib.to_string(),
        defaults.argon2_iterations.to_string(),
    );
    start_with(
        dir,
        0,
        &[
            ("ORDERSTREAM_ARGON2_MEMORY_KIB", &memory),
            ("ORDERSTREAM_ARGON2_ITERATIONS", &iterations),
            ("ORDERSTREAM_REGISTRATIONS_PER_IP_PER_HOUR", "100000"),
            ("ORDERSTREAM_LOGIN_FAILURES_PER_EMAIL_PER_HOUR", "100000"),
        ],
    )
    .await
}

async fn login(server: &Server, email: &str, password: &str) -> u16 {
    let body = json!({"email": email, "password": password});
    let response = server
        .api
        .send(reqwest::Method::POST, "/api/auth/token/", None, Some(body))
        .await
        .expect("login sent");
    response.status().as_u16()
}

/// The highest RSS over the next half second: work still queued would show as growth here.
async fn settled_rss_kib(server: &Server) -> u64 {
    let mut most = 0;
    for _ in 0..5 {
        most = most.max(server.rss_kib());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    most
}

#[tokio::test]
async fn password_checks_leave_no_memory_behind() {
    let dir = tempfile::tempdir().unwrap();
    let server = default_argon2_server(dir.path()).await;
    let (email, password) = ("memory@example.com", "correct horse battery");
    let body = json!({"email": email, "password": password});
    server
        .api
        .post(201, "/api/auth/register/", None, Some(body))
        .await;
    for _ in 0..10 {
        assert_eq!(login(&server, email, password).await, 200);
    }
    let baseline = settled_rss_kib(&server).await;

    // 300 logins (40 of them failing) and 100 registrations, 8 at a time.
    let statuses: Vec<u16> = stream::iter(0..400)
        .map(|i| {
            let server = &server;
            async move {
                if i % 4 == 3 {
                    let body =
                        json!({"email": format!("new{i}@example.com"), "password": password});
                    let response = server
                        .api
                        .send(
                            reqwest::Method::POST,
                            "/api/auth/register/",
                            None,
                            Some(body),
                        )
                        .await
                        .expect("register sent");
                    response.status().as_u16()
                } else if i % 10 == 0 {
                    // Unknown emails: the decoy check costs the same hash, and spreading the
                    // failures keeps the per-email slowdown (finding 5 of #14) out of the way.
                    login(server, &format!("nobody{i}@example.com"), password).await
                } else {
                    login(server, email, password).await
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(count(201), 100, "registrations: {statuses:?}");
    assert_eq!(count(401), 40, "failed logins: {statuses:?}");
    assert_eq!(count(200), 260, "logins: {statuses:?}");

    let after = settled_rss_kib(&server).await;
    println!(
        "RSS after 10 logins: {} MiB; after 400 more password checks: {} MiB",
        baseline / 1024,
        after / 1024
    );
    assert!(
        after <= baseline + ALLOWED_GROWTH_KIB,
        "RSS grew from {baseline} KiB to {after} KiB over 400 password checks"
    );
}
