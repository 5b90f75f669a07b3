//! The read cache: `X-Cache: MISS` then `HIT`; every kind of write is visible to the next read.
use super::{fetch, ids, product_body};
use crate::helpers::*;
use serde_json::{json, Value};

/// Reads `path` twice: the first must be a MISS, the second a HIT with the same body.
async fn fresh(app: &TestApp, path: &str) -> Value {
    let (status, cache, first) = fetch(app, path).await;
    assert_eq!(
        (status, cache.as_deref()),
        (200, Some("MISS")),
        "first read of {path} after a change: {first}"
    );
    let (status, cache, second) = fetch(app, path).await;
    assert_eq!(
        (status, cache.as_deref()),
        (200, Some("HIT")),
        "second read of {path}"
    );
    assert_eq!(
        first, second,
        "a HIT serves what the MISS computed ({path})"
    );
    first
}

fn find(list: &Value, id: u64) -> Option<&Value> {
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
}

#[tokio::test]
async fn every_product_write_invalidates_lists_and_details() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let cat = app.create_category(&admin, "Cached").await;
    let id = app.create_product(&admin, "Lamp", "10.00", 4, cat).await;
    let (list, detail, filtered) = (
        "/api/products/",
        format!("/api/products/{id}/"),
        "/api/products/?in_stock=true&ordering=-price",
    );
    let categories = "/api/categories/";
    let count_of = |categories: &Value| categories["results"][0]["product_count"].as_u64().unwrap();

    assert_eq!(ids(&fresh(&app, list).await), [id]);
    assert_eq!(fresh(&app, &detail).await["price"], "10.00");
    assert_eq!(ids(&fresh(&app, filtered).await), [id]);
    assert_eq!(count_of(&fresh(&app, categories).await), 1);

    // Create.
    let second = app.create_product(&admin, "Desk", "99.00", 1, cat).await;
    assert_eq!(ids(&fresh(&app, list).await), [id, second]);
    assert_eq!(ids(&fresh(&app, filtered).await), [second, id]);
    assert_eq!(count_of(&fresh(&app, categories).await), 2);

    // PUT.
    assert_eq!(
        app.put(&detail, token, product_body("Lamp", "120.00", 4, cat))
            .await
            .status(),
        200
    );
    assert_eq!(fresh(&app, &detail).await["price"], "120.00");
    assert_eq!(
        find(&fresh(&app, list).await, id).unwrap()["price"],
        "120.00"
    );
    assert_eq!(ids(&fresh(&app, filtered).await), [id, second]);

    // PATCH.
    assert_eq!(
        app.patch(&detail, token, json!({"name": "Floor lamp"}))
            .await
            .status(),
        200
    );
    assert_eq!(fresh(&app, &detail).await["name"], "Floor lamp");
    assert_eq!(
        find(&fresh(&app, list).await, id).unwrap()["name"],
        "Floor lamp"
    );

    // Stock change.
    assert_eq!(
        app.post(&format!("{detail}stock/"), token, json!({"set": 0}))
            .await
            .status(),
        200
    );
    let shown = fresh(&app, &detail).await;
    assert_eq!(
        (shown["stock"].as_u64(), shown["in_stock"].as_bool()),
        (Some(0), Some(false))
    );
    assert_eq!(find(&fresh(&app, list).await, id).unwrap()["stock"], 0);
    assert_eq!(
        ids(&fresh(&app, filtered).await),
        [second],
        "out of stock drops out of in_stock=true"
    );
    assert_eq!(
        app.post(&format!("{detail}stock/"), token, json!({"adjust": 7}))
            .await
            .status(),
        200
    );
    assert_eq!(fresh(&app, &detail).await["stock"], 7);
    assert_eq!(ids(&fresh(&app, filtered).await), [id, second]);

    // Delete.
    assert_eq!(
        app.delete(&format!("/api/products/{second}/"), token)
            .await
            .status(),
        204
    );
    assert_eq!(ids(&fresh(&app, list).await), [id]);
    assert_eq!(ids(&fresh(&app, filtered).await), [id]);
    assert_eq!(count_of(&fresh(&app, categories).await), 1);
    let (status, cache, _) = fetch(&app, &format!("/api/products/{second}/")).await;
    assert_eq!(status, 404, "a deleted product is gone (cache: {cache:?})");
}

#[tokio::test]
async fn every_category_write_invalidates_what_shows_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let cat = app.create_category(&admin, "Kitchen").await;
    let id = app.create_product(&admin, "Pan", "25.00", 2, cat).await;
    let (list, detail, categories) = (
        "/api/products/",
        format!("/api/products/{id}/"),
        "/api/categories/",
    );
    let cat_path = format!("/api/categories/{cat}/");
    fresh(&app, list).await;
    fresh(&app, &detail).await;
    fresh(&app, categories).await;
    fresh(&app, &cat_path).await;

    // Create.
    let other = app.create_category(&admin, "Garden").await;
    assert_eq!(fresh(&app, categories).await["count"], 2);

    // Rename (PATCH, then PUT): products show the new name at once.
    assert_eq!(
        app.patch(&cat_path, token, json!({"name": "Cookware"}))
            .await
            .status(),
        200
    );
    assert_eq!(fresh(&app, &detail).await["category"]["name"], "Cookware");
    assert_eq!(
        find(&fresh(&app, list).await, id).unwrap()["category"]["name"],
        "Cookware"
    );
    assert_eq!(fresh(&app, &cat_path).await["name"], "Cookware");
    let put = json!({"name": "Pots and pans", "description": "Hot"});
    assert_eq!(app.put(&cat_path, token, put).await.status(), 200);
    assert_eq!(
        fresh(&app, &detail).await["category"]["name"],
        "Pots and pans"
    );
    let shown = fresh(&app, &cat_path).await;
    assert_eq!(
        (
            shown["description"].as_str(),
            shown["product_count"].as_u64()
        ),
        (Some("Hot"), Some(1))
    );

    // Moving the product changes both counts and the filtered lists.
    let by_other = format!("/api/products/?category={other}");
    assert_eq!(fresh(&app, &by_other).await["count"], 0);
    assert_eq!(
        app.patch(&detail, token, json!({"category_id": other}))
            .await
            .status(),
        200
    );
    assert_eq!(fresh(&app, &by_other).await["count"], 1);
    assert_eq!(fresh(&app, &cat_path).await["product_count"], 0);
    assert_eq!(
        fresh(&app, &detail).await["category"],
        json!({"id": other, "name": "Garden"})
    );

    // Delete.
    assert_eq!(app.delete(&cat_path, token).await.status(), 204);
    let remaining = fresh(&app, categories).await;
    assert_eq!(remaining["count"], 1);
    assert_eq!(remaining["results"][0]["id"], other);
    let (status, _, _) = fetch(&app, &cat_path).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn errors_are_not_cached_as_answers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (status, _, _) = fetch(&app, "/api/products/1/").await;
    assert_eq!(status, 404);
    let cat = app.create_category(&admin, "Late").await;
    let id = app.create_product(&admin, "Arrived", "1.00", 1, cat).await;
    assert_eq!(id, 1);
    assert_eq!(fresh(&app, "/api/products/1/").await["name"], "Arrived");
    // A page past the end becomes a real page once there are enough products.
    let (status, _, _) = fetch(&app, "/api/products/?page_size=1&page=2").await;
    assert_eq!(status, 404);
    app.create_product(&admin, "Second", "1.00", 1, cat).await;
    assert_eq!(
        fresh(&app, "/api/products/?page_size=1&page=2").await["results"][0]["name"],
        "Second"
    );
}

/// A GET with extra headers: status, headers and body.
async fn get_with(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("GET");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.json().await.expect("JSON body"))
}

/// The third read of a URL is answered in front of the router from the bytes remembered for
/// that exact URL: it must look exactly like an answer of the full stack, and an answer for
/// one host or scheme must never be served for another (the links name them).
#[tokio::test]
async fn url_cache_answers_exactly_like_the_full_stack() {
    // The test client stands in for a proxy, whose forwarding headers count only when trusted.
    let app = TestApp::spawn_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let admin = app.admin().await;
    let cat = app.create_category(&admin, "Fast").await;
    for name in ["One", "Two"] {
        app.create_product(&admin, name, "5.00", 3, cat).await;
    }
    let path = "/api/products/?page_size=1&in_stock=true";
    let (_, miss, first) = get_with(&app, path, &[]).await;
    let (_, canonical_hit, second) = get_with(&app, path, &[]).await;
    let (status, url_hit, third) = get_with(&app, path, &[("x-request-id", "caller-7")]).await;
    assert_eq!(status, 200);
    assert_eq!((&first, &second), (&third, &third));
    assert_eq!(miss["x-cache"], "MISS");
    assert_eq!(canonical_hit["x-cache"], "HIT");
    for (name, value) in canonical_hit.iter() {
        if !["x-request-id", "date", "content-length"].contains(&name.as_str()) {
            assert_eq!(url_hit.get(name), Some(value), "header {name}");
        }
    }
    assert_eq!(url_hit.len(), canonical_hit.len(), "{url_hit:?}");
    assert_eq!(url_hit["x-request-id"], "caller-7");
    let (_, fresh_id, _) = get_with(&app, path, &[]).await;
    let fresh_id = fresh_id["x-request-id"].to_str().unwrap().to_owned();
    assert!(fresh_id.len() == 24 && fresh_id != canonical_hit["x-request-id"]);

    // Host and scheme are part of the answer (absolute links), so part of the key.
    let next = |body: &Value| body["next"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let (_, _, shop) = get_with(&app, path, &[("host", "shop.example")]).await;
        assert!(
            next(&shop).starts_with("http://shop.example/api/products/?"),
            "{shop}"
        );
        let (_, _, secure) = get_with(&app, path, &[("x-forwarded-proto", "https")]).await;
        assert!(next(&secure).starts_with("https://"), "{secure}");
        let (_, _, proxied) = get_with(&app, path, &[("forwarded", "host=proxy.example")]).await;
        assert!(
            next(&proxied).starts_with("http://proxy.example/"),
            "{proxied}"
        );
        assert!(
            next(&third).starts_with(&app.url("/api/products/?")),
            "{third}"
        );
    }

    // A write moves the generation: the remembered answer is never served again.
    let id = ids(&third)[0];
    let response = app
        .patch(
            &format!("/api/products/{id}/"),
            Some(&admin.access),
            json!({"stock": 0}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (_, after, body) = get_with(&app, path, &[]).await;
    assert_eq!(after["x-cache"], "MISS");
    assert_ne!(ids(&body), [id], "out of stock now: {body}");
}
