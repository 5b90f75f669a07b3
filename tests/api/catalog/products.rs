//! Products: CRUD, validation of every field, who may write, and stock changes.
use super::{field_error, ok_json, problem, product_body};
use crate::helpers::*;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn parse_time(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().expect("time string"), &Rfc3339).expect("RFC 3339")
}

#[tokio::test]
async fn products_crud_with_the_documented_shape() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let mugs = app.create_category(&admin, "Mugs").await;
    let cups = app.create_category(&admin, "Cups").await;

    let response = app
        .post(
            "/api/products/",
            token,
            product_body("Blue mug", "19.99", 5, mugs),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_u64().expect("id");
    let mut keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "category",
            "created_at",
            "description",
            "id",
            "in_stock",
            "name",
            "price",
            "stock",
            "updated_at"
        ]
    );
    assert_eq!(created["name"], "Blue mug");
    assert_eq!(created["description"], "about Blue mug");
    assert_eq!(created["price"], "19.99");
    assert_eq!(
        (created["stock"].as_u64(), created["in_stock"].as_bool()),
        (Some(5), Some(true))
    );
    assert_eq!(created["category"], json!({"id": mugs, "name": "Mugs"}));
    assert_eq!(
        parse_time(&created["created_at"]),
        parse_time(&created["updated_at"])
    );
    let path = format!("/api/products/{id}/");
    assert_eq!(ok_json(&app, &path).await, created);
    assert_eq!(
        ok_json(&app, &format!("/api/products/{id}")).await,
        created,
        "no trailing slash"
    );

    // PUT needs every required field.
    let mut partial = product_body("Red cup", "3.5", 0, cups);
    partial.as_object_mut().unwrap().remove("price");
    partial.as_object_mut().unwrap().remove("stock");
    let body = field_error(app.put(&path, token, partial).await, "price").await;
    assert!(
        body["errors"]["stock"].is_array(),
        "stock named too: {body}"
    );
    let response = app
        .put(&path, token, product_body("Red cup", "3.5", 0, cups))
        .await;
    assert_eq!(response.status(), 200);
    let put: Value = response.json().await.unwrap();
    assert_eq!(
        (put["name"].as_str(), put["price"].as_str()),
        (Some("Red cup"), Some("3.50"))
    );
    assert_eq!(
        (put["stock"].as_u64(), put["in_stock"].as_bool()),
        (Some(0), Some(false))
    );
    assert_eq!(put["category"], json!({"id": cups, "name": "Cups"}));
    assert_eq!(put["created_at"], created["created_at"]);
    assert!(parse_time(&put["updated_at"]) >= parse_time(&created["updated_at"]));

    // PATCH changes only what it names.
    let response = app.patch(&path, token, json!({"price": 4})).await;
    assert_eq!(response.status(), 200);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(patched["price"], "4.00");
    assert_eq!(
        (patched["name"].as_str(), patched["category"]["id"].as_u64()),
        (Some("Red cup"), Some(cups))
    );
    assert_eq!(ok_json(&app, &path).await, patched);

    assert_eq!(app.delete(&path, token).await.status(), 204);
    problem(app.get(&path, None).await, 404).await;
    problem(app.delete(&path, token).await, 404).await;
    assert_eq!(ok_json(&app, "/api/products/").await["count"], 0);
    assert_eq!(
        ok_json(&app, &format!("/api/categories/{cups}/")).await["product_count"],
        0
    );
}

#[tokio::test]
async fn prices_are_exact_decimals_with_two_places() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let cat = app.create_category(&admin, "Prices").await;
    let body = |price: Value| json!({"name": "P", "description": "", "price": price, "stock": 1, "category_id": cat});
    for (given, shown) in [
        (json!("19.99"), "19.99"),
        (json!(19.99), "19.99"),
        (json!("5"), "5.00"),
        (json!(5), "5.00"),
        (json!("0.1"), "0.10"),
        (json!(0.1), "0.10"),
        (json!("0"), "0.00"),
        (json!("1234567.89"), "1234567.89"),
    ] {
        let response = app.post("/api/products/", token, body(given.clone())).await;
        assert_eq!(response.status(), 201, "price {given}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["price"],
            shown,
            "price {given}"
        );
    }
    for bad in [
        json!("1.234"),
        json!(1.234),
        json!("-1"),
        json!(-1),
        json!("abc"),
        json!(""),
        json!("1e3"),
        json!(null),
        json!(true),
    ] {
        field_error(app.post("/api/products/", token, body(bad)).await, "price").await;
    }
    assert_eq!(
        ok_json(&app, "/api/products/").await["count"],
        8,
        "refused products were not created"
    );
}

#[tokio::test]
async fn product_fields_are_validated_and_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let cat = app.create_category(&admin, "Valid").await;
    let with = |field: &str, value: Value| {
        let mut body = product_body("Thing", "1.00", 1, cat);
        body[field] = value;
        body
    };
    let cases = [
        ("stock", json!(-1)),
        ("stock", json!(1.5)),
        ("stock", json!("3")),
        ("stock", json!(1_000_000_001u64)),
        ("category_id", json!(999)),
        ("category_id", json!(0)),
        ("category_id", json!(-3)),
        ("category_id", json!("1")),
        ("name", json!("")),
        ("name", json!("   ")),
        ("name", json!("n".repeat(201))),
        ("description", json!("d".repeat(5001))),
        ("colour", json!("red")),
    ];
    for (field, value) in cases {
        field_error(
            app.post("/api/products/", token, with(field, value.clone()))
                .await,
            field,
        )
        .await;
    }
    for field in ["name", "price", "stock", "category_id"] {
        let mut body = product_body("Thing", "1.00", 1, cat);
        body.as_object_mut().unwrap().remove(field);
        field_error(app.post("/api/products/", token, body).await, field).await;
    }
    assert_eq!(
        ok_json(&app, "/api/products/").await["count"],
        0,
        "nothing was created"
    );

    let id = app.create_product(&admin, "Thing", "1.00", 1, cat).await;
    let path = format!("/api/products/{id}/");
    let before = ok_json(&app, &path).await;
    field_error(
        app.patch(&path, token, json!({"category_id": 999})).await,
        "category_id",
    )
    .await;
    field_error(app.patch(&path, token, json!({"stock": -5})).await, "stock").await;
    field_error(
        app.patch(&path, token, json!({"price": "2.50", "stock": -5}))
            .await,
        "stock",
    )
    .await;
    field_error(
        app.patch(&path, token, json!({"price": "2.555"})).await,
        "price",
    )
    .await;
    assert_eq!(
        ok_json(&app, &path).await,
        before,
        "refused updates changed nothing"
    );
}

#[tokio::test]
async fn only_admins_write_products_and_unknown_ids_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let shopper = app.new_user().await;
    let cat = app.create_category(&admin, "Locked").await;
    let id = app.create_product(&admin, "Safe", "9.00", 2, cat).await;
    let path = format!("/api/products/{id}/");
    let stock = format!("/api/products/{id}/stock/");
    let body = product_body("Stolen", "0.01", 0, cat);
    for token in [None, Some(shopper.access.as_str())] {
        let status = if token.is_some() { 403 } else { 401 };
        problem(
            app.post("/api/products/", token, body.clone()).await,
            status,
        )
        .await;
        problem(app.put(&path, token, body.clone()).await, status).await;
        problem(
            app.patch(&path, token, json!({"price": "0.01"})).await,
            status,
        )
        .await;
        problem(app.delete(&path, token).await, status).await;
        problem(app.post(&stock, token, json!({"set": 0})).await, status).await;
    }
    let safe = ok_json(&app, &path).await;
    assert_eq!(
        (
            safe["name"].as_str(),
            safe["price"].as_str(),
            safe["stock"].as_u64()
        ),
        (Some("Safe"), Some("9.00"), Some(2))
    );

    let token = Some(admin.access.as_str());
    for missing in [
        "/api/products/999/",
        "/api/products/0/",
        "/api/products/abc/",
    ] {
        problem(app.get(missing, None).await, 404).await;
        problem(app.put(missing, token, body.clone()).await, 404).await;
        problem(app.patch(missing, token, json!({"stock": 1})).await, 404).await;
        problem(app.delete(missing, token).await, 404).await;
        problem(
            app.post(&format!("{missing}stock/"), token, json!({"set": 1}))
                .await,
            404,
        )
        .await;
    }
    assert_eq!(ok_json(&app, "/api/products/").await["count"], 1);
}

async fn stock_of(app: &TestApp, id: u64) -> u64 {
    ok_json(app, &format!("/api/products/{id}/")).await["stock"]
        .as_u64()
        .unwrap()
}

/// A 200 stock answer showing product `id` at `stock`.
async fn answered(response: reqwest::Response, id: u64, stock: u64) {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let got = (
        body["id"].as_u64(),
        body["stock"].as_u64(),
        body["in_stock"].as_bool(),
    );
    assert_eq!(got, (Some(id), Some(stock), Some(stock > 0)));
}

#[tokio::test]
async fn stock_is_adjusted_or_set_and_never_goes_below_zero() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let cat = app.create_category(&admin, "Stocked").await;
    let id = app.create_product(&admin, "Widget", "2.00", 5, cat).await;
    let path = format!("/api/products/{id}/stock/");
    let stock_now = || stock_of(&app, id);
    let check = |response, stock| answered(response, id, stock);
    check(app.post(&path, token, json!({"adjust": 3})).await, 8).await;
    check(app.post(&path, token, json!({"adjust": -8})).await, 0).await;
    check(app.post(&path, token, json!({"set": 42})).await, 42).await;
    check(
        app.post(
            &format!("/api/products/{id}/stock"),
            token,
            json!({"adjust": -2}),
        )
        .await,
        40,
    )
    .await;
    assert_eq!(stock_now().await, 40);

    let refused = problem(app.post(&path, token, json!({"adjust": -41})).await, 409).await;
    assert!(refused.get("errors").is_none() || refused["errors"].is_object());
    assert_eq!(
        stock_now().await,
        40,
        "a refused adjustment changes nothing"
    );
    problem(
        app.post(&path, token, json!({"adjust": i64::MIN})).await,
        409,
    )
    .await;
    problem(
        app.post(&path, token, json!({"adjust": i64::MAX})).await,
        409,
    )
    .await;
    assert_eq!(stock_now().await, 40);

    field_error(app.post(&path, token, json!({"set": -1})).await, "set").await;
    problem(
        app.post(&path, token, json!({"adjust": 1, "set": 1})).await,
        400,
    )
    .await;
    problem(app.post(&path, token, json!({})).await, 400).await;
    field_error(
        app.post(&path, token, json!({"adjust": "1"})).await,
        "adjust",
    )
    .await;
    field_error(
        app.post(&path, token, json!({"adjust": 1.5})).await,
        "adjust",
    )
    .await;
    field_error(app.post(&path, token, json!({"delta": 1})).await, "delta").await;
    assert_eq!(stock_now().await, 40, "refused requests change nothing");

    // Concurrent adjustments are applied exactly, and none takes stock below zero.
    check(app.post(&path, token, json!({"set": 10})).await, 10).await;
    let takes = (0..25).map(|_| app.post(&path, token, json!({"adjust": -1})));
    let statuses: Vec<u16> = futures_util::future::join_all(takes)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(stock_now().await, 0);
}
