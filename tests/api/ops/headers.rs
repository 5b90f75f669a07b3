//! Security headers on every kind of response, and request ids.
use crate::helpers::*;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::json;

fn assert_security_headers(what: &str, headers: &HeaderMap) {
    let get = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = get("content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP {csp:?} lacks {directive}"
        );
    }
    assert!(
        !csp.contains("unsafe-inline"),
        "{what}: CSP allows inline code: {csp}"
    );
    assert!(
        !csp.contains("unsafe-eval"),
        "{what}: CSP allows eval: {csp}"
    );
    assert!(
        !csp.contains("http:") && !csp.contains("https:"),
        "{what}: CSP names another origin: {csp}"
    );
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "same-origin", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    let id = get("x-request-id");
    assert!(
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{what}: request id {id:?}"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Tea").await;
    let product = app
        .create_product(&admin, "Green", "3.50", 5, category)
        .await;
    let cases: Vec<(&str, reqwest::Response, u16)> = vec![
        ("API list", app.get("/api/products/", None).await, 200),
        (
            "API detail",
            app.get(&format!("/api/products/{product}/"), None).await,
            200,
        ),
        ("API 401", app.get("/api/me/", None).await, 401),
        (
            "API 403",
            app.post(
                "/api/categories/",
                Some(&app.new_user().await.access),
                json!({"name": "x"}),
            )
            .await,
            403,
        ),
        ("API 404", app.get("/api/products/999999/", None).await, 404),
        (
            "API unknown path",
            app.get("/api/no-such-thing/", None).await,
            404,
        ),
        (
            "API 400",
            app.get("/api/products/?page=zero", None).await,
            400,
        ),
        (
            "API 415",
            app.client
                .post(app.url("/api/auth/token/"))
                .header("content-type", "text/plain")
                .body("hi")
                .send()
                .await
                .unwrap(),
            415,
        ),
        (
            "API 413",
            app.client
                .post(app.url("/api/auth/token/"))
                .header("content-type", "application/json")
                .body(vec![b' '; 1024 * 1024 + 1])
                .send()
                .await
                .unwrap(),
            413,
        ),
        (
            "URI too long",
            app.get(&format!("/api/products/?search={}", "s".repeat(5000)), None)
                .await,
            414,
        ),
        ("healthz", app.get("/healthz", None).await, 200),
        (
            "metrics, off the public port",
            app.get("/metrics", None).await,
            404,
        ),
        ("openapi", app.get("/api/openapi.json", None).await, 200),
        ("docs page", app.get("/api/docs/", None).await, 200),
        (
            "docs script",
            app.get("/api/docs/swagger-ui-bundle.js", None).await,
            200,
        ),
        (
            "docs asset 404",
            app.get("/api/docs/nothing.js", None).await,
            404,
        ),
        ("SSE refused", app.get("/api/events/", None).await, 401),
    ];
    for (what, response, status) in cases {
        assert_eq!(response.status(), status, "{what}");
        assert_security_headers(what, response.headers());
    }
    // Whatever the pages answer (a page, a redirect or a 404), the headers are there too.
    for path in ["/", "/login", "/no/such/page", "/admin/"] {
        let response = app.get(path, None).await;
        assert_security_headers(path, response.headers());
    }
    let head = app
        .request(Method::HEAD, "/api/products/", None, None)
        .await;
    assert_security_headers("HEAD", head.headers());
}

#[tokio::test]
async fn request_ids_are_fresh_per_request_and_a_sane_incoming_one_is_echoed() {
    let app = TestApp::spawn().await;
    let id_of = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let first = id_of(&app.get("/healthz", None).await);
    let second = id_of(&app.get("/healthz", None).await);
    assert_ne!(first, second, "every request gets its own id");
    assert_eq!(first.len(), 24);

    let with = |id: &str| {
        app.client
            .get(app.url("/api/products/"))
            .header("X-Request-Id", id)
            .send()
    };
    let echoed = with("trace-abc_123.4:5").await.unwrap();
    assert_eq!(id_of(&echoed), "trace-abc_123.4:5");
    // Errors too.
    let missing = app
        .client
        .get(app.url("/api/products/424242/"))
        .header("X-Request-Id", "lookup-7")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(id_of(&missing), "lookup-7");
    // Too long, or characters that could forge log lines: replaced by a fresh id.
    for bad in ["x".repeat(65), "a b".into(), "id;drop".into(), "".into()] {
        let response = with(&bad).await.unwrap();
        let id = id_of(&response);
        assert_ne!(id, bad);
        assert_eq!(id.len(), 24, "a fresh id replaces {bad:?}");
    }
}
