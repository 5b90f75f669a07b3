//! A stock change refused at either end of the range says which end, and changes nothing.
use super::{ok_json, problem};
use crate::helpers::*;
use serde_json::json;

const MAX_STOCK: u64 = 1_000_000_000;

#[tokio::test]
async fn an_adjustment_past_the_maximum_says_so_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let category = app.create_category(&admin, "Bulk").await;
    let id = app
        .create_product(&admin, "Grain", "0.01", MAX_STOCK - 10, category)
        .await;
    let path = format!("/api/products/{id}/stock/");
    let stock = || async { ok_json(&app, &format!("/api/products/{id}/")).await["stock"].as_u64() };

    for adjust in [20, i64::MAX] {
        let refused = app.post(&path, token, json!({"adjust": adjust})).await;
        let body = problem(refused, 409).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("exceed the maximum of 1000000000") && !detail.contains("below 0"),
            "{detail}"
        );
        assert_eq!(
            stock().await,
            Some(MAX_STOCK - 10),
            "adjust {adjust} changed nothing"
        );
    }
    let below = app.post(&path, token, json!({"set": 0})).await;
    assert_eq!(below.status(), 200);
    let refused = app.post(&path, token, json!({"adjust": -1})).await;
    let body = problem(refused, 409).await;
    assert!(
        body["detail"].as_str().unwrap().contains("below 0"),
        "{body}"
    );

    let set = app.post(&path, token, json!({"set": MAX_STOCK - 10})).await;
    assert_eq!(set.status(), 200);
    let to_the_top = app.post(&path, token, json!({"adjust": 10})).await;
    assert_eq!(to_the_top.status(), 200);
    assert_eq!(stock().await, Some(MAX_STOCK));
}
