//! Who may read `/metrics`: nobody on the public port by default (404); a scraper with
//! `metrics_token` as a Bearer token; anyone on the private `metrics_addr` listener, which serves
//! nothing else.
use crate::helpers::*;
use orderstream::config::Secret;

async fn status(app: &TestApp, token: Option<&str>) -> u16 {
    app.get("/metrics", token).await.status().as_u16()
}

#[tokio::test]
async fn metrics_are_not_on_the_public_port_by_default() {
    let app = TestApp::spawn().await;
    assert_eq!(status(&app, None).await, 404);
    assert_eq!(status(&app, Some("anything")).await, 404);
    assert_eq!(app.metrics_port, None);
}

#[tokio::test]
async fn the_public_port_serves_metrics_only_with_the_metrics_token() {
    let app = TestApp::spawn_with(|s| s.metrics_token = Some(Secret::new("s3cret-scrape"))).await;
    assert_eq!(status(&app, None).await, 404);
    assert_eq!(status(&app, Some("wrong")).await, 404);
    assert_eq!(status(&app, Some("s3cret-scrape-")).await, 404);
    // A user's access token is no metrics token.
    let user = app.new_user().await;
    assert_eq!(status(&app, Some(&user.access)).await, 404);
    let scraped = app.get("/metrics", Some("s3cret-scrape")).await;
    assert_eq!(scraped.status(), 200);
    assert!(scraped
        .text()
        .await
        .unwrap()
        .contains("orderstream_live_connections"));
}

#[tokio::test]
async fn metrics_addr_is_a_second_listener_with_metrics_and_nothing_else() {
    let app = TestApp::spawn_with(|s| s.metrics_addr = Some("127.0.0.1:0".into())).await;
    let port = app.metrics_port.expect("a metrics listener");
    assert_ne!(port, app.port);
    app.get("/api/products/", None).await;
    assert_eq!(status(&app, None).await, 404, "not on the public port");

    let private = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let scraped = app.client.get(private("/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(
        text.contains("route=\"/api/products\""),
        "the public listener's requests are counted: {text}"
    );
    for path in ["/api/products/", "/healthz", "/"] {
        let other = app.client.get(private(path)).send().await.unwrap();
        assert_eq!(other.status(), 404, "{path} on the metrics listener");
    }
}
