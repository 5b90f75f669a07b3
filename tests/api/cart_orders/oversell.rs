//! 200 buyers race for 25 units: exactly 25 are sold, the rest are told 409.
use super::{problem, shop};
use crate::helpers::TestUser;
use futures_util::future::join_all;
use serde_json::Value;

#[tokio::test]
async fn two_hundred_buyers_cannot_oversell_twenty_five_units() {
    let shop = shop().await;
    let p = shop.product("Limited Edition", "99.00", 25).await;
    // A product that every buyer also wants plenty of, so a rejected order has a line that
    // could have been filled: it must not be taken either.
    let filler = shop.product("Sticker", "0.50", 100_000).await;

    let mut buyers: Vec<TestUser> = Vec::new();
    for _ in 0..4 {
        buyers.extend(join_all((0..50).map(|_| shop.app.new_user())).await);
    }
    join_all(buyers.iter().map(|b| async {
        shop.app.add_to_cart(b, filler, 2).await;
        shop.app.add_to_cart(b, p, 1).await;
    }))
    .await;

    let outcomes = join_all(buyers.iter().map(|b| async { shop.place(b).await })).await;
    let (mut sold, mut rejected) = (0u64, 0u64);
    for response in outcomes {
        match response.status().as_u16() {
            201 => {
                let order: Value = response.json().await.unwrap();
                assert_eq!(order["items"][1]["product_id"], p);
                sold += order["items"][1]["quantity"].as_u64().unwrap();
            }
            409 => {
                let body = problem(response, 409).await;
                let short = body["products"].as_array().expect("products");
                assert_eq!(short.len(), 1, "{body}");
                assert_eq!(short[0]["product_id"], p);
                assert_eq!(
                    short[0]["available"], 0,
                    "only a sold-out product turns a 1-unit buyer away"
                );
                rejected += 1;
            }
            other => panic!(
                "unexpected status {other}: {}",
                response.text().await.unwrap()
            ),
        }
    }
    assert_eq!(sold, 25);
    assert_eq!(rejected, 175);
    assert_eq!(shop.stock(p).await, 0);
    assert_eq!(
        shop.stock(filler).await,
        100_000 - 2 * 25,
        "rejected orders took nothing"
    );

    // The stored orders agree: 25 orders, one unit each.
    let mut units = 0;
    let mut count = 0;
    for page in 1.. {
        let list = shop
            .orders(&shop.admin.access, &format!("?page_size=100&page={page}"))
            .await;
        for order in list["results"].as_array().unwrap() {
            units += order["items"][1]["quantity"].as_u64().unwrap();
            count += 1;
        }
        if list["next"].is_null() {
            break;
        }
    }
    assert_eq!((count, units), (25, 25));
}

/// A PATCH that does not name `stock` keeps the stock the product has when the change is
/// written, not the one it had when the request was read: orders racing with it still count.
#[tokio::test]
async fn a_patch_without_stock_never_undoes_concurrent_orders() {
    let shop = shop().await;
    let p = shop.product("Racing", "5.00", 1000).await;
    let buyers = join_all((0..40).map(|_| shop.app.new_user())).await;
    join_all(buyers.iter().map(|b| shop.app.add_to_cart(b, p, 1))).await;
    let path = format!("/api/products/{p}/");
    let orders = join_all(buyers.iter().map(|b| shop.place(b)));
    let patches = join_all((0..40).map(|i| {
        let body = serde_json::json!({"name": format!("Racing {i}")});
        shop.app.patch(&path, Some(&shop.admin.access), body)
    }));
    let (orders, patches) = tokio::join!(orders, patches);
    assert!(orders.iter().all(|r| r.status() == 201));
    assert!(patches.iter().all(|r| r.status() == 200));
    assert_eq!(
        shop.stock(p).await,
        1000 - 40,
        "every order's unit stays sold"
    );
}
