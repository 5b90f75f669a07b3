//! The product list: DRF pagination, links that keep the query, and 400s naming bad parameters.
use super::{field_error, ids, ok_json, problem};
use crate::helpers::*;
use reqwest::Url;
use serde_json::Value;
use std::collections::BTreeMap;

/// A link's path and its query as a map (order-insensitive).
fn link(value: &Value) -> (String, BTreeMap<String, String>) {
    let url = Url::parse(value.as_str().expect("a link")).expect("an absolute URL");
    (
        url.path().to_owned(),
        url.query_pairs().into_owned().collect(),
    )
}

fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Follows an absolute link from a page.
async fn follow(app: &TestApp, value: &Value) -> Value {
    let response = app
        .client
        .get(value.as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_empty_catalog_is_one_empty_page() {
    let app = TestApp::spawn().await;
    let page = ok_json(&app, "/api/products/").await;
    assert_eq!(
        page,
        serde_json::json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    let page = ok_json(&app, "/api/products/?page=1&search=nothing").await;
    assert_eq!(page["count"], 0);
    problem(app.get("/api/products/?page=2", None).await, 404).await;
}

#[tokio::test]
async fn pages_links_and_the_last_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cat = app.create_category(&admin, "Paged").await;
    let other = app.create_category(&admin, "Elsewhere").await;
    let mut all = Vec::new();
    for n in 0..25 {
        all.push(
            app.create_product(&admin, &format!("Item {n:02}"), "1.00", n % 3, cat)
                .await,
        );
    }
    app.create_product(&admin, "Not in it", "1.00", 1, other)
        .await;

    // Default: 10 per page, id order.
    let first = ok_json(&app, "/api/products/").await;
    assert_eq!(first["count"], 26);
    assert_eq!(ids(&first), all[..10]);
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(
        link(&first["next"]),
        ("/api/products/".into(), query(&[("page", "2")]))
    );
    let second = follow(&app, &first["next"]).await;
    assert_eq!(ids(&second), all[10..20]);
    let third = follow(&app, &second["next"]).await;
    assert_eq!(third["next"], Value::Null, "the last page has no next");
    assert_eq!(ids(&third).len(), 6);
    let back = follow(&app, &third["previous"]).await;
    assert_eq!(back, second);
    problem(app.get("/api/products/?page=4", None).await, 404).await;

    // Links keep every other parameter, and `page` appears once.
    let cat_s = cat.to_string();
    let path = format!(
        "/api/products/?category={cat}&ordering=-id&page_size=7&in_stock=true&search=item&page=2"
    );
    let page = ok_json(&app, &path).await;
    let in_stock: Vec<u64> = all
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 3 != 0)
        .map(|(_, id)| *id)
        .rev()
        .collect();
    assert_eq!(page["count"], in_stock.len());
    assert_eq!(ids(&page), in_stock[7..14]);
    let kept = [
        ("category", cat_s.as_str()),
        ("ordering", "-id"),
        ("page_size", "7"),
        ("in_stock", "true"),
        ("search", "item"),
    ];
    let with_page = |p: &'static str| {
        let mut q = query(&kept);
        q.insert("page".into(), p.into());
        ("/api/products/".to_owned(), q)
    };
    assert_eq!(link(&page["next"]), with_page("3"));
    assert_eq!(link(&page["previous"]), with_page("1"));
    let last = follow(&app, &page["next"]).await;
    assert_eq!(ids(&last), in_stock[14..]);
    assert_eq!(last["next"], Value::Null);
    // A search with characters that need escaping survives the round trip.
    let odd = app
        .create_product(&admin, "Fish & Chips + 50% off", "1.00", 1, cat)
        .await;
    for n in 0..2 {
        app.create_product(
            &admin,
            &format!("Fish & Chips + 50% off #{n}"),
            "2.00",
            1,
            cat,
        )
        .await;
    }
    let page = ok_json(
        &app,
        "/api/products/?search=chips%20%2B%2050%25&page_size=2",
    )
    .await;
    assert_eq!(page["count"], 3);
    assert_eq!(ids(&page)[0], odd);
    assert_eq!(
        link(&page["next"]).1,
        query(&[("search", "chips + 50%"), ("page_size", "2"), ("page", "2")])
    );
    assert_eq!(ids(&follow(&app, &page["next"]).await).len(), 1);
}

#[tokio::test]
async fn page_size_is_bounded_and_page_must_be_positive() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cat = app.create_category(&admin, "Sizes").await;
    for n in 0..12 {
        app.create_product(&admin, &format!("P{n}"), "1.00", 1, cat)
            .await;
    }
    assert_eq!(
        ids(&ok_json(&app, "/api/products/?page_size=100").await).len(),
        12
    );
    assert_eq!(
        ids(&ok_json(&app, "/api/products/?page_size=1&page=12").await).len(),
        1
    );
    problem(
        app.get("/api/products/?page_size=1&page=13", None).await,
        404,
    )
    .await;
    for bad in ["101", "0", "-1", "abc", "", "1.5"] {
        field_error(
            app.get(&format!("/api/products/?page_size={bad}"), None)
                .await,
            "page_size",
        )
        .await;
    }
    for bad in ["0", "-1", "abc", "", "1.0", "99999999999999999999999"] {
        field_error(
            app.get(&format!("/api/products/?page={bad}"), None).await,
            "page",
        )
        .await;
    }
    field_error(app.get("/api/products/?page=1&page=2", None).await, "page").await;
}

#[tokio::test]
async fn malformed_filters_are_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let cases = [
        ("min_price", "abc"),
        ("min_price", "-1"),
        ("min_price", "1.234"),
        ("max_price", "1e3"),
        ("max_price", ""),
        ("in_stock", "maybe"),
        ("in_stock", "yes"),
        ("ordering", "bogus"),
        ("ordering", "stock"),
        ("ordering", "-"),
        ("category", "x"),
        ("category", "0"),
        ("category", "-1"),
        ("category", "1.5"),
        ("search", &"s".repeat(101)),
    ];
    for (name, value) in cases {
        let path = format!("/api/products/?{name}={}", url_escape(value));
        let body = field_error(app.get(&path, None).await, name).await;
        assert_eq!(
            body["errors"].as_object().unwrap().len(),
            1,
            "only {name} named: {body}"
        );
    }
    // Several at once: all named.
    let body = problem(
        app.get(
            "/api/products/?min_price=x&in_stock=maybe&ordering=up&category=c&page=0",
            None,
        )
        .await,
        400,
    )
    .await;
    for name in ["min_price", "in_stock", "ordering", "category"] {
        assert!(body["errors"][name].is_array(), "{name} in {body}");
    }
    field_error(
        app.get("/api/products/?category=1&category=2", None).await,
        "category",
    )
    .await;
    // Well-formed values are fine even when nothing matches.
    let fine = "/api/products/?min_price=0&max_price=10.5&in_stock=false&ordering=-created_at&category=42&search=x";
    assert_eq!(ok_json(&app, fine).await["count"], 0);
}

fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
