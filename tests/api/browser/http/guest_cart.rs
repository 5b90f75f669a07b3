//! The guest cart's lines, drawn by the server from what the browser keeps (app.js asks
//! `/cart/guest?items=id:qty,…`): current prices, stock notes and totals, or a 400.
use crate::browser::shop;

#[tokio::test]
async fn a_visitors_lines_come_back_priced_with_stock_notes_and_a_total() {
    let shop = shop().await;
    let app = &shop.app;
    let gone = app
        .create_product(&shop.admin, "Travel Mug", "9.00", 5, shop.coffee)
        .await;
    assert_eq!(
        app.delete(&format!("/api/products/{gone}/"), Some(&shop.admin.access))
            .await
            .status(),
        204
    );
    // 2 × 12.50 in stock, 3 papers when 2 are left, green tea sold out, a deleted mug.
    let items = format!(
        "{}:2,{}:3,{}:1,{gone}:1",
        shop.espresso, shop.papers, shop.green_tea
    );
    let answer = app.get(&format!("/cart/guest?items={items}"), None).await;
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    assert!(body.contains("$25.00"), "line total of 2 × 12.50: {body}");
    assert!(body.contains("Only 2 left"), "{body}");
    assert!(body.contains("Out of stock"), "{body}");
    assert!(body.contains("No longer available"), "{body}");
    // 25.00 + 3 × 3.20 + 1 × 4.00; the deleted product counts nothing.
    assert!(
        body.contains(r#"<td id="guest-cart-total"><span class="money">$38.60</span></td>"#),
        "{body}"
    );
    assert!(body.contains(&format!(r#"data-guest-qty="{}""#, shop.espresso)));
    assert!(body.contains(&format!(r#"data-guest-remove="{}""#, shop.papers)));
    assert!(!body.contains("<!DOCTYPE"), "a fragment, not a page");

    let empty = app.get("/cart/guest?items=", None).await;
    assert_eq!(empty.status(), 200);
    assert!(empty.text().await.unwrap().contains("Your cart is empty"));
}

#[tokio::test]
async fn malformed_guest_lines_get_a_400() {
    let shop = shop().await;
    for items in ["1", "1:0", "1:10001", "x:1", "1:1,1:2", "1:1;2:1"] {
        let answer = shop
            .app
            .get(&format!("/cart/guest?items={items}"), None)
            .await;
        assert_eq!(answer.status(), 400, "{items}");
    }
    let too_many: Vec<String> = (1..=101).map(|i| format!("{i}:1")).collect();
    let answer = shop
        .app
        .get(&format!("/cart/guest?items={}", too_many.join(",")), None)
        .await;
    assert_eq!(answer.status(), 400);
}
