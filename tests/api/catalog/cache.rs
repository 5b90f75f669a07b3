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
