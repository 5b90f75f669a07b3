//! `orderstream import-sled`: a sled shop filled through the API, copied by the real binary into
//! a fresh PostgreSQL database, then served from there: every user signs in with the same
//! password and sees the same orders, catalog and notifications, old sessions still refresh (a
//! logged-out one does not), ids go on after the imported ones, and a second import into the
//! now non-empty database is refused and changes nothing. Runs in the PostgreSQL pass only.
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use orderstream::config::Secret;
use serde_json::{json, Value};

use crate::cart_orders::place_with_key;
use crate::helpers::*;
use crate::postgres_cluster::{cluster, fresh_database_url, POOL_SIZE};
use crate::webhooks::create_webhook;

const TOKEN_SECRET: &str = "import-sled test token secret";

fn import(data_dir: &Path, url: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_orderstream"))
        .arg("--config")
        .arg("/nonexistent/orderstream.toml")
        .args(["--database-url", url, "import-sled", "--from"])
        .arg(data_dir)
        .output()
        .expect("run the orderstream binary")
}

async fn json_of(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// What a user sees of their account: profile, orders, notifications (with read flags).
async fn account(app: &TestApp, token: &str) -> Value {
    json!({
        "me": json_of(app, "/api/me/", Some(token)).await,
        "orders": json_of(app, "/api/orders/?page_size=100", Some(token)).await,
        "notifications": json_of(app, "/api/notifications/?page_size=100", Some(token)).await,
        "cart": json_of(app, "/api/cart/", Some(token)).await,
    })
}

/// What everyone and the admin see of the shop.
async fn shop_view(app: &TestApp, admin: &str) -> Value {
    let hooks = json_of(app, "/api/webhooks/", Some(admin)).await;
    let hook = hooks["results"][0]["id"].as_u64().expect("one webhook");
    json!({
        "categories": json_of(app, "/api/categories/", None).await,
        "products": json_of(app, "/api/products/?page_size=100", None).await,
        "webhooks": hooks,
        "deliveries": json_of(app, &format!("/api/webhooks/{hook}/deliveries/"), Some(admin)).await,
    })
}

/// Rows of every table of the database behind `url`, as one line.
fn row_counts(url: &str) -> String {
    let database = url.rsplit('/').next().unwrap();
    let tables = [
        "users",
        "categories",
        "products",
        "carts",
        "orders",
        "order_items",
        "order_history",
        "idempotency_keys",
        "events",
        "refresh_families",
        "refresh_tokens",
        "revoked_access_tokens",
        "webhooks",
        "webhook_deliveries",
    ];
    let counts: Vec<String> = tables
        .iter()
        .map(|t| format!("'{t}=' || (SELECT count(*) FROM {t})"))
        .collect();
    let sql = format!(
        "SELECT {} || ' head=' || (SELECT last_id FROM event_head)",
        counts.join(" || ' ' || ")
    );
    cluster().psql(database, &sql)
}

#[tokio::test]
async fn a_sled_shop_imported_into_postgresql_serves_the_same_data() {
    let Some(url) = fresh_database_url() else {
        eprintln!(
            "skipped: import-sled needs PostgreSQL (runs with ORDERSTREAM_TEST_BACKEND=postgres)"
        );
        return;
    };
    // Tokens are signed with the configured secret on both servers: the sessions carry over.
    let mut sled = TestApp::spawn_with(|s| {
        s.database_url = None;
        s.jwt_secret = Some(Secret::new(TOKEN_SECRET));
        s.webhooks_allow_private = true;
    })
    .await;
    let admin = sled.admin().await;
    let tea = sled.create_category(&admin, "Tea").await;
    let coffee = sled.create_category(&admin, "Coffee").await;
    let green = sled
        .create_product(&admin, "Green tea", "3.50", 20, tea)
        .await;
    let black = sled
        .create_product(&admin, "Black tea", "4.00", 10, tea)
        .await;
    let creme = sled
        .create_product(&admin, "Café Crème", "2.00", 7, coffee)
        .await;
    sled.create_product(&admin, "Décaféiné", "5.00", 0, coffee)
        .await;
    let gone = sled
        .create_product(&admin, "Discontinued", "1.00", 1, coffee)
        .await;
    assert_eq!(
        sled.delete(&format!("/api/products/{gone}/"), Some(&admin.access))
            .await
            .status(),
        204
    );
    // Refused deliveries (nothing listens on port 9) leave an attempt in the log.
    let hook = create_webhook(&sled, &admin, "http://127.0.0.1:9/hook", &["order.status"]).await;

    let (alice, bob, carol) = (
        sled.new_user().await,
        sled.new_user().await,
        sled.new_user().await,
    );
    let set_status = async |order: u64, status: &str| {
        let path = format!("/api/orders/{order}/status/");
        let response = sled
            .post(&path, Some(&admin.access), json!({ "status": status }))
            .await;
        assert_eq!(response.status(), 200, "{status}");
    };
    sled.add_to_cart(&alice, green, 2).await;
    sled.add_to_cart(&alice, black, 1).await;
    let keyed = place_with_key(&sled, &alice.access, "import-key-1").await;
    assert_eq!(keyed.status(), 201);
    let keyed: Value = keyed.json().await.unwrap();
    let first = keyed["id"].as_u64().unwrap();
    set_status(first, "shipped").await;
    set_status(first, "delivered").await;
    // Takes Café Crème to 4: a product.stock_low event in the log.
    sled.add_to_cart(&alice, creme, 3).await;
    let second = sled
        .post("/api/orders/", Some(&alice.access), json!({}))
        .await;
    let second = second.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    let cancel = format!("/api/orders/{second}/cancel/");
    assert_eq!(
        sled.post(&cancel, Some(&alice.access), json!({}))
            .await
            .status(),
        200
    );
    for (product, status) in [(green, Some("shipped")), (black, None)] {
        sled.add_to_cart(&bob, product, 1).await;
        let placed = sled
            .post("/api/orders/", Some(&bob.access), json!({}))
            .await;
        assert_eq!(placed.status(), 201);
        if let Some(status) = status {
            set_status(
                placed.json::<Value>().await.unwrap()["id"]
                    .as_u64()
                    .unwrap(),
                status,
            )
            .await;
        }
    }
    sled.add_to_cart(&carol, creme, 1).await;
    // Alice has read one of her three notifications.
    let notes = json_of(&sled, "/api/notifications/", Some(&alice.access)).await;
    let read = notes["results"][1]["id"].as_u64().unwrap();
    let mark = format!("/api/notifications/{read}/read/");
    assert_eq!(
        sled.post(&mark, Some(&alice.access), json!({}))
            .await
            .status(),
        204
    );
    // Bob's second session ends: its refresh token and access token are revoked.
    let (bob_access, bob_refresh) = sled.login(&bob.email, &bob.password).await;
    let logout = json!({ "refresh": bob_refresh });
    assert_eq!(
        sled.post("/api/auth/logout/", Some(&bob_access), logout)
            .await
            .status(),
        204
    );
    let deliveries = format!("/api/webhooks/{}/deliveries/", hook["id"]);
    let waiting = Instant::now();
    while json_of(&sled, &deliveries, Some(&admin.access)).await["count"] == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(20),
            "no delivery attempt"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let users = [&admin, &alice, &bob, &carol];
    let mut before = Vec::new();
    for user in users {
        before.push(account(&sled, &user.access).await);
    }
    let shop_before = shop_view(&sled, &admin.access).await;
    assert_eq!(before[1]["notifications"]["count"], 3);
    sled.stop().await;

    let started = Instant::now();
    let output = import(sled.data_dir.path(), &url);
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("import-sled took {took:?}: {}", stdout.trim());
    for counted in [
        "4 users",
        "2 categories",
        "4 products",
        "1 carts",
        "4 orders",
        "9 events (1 read)",
        "1 idempotency keys",
        "1 revoked access tokens",
        "1 webhooks",
        "1 webhook deliveries",
    ] {
        assert!(stdout.contains(counted), "{counted:?} in {stdout}");
    }

    // The server on PostgreSQL, with no admin in its settings: the admin's imported password
    // hash is what lets them in.
    let pg = TestApp::spawn_with(|s| {
        s.jwt_secret = Some(Secret::new(TOKEN_SECRET));
        s.database_url = Some(Secret::new(url.clone()));
        s.database_pool_size = POOL_SIZE;
        s.admin_email = None;
        s.admin_password = None;
        s.webhooks_allow_private = true;
    })
    .await;
    for (user, seen) in users.iter().zip(&before) {
        let (access, _) = pg.login(&user.email, &user.password).await;
        assert_eq!(&account(&pg, &access).await, seen, "{}", user.email);
    }
    assert_eq!(shop_view(&pg, &admin.access).await, shop_before);
    let refresh = |token: &str| json!({ "refresh": token });
    let path = "/api/auth/token/refresh/";
    assert_eq!(
        pg.post(path, None, refresh(&alice.refresh)).await.status(),
        200
    );
    assert_eq!(
        pg.post(path, None, refresh(&bob_refresh)).await.status(),
        401
    );
    assert_eq!(
        pg.get("/api/me/", Some(&bob_access)).await.status(),
        401,
        "revoked"
    );
    // The idempotency key still answers its order.
    let replay = place_with_key(&pg, &alice.access, "import-key-1").await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], keyed["id"]);

    // New ids come after the imported ones (and after the deleted product's).
    let product = pg.create_product(&admin, "New", "1.00", 5, tea).await;
    assert!(product > gone, "product {product} after {gone}");
    pg.add_to_cart(&carol, product, 1).await;
    let placed = pg
        .post("/api/orders/", Some(&carol.access), json!({}))
        .await;
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.unwrap();
    let imported = before[0]["orders"]["results"].as_array().unwrap();
    let highest = imported
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(
        placed["id"].as_u64().unwrap() > highest,
        "{placed} after order {highest}"
    );
    assert_eq!(
        placed["items"].as_array().unwrap().len(),
        2,
        "carol's cart came along"
    );
    let new_user = pg.new_user().await;
    assert!(new_user.id > carol.id);

    // A second import into this (no longer empty) database is refused, and writes nothing.
    let rows = row_counts(&url);
    let again = import(sled.data_dir.path(), &url);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "a second import should fail");
    assert!(
        stderr.contains("the PostgreSQL database is not empty"),
        "{stderr}"
    );
    assert_eq!(row_counts(&url), rows);
}
