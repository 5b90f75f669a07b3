//! Bounds on what a client can send: URI and head sizes, page sizes, search strings, cart lines,
//! hostile JSON. Each is a clear 4xx, and the server keeps serving.
use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    body
}

#[tokio::test]
async fn long_paths_and_query_strings_are_refused_with_414() {
    let app = TestApp::spawn().await;
    let path = |len: usize| format!("/api/{}", "a".repeat(len - "/api/".len()));
    assert_eq!(
        app.get(&path(2048), None).await.status(),
        404,
        "at the limit: routed as usual"
    );
    let body = assert_problem(app.get(&path(2049), None).await, 414).await;
    assert_eq!(body["title"], "URI too long");
    // Query: at most 4096 bytes (unknown parameters are ignored, as DRF does).
    let query = |len: usize| format!("/api/products/?x={}", "q".repeat(len - 2));
    assert_eq!(app.get(&query(4096), None).await.status(), 200);
    assert_problem(app.get(&query(4097), None).await, 414).await;
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}

#[tokio::test]
async fn an_oversized_request_head_is_refused_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let huge = "h".repeat(200 * 1024);
    let outcome = app
        .client
        .get(app.url("/api/products/"))
        .header("X-Padding", huge)
        .send()
        .await;
    // actix answers 431 and closes; the client may see the answer or only the closed socket.
    if let Ok(response) = outcome {
        assert_eq!(response.status(), 431);
    }
    let many = (0..120).fold(app.client.get(app.url("/api/products/")), |r, i| {
        r.header(format!("x-h{i}"), "v")
    });
    if let Ok(response) = many.send().await {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    assert_eq!(app.get("/api/products/", None).await.status(), 200);
}

#[tokio::test]
async fn page_size_page_number_and_search_are_bounded() {
    let app = TestApp::spawn().await;
    for (query, status) in [
        ("page_size=100", 200),
        ("page_size=101", 400),
        ("page_size=0", 400),
        ("page=10000001", 400),
        ("page=99999999999999999999999", 400),
        ("page_size=-1", 400),
    ] {
        let response = app.get(&format!("/api/products/?{query}"), None).await;
        assert_eq!(response.status(), status, "{query}");
    }
    let search = |n: usize| format!("/api/products/?search={}", "é".repeat(n));
    assert_eq!(
        app.get(&search(100), None).await.status(),
        200,
        "100 characters, 200 bytes"
    );
    let body = assert_problem(app.get(&search(101), None).await, 400).await;
    assert!(body["errors"]["search"].is_array(), "{body}");
    let user = app.new_user().await;
    for list in ["/api/orders/", "/api/notifications/"] {
        let response = app
            .get(&format!("{list}?page_size=101"), Some(&user.access))
            .await;
        assert_eq!(response.status(), 400, "{list}");
    }
}

#[tokio::test]
async fn a_cart_holds_at_most_100_lines() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user = app.new_user().await;
    let category = app.create_category(&admin, "Bulk").await;
    let mut products = Vec::new();
    for i in 0..101 {
        products.push(
            app.create_product(&admin, &format!("Item {i}"), "1.00", 5, category)
                .await,
        );
    }
    for product in &products[..100] {
        app.add_to_cart(&user, *product, 1).await;
    }
    let refused = app
        .post(
            "/api/cart/items/",
            Some(&user.access),
            json!({"product_id": products[100], "quantity": 1}),
        )
        .await;
    let body = assert_problem(refused, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("100"), "{body}");
    let cart: Value = app
        .get("/api/cart/", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cart["items"].as_array().unwrap().len(), 100);
    // Adding to an existing line is still fine.
    let more = app
        .post(
            "/api/cart/items/",
            Some(&user.access),
            json!({"product_id": products[0], "quantity": 1}),
        )
        .await;
    assert_eq!(more.status(), 201);
}

#[tokio::test]
async fn hostile_json_is_a_400_and_never_takes_a_worker_down() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let send = |raw: String| {
        app.client
            .post(app.url("/api/cart/items/"))
            .bearer_auth(&user.access)
            .header("content-type", "application/json")
            .body(raw)
            .send()
    };
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases = [
        deep,
        format!("{{\"product_id\": {}, \"quantity\": 1}}", "9".repeat(400)),
        r#"{"product_id": 1e400, "quantity": 1}"#.into(),
        r#"{"product_id": 1.5, "quantity": 1}"#.into(),
        r#"{"product_id": "1", "quantity": 1}"#.into(),
        r#"{"product_id": 1, "quantity": 1, "quantity": 2}"#.into(),
        r#"{"product_id": 1, "quantity": 1} trailing"#.into(),
        // serde would read an array as the fields in order: `[product_id, quantity]`.
        "[1, 1]".into(),
        "\u{feff}{}".into(),
        "{\"product_id\": \"\u{0}\"}".into(),
        "".into(),
    ];
    for raw in cases {
        let shown: String = raw.chars().take(60).collect();
        let response = send(raw).await.unwrap();
        assert_eq!(response.status(), 400, "{shown}");
    }
    // Every worker still answers.
    for _ in 0..4 {
        assert_eq!(app.get("/healthz", None).await.status(), 200);
    }
}

#[tokio::test]
async fn a_known_path_with_a_wrong_method_is_405_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        (Method::DELETE, "/api/products/", "GET, POST"),
        (Method::POST, "/api/products/1/", "GET, PUT, PATCH, DELETE"),
        (Method::GET, "/api/auth/token/", "POST"),
        (Method::PUT, "/api/orders/1/cancel", "POST"),
    ] {
        let response = app.request(method.clone(), path, None, None).await;
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body = assert_problem(response, 405).await;
        assert!(
            body["detail"].as_str().unwrap().contains(method.as_str()),
            "{body}"
        );
    }
    // An unknown path stays 404, whatever the method.
    let unknown = app
        .request(Method::DELETE, "/api/no/such/", None, None)
        .await;
    assert_problem(unknown, 404).await;
}
