//! The catalog index is read on its own thread while the server already answers: a list asked
//! for during that read waits for it, so it is never answered from a half-read index.
use super::ok_json;
use crate::helpers::*;
use orderstream::domain::ids::CategoryId;
use orderstream::store::prelude::*;
use orderstream::store::Store;

const PRODUCTS: usize = 40_000;

#[tokio::test]
async fn lists_asked_for_while_the_index_loads_are_complete() {
    if skip_unless_sled(
        "seeds the stopped server's sled database directly, and times sled's index load",
    ) {
        return;
    }
    let mut app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bulk = app.create_category(&admin, "Bulk").await;
    app.stop().await;
    let dir = app.data_dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let store = Store::open(&dir).expect("open the stopped server's database");
        let categories = [CategoryId::new(bulk)];
        let drafts = orderstream::demo::products(PRODUCTS, &categories);
        store
            .seed_products(&mut drafts.into_iter(), time::OffsetDateTime::now_utc())
            .expect("seed");
        store.flush().expect("flush");
    })
    .await
    .unwrap();

    let app = app.restart().await;
    // Asked at once, in parallel: the category's count (its per-category list), the whole list
    // and the category's own product_count all see every product.
    let filtered_path = format!("/api/products/?category={bulk}&ordering=-price&page_size=3");
    let category_path = format!("/api/categories/{bulk}/");
    let (listed, filtered, category) = tokio::join!(
        ok_json(&app, "/api/products/?page_size=1"),
        ok_json(&app, &filtered_path),
        ok_json(&app, &category_path),
    );
    assert_eq!(listed["count"], PRODUCTS as u64);
    assert_eq!(filtered["count"], PRODUCTS as u64);
    assert_eq!(filtered["results"].as_array().unwrap().len(), 3);
    assert_eq!(category["product_count"], PRODUCTS as u64);
    // The first page by id starts at the first product, not wherever the read had got to.
    let first = ok_json(&app, "/api/products/?page_size=1&ordering=id").await;
    let newest = ok_json(&app, "/api/products/?page_size=1&ordering=-id").await;
    assert!(first["results"][0]["id"].as_u64() < newest["results"][0]["id"].as_u64());
}
