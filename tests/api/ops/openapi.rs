//! `/api/openapi.json` describes every endpoint of API.md; `/api/docs/` renders it offline.
use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Every endpoint of API.md (besides the HTML pages), path as written there → methods.
const API_MD: [(&str, &[&str]); 34] = [
    ("/api/auth/register/", &["post"]),
    ("/api/auth/token/", &["post"]),
    ("/api/auth/token/refresh/", &["post"]),
    ("/api/auth/logout/", &["post"]),
    ("/api/me/", &["get", "patch"]),
    ("/api/me/password/", &["post"]),
    ("/api/categories/", &["get", "post"]),
    ("/api/categories/{id}/", &["get", "put", "patch", "delete"]),
    ("/api/products/", &["get", "post"]),
    ("/api/products/{id}/", &["get", "put", "patch", "delete"]),
    ("/api/products/{id}/stock/", &["post"]),
    ("/api/cart/", &["get", "delete"]),
    ("/api/cart/items/", &["post"]),
    ("/api/cart/items/{product_id}/", &["patch", "delete"]),
    ("/api/orders/", &["get", "post"]),
    ("/api/orders/{id}/", &["get"]),
    ("/api/orders/{id}/status/", &["post"]),
    ("/api/orders/{id}/cancel/", &["post"]),
    ("/api/notifications/", &["get"]),
    ("/api/notifications/{id}/read/", &["post"]),
    ("/api/notifications/read-all/", &["post"]),
    ("/api/webhooks/", &["get", "post"]),
    ("/api/webhooks/{id}/", &["get", "patch", "delete"]),
    ("/api/webhooks/{id}/rotate-secret/", &["post"]),
    ("/api/webhooks/{id}/test/", &["post"]),
    ("/api/webhooks/{id}/deliveries/", &["get"]),
    (
        "/api/webhooks/{id}/deliveries/{delivery_id}/retry/",
        &["post"],
    ),
    ("/ws/", &["get"]),
    ("/api/events/", &["get"]),
    ("/healthz", &["get"]),
    ("/metrics", &["get"]),
    ("/api/openapi.json", &["get"]),
    ("/api/docs/", &["get"]),
    ("/api/admin/backup/", &["post"]),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    response.json().await.unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((path.clone(), method.to_owned(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn openapi_lists_every_path_and_method_of_api_md_and_nothing_else() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let expected: BTreeMap<&str, BTreeSet<&str>> = API_MD
        .iter()
        .map(|(path, methods)| (*path, methods.iter().copied().collect()))
        .collect();
    let documented: BTreeMap<&str, BTreeSet<&str>> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .into_iter()
                .filter(|m| item.get(*m).is_some())
                .collect();
            (path.as_str(), methods)
        })
        .collect();
    assert_eq!(documented, expected);
}

#[tokio::test]
async fn every_operation_has_an_id_responses_schemas_and_the_right_security() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .contains(&json!(field)),
            "{problem}"
        );
    }
    let public = [
        ("/api/auth/register/", "post"),
        ("/api/auth/token/", "post"),
        ("/api/auth/token/refresh/", "post"),
        ("/api/categories/", "get"),
        ("/api/categories/{id}/", "get"),
        ("/api/products/", "get"),
        ("/api/products/{id}/", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/api/openapi.json", "get"),
        ("/api/docs/", "get"),
    ];
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let name = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no operationId"));
        assert!(
            ids.insert(id.to_owned()),
            "{name}: duplicate operationId {id}"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2') || s == "101"),
            "{name}: no success response"
        );
        assert!(
            responses.contains_key("414"),
            "{name}: the URI limit applies everywhere"
        );
        let security = op
            .get("security")
            .and_then(|s| s.as_array())
            .cloned()
            .unwrap_or_default();
        let needs_token = !security.is_empty() && !security.contains(&json!({}));
        if public.contains(&(path.as_str(), method.as_str())) {
            assert!(!needs_token, "{name} is public but requires a token");
        } else if path.starts_with("/api/") && path != "/api/auth/logout/" && path != "/api/events/"
        {
            assert!(needs_token, "{name} does not declare the bearer scheme");
            assert!(responses.contains_key("401"), "{name}: 401 not documented");
        }
        for (status, response) in responses {
            if status.starts_with('4') {
                let reference = response["$ref"].as_str().unwrap_or_default();
                let name_of = reference.rsplit('/').next().unwrap();
                let content = &doc["components"]["responses"][name_of]["content"];
                assert!(
                    content["application/problem+json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("/Problem")),
                    "{name} {status}: not a problem document"
                );
            }
        }
        if path.contains('{') {
            for param in op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
            {
                assert_eq!(
                    param["schema"]["type"], "integer",
                    "{name}: ids are integers"
                );
                assert_eq!(param["schema"]["minimum"], 1, "{name}: ids are positive");
            }
        }
    }
    // Money is a decimal string; lists are DRF pages.
    let product = &doc["components"]["schemas"]["ProductJson"]["properties"];
    assert_eq!(product["price"]["type"], "string");
    let page = &doc["components"]["schemas"]["Page_ProductJson"];
    for field in ["count", "next", "previous", "results"] {
        assert!(page["properties"].get(field).is_some(), "{page}");
    }
}

/// Calls every documented operation once (ids = 1, an admin's token) and checks that it is routed
/// and answers with a status the document lists for it: the paths are real, not just written down.
#[tokio::test]
async fn every_documented_operation_is_routed_and_answers_a_documented_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Tea").await;
    app.create_product(&admin, "Green", "3.50", 5, category)
        .await;
    let doc = document(&app).await;
    let mut ops = operations(&doc);
    // Logout revokes the token the others use: last.
    ops.sort_by_key(|(path, _, _)| path == "/api/auth/logout/");
    for (path, method, op) in ops {
        let url = path.replace("{id}", "1").replace("{product_id}", "1");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = op.get("requestBody").map(|_| json!({}));
        let response = app
            .request(method.clone(), &url, Some(&admin.access), body)
            .await;
        let status = response.status().as_u16().to_string();
        let documented = op["responses"].as_object().unwrap();
        assert!(
            documented.contains_key(&status),
            "{method} {url} answered {status}, not among {:?}",
            documented.keys().collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn docs_page_is_served_by_the_binary_with_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;
    for path in ["/api/docs/", "/api/docs"] {
        let page = app.get(path, None).await;
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"),
            "{html}"
        );
        assert!(
            !html.contains("<script>") && !html.contains("style="),
            "no inline code: {html}"
        );
        for asset in [
            "/api/docs/swagger-ui.css",
            "/api/docs/swagger-ui-bundle.js",
            "/api/docs/init.js",
        ] {
            assert!(
                html.contains(&format!("\"{asset}\"")),
                "{asset} not referenced"
            );
        }
    }
    for (asset, kind, min_len) in [
        ("/api/docs/swagger-ui-bundle.js", "text/javascript", 500_000),
        ("/api/docs/swagger-ui.css", "text/css", 50_000),
        ("/api/docs/init.js", "text/javascript", 100),
    ] {
        let response = app.get(asset, None).await;
        assert_eq!(response.status(), 200, "{asset}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{asset}"
        );
        let body = response.text().await.unwrap();
        assert!(body.len() >= min_len, "{asset} is {} bytes", body.len());
        if asset.ends_with("init.js") {
            assert!(body.contains("\"/api/openapi.json\""), "{body}");
        }
    }
    // Only the vendored files: nothing else of the binary's directory or sources.
    for other in [
        "/api/docs/secret.txt",
        "/api/docs/%2e%2e%2fCargo.toml",
        "/api/docs/README.md",
    ] {
        assert_eq!(app.get(other, None).await.status(), 404, "{other}");
    }
}
