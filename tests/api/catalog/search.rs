//! `search=` through the HTTP API: folded case and accents, every word must match in any order,
//! the other filters, ordering and pages still apply, and writes change what it finds at once.
use super::{ids, ok_json};
use crate::helpers::*;
use serde_json::json;

/// The ids a search finds (page 1, up to 100), in the requested order.
async fn found(app: &TestApp, query: &str) -> Vec<u64> {
    ids(&ok_json(app, &format!("/api/products/?page_size=100&{query}")).await)
}

#[tokio::test]
async fn search_folds_case_and_accents_and_needs_every_word() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cat = app.create_category(&admin, "Pantry").await;
    let add = async |name: &str| app.create_product(&admin, name, "1.00", 1, cat).await;
    let brulee = add("Crème Brûlée").await;
    let fraiche = add("creme fraiche").await;
    let blue_mug = add("BLUE Mug").await;
    let mug_tea = add("Mug of blue tea").await;
    let red_mug = add("Red mug").await;
    let cafe = add("Café au lait").await;
    let teapot = add("Tea ☕ set").await;

    assert_eq!(found(&app, "search=creme").await, [brulee, fraiche]);
    assert_eq!(found(&app, "search=CR%C3%88ME").await, [brulee, fraiche]);
    assert_eq!(found(&app, "search=cafe").await, [cafe]);
    assert_eq!(found(&app, "search=blue%20mug").await, [blue_mug, mug_tea]);
    assert_eq!(found(&app, "search=mug%20blue").await, [blue_mug, mug_tea]);
    assert_eq!(
        found(&app, "search=%20%20mug%20%20%20BLUE%20").await,
        [blue_mug, mug_tea]
    );
    // Each word is a substring anywhere in the name, not a whole word.
    assert_eq!(found(&app, "search=ug%20lu").await, [blue_mug, mug_tea]);
    assert_eq!(found(&app, "search=mug%20blue%20tea").await, [mug_tea]);
    assert_eq!(found(&app, "search=mug%20green").await, Vec::<u64>::new());
    // Words of one or two characters answer too.
    assert_eq!(found(&app, "search=d").await, [red_mug]);
    let every_e = [brulee, fraiche, blue_mug, mug_tea, red_mug, cafe, teapot];
    assert_eq!(found(&app, "search=e").await, every_e);
    assert_eq!(found(&app, "search=%C3%A9").await, every_e, "é folds to e");
    assert_eq!(found(&app, "search=%E2%98%95").await, [teapot]);
    // Nothing but an accent is no search at all.
    assert_eq!(found(&app, "search=%CC%81").await.len(), 7);
}

#[tokio::test]
async fn search_keeps_the_other_filters_the_ordering_and_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cups = app.create_category(&admin, "Cups").await;
    let other = app.create_category(&admin, "Other").await;
    let cheap = app
        .create_product(&admin, "Tasse à café", "2.00", 3, cups)
        .await;
    let dear = app
        .create_product(&admin, "Café cup, large", "9.00", 1, cups)
        .await;
    let empty = app
        .create_product(&admin, "CAFE cup", "5.00", 0, cups)
        .await;
    app.create_product(&admin, "Café beans", "5.00", 1, other)
        .await;

    let q = format!("search=cafe&category={cups}");
    assert_eq!(found(&app, &q).await, [cheap, dear, empty]);
    assert_eq!(
        found(&app, &format!("{q}&ordering=-price")).await,
        [dear, empty, cheap]
    );
    assert_eq!(
        found(&app, &format!("{q}&in_stock=true")).await,
        [cheap, dear]
    );
    assert_eq!(
        found(&app, &format!("{q}&min_price=3&max_price=6")).await,
        [empty]
    );
    let page = ok_json(
        &app,
        &format!("/api/products/?{q}&ordering=name&page_size=1&page=2"),
    )
    .await;
    assert_eq!(page["count"], 3);
    assert_eq!(
        ids(&page),
        [dear],
        "by name: cafe cup, café cup, tasse à café"
    );
}

#[tokio::test]
async fn renames_and_deletes_change_what_a_search_finds() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cat = app.create_category(&admin, "Lamps").await;
    let lamp = app
        .create_product(&admin, "Desk lamp", "10.00", 1, cat)
        .await;
    assert_eq!(found(&app, "search=desk").await, [lamp]);

    let path = format!("/api/products/{lamp}/");
    let renamed = app
        .patch(
            &path,
            Some(&admin.access),
            json!({"name": "Lampe de chevet"}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(found(&app, "search=desk").await, Vec::<u64>::new());
    assert_eq!(found(&app, "search=chevet%20lampe").await, [lamp]);

    let stock = app
        .post(
            &format!("{path}stock/"),
            Some(&admin.access),
            json!({"set": 0}),
        )
        .await;
    assert_eq!(stock.status(), 200);
    assert_eq!(
        found(&app, "search=chevet").await,
        [lamp],
        "stock leaves names alone"
    );

    assert_eq!(app.delete(&path, Some(&admin.access)).await.status(), 204);
    assert_eq!(found(&app, "search=chevet").await, Vec::<u64>::new());
}
