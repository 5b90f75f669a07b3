//! A full disk (issue #14, finding 15): the data dir on a small tmpfs this test mounts, filled
//! to the last byte while shoppers order. Orders must be refused with 503 + `Retry-After` (never
//! 500, never a hang), `/healthz` must say so, the server must take orders again by itself once
//! space is freed, and after kill -9 every acknowledged order must be there with stock adding up.
use crate::binary::{start, Api};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const TMPFS_MIB: u64 = 48;
const STOCK: u64 = 1_000_000;

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// `None` (with the reason printed) where this process may not mount.
    fn mount(at: &Path) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).unwrap();
        let size = format!("size={TMPFS_MIB}m");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(at)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(SmallDisk(at.to_path_buf())),
            Ok(out) => {
                let why = String::from_utf8_lossy(&out.stderr).into_owned();
                eprintln!("skipping: cannot mount a tmpfs here ({})", why.trim());
                None
            }
            Err(e) => {
                eprintln!("skipping: cannot run mount ({e})");
                None
            }
        }
    }

    /// Writes a file until the disk refuses more; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        while file.write_all(&chunk[..512]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Shoppers ordering at once while the disk fills, so batches are in flight when it happens.
const SHOPPERS: usize = 4;

#[derive(Clone)]
struct Shop {
    product: u64,
    shoppers: Vec<String>,
}

async fn set_up(api: &Api) -> Shop {
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let category = api
        .post(
            201,
            "/api/categories/",
            Some(&admin),
            Some(json!({"name": "Disk"})),
        )
        .await;
    let product = api
        .post(
            201,
            "/api/products/",
            Some(&admin),
            Some(json!({
                "name": "Tea", "price": "1.00", "stock": STOCK,
                "category_id": category["id"],
            })),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let mut shoppers = Vec::new();
    for n in 0..SHOPPERS {
        let email = format!("full-disk-{n}@example.com");
        let account = json!({"email": email, "password": PASSWORD});
        api.post(201, "/api/auth/register/", None, Some(account))
            .await;
        shoppers.push(api.login(&email, PASSWORD).await);
    }
    Shop { product, shoppers }
}

/// An acknowledged order and whose it is.
struct Acked {
    token: String,
    order: Value,
}

/// One cart line and an order. `Ok(order)` on 201; `Err(status)` otherwise, after checking
/// that a refusal is a 503 with `Retry-After` and a problem document.
async fn order(api: &Api, product: u64, token: &str, key: String) -> Result<Acked, u16> {
    let line = json!({"product_id": product, "quantity": 1});
    let added = api
        .send(Method::POST, "/api/cart/items/", Some(token), Some(line))
        .await
        .expect("the server answers");
    if added.status() != 201 {
        return Err(refusal(added).await);
    }
    let placed = api
        .client
        .post(format!("{}/api/orders/", api.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .send()
        .await
        .expect("the server answers");
    if placed.status() == 201 {
        let order = placed.json().await.unwrap();
        return Ok(Acked {
            token: token.to_owned(),
            order,
        });
    }
    Err(refusal(placed).await)
}

/// One shopper ordering until the full disk has refused it three times.
async fn shop_until_refused(api: Api, product: u64, token: String, n: usize) -> Vec<Acked> {
    let mut acked = Vec::new();
    let mut refused = 0;
    for i in 0.. {
        assert!(i < 2_000, "the full disk never refused an order");
        match order(&api, product, &token, format!("fill-{n}-{i}")).await {
            Ok(placed) => acked.push(placed),
            Err(_) => refused += 1,
        }
        if refused == 3 {
            return acked;
        }
    }
    unreachable!()
}

async fn refusal(response: reqwest::Response) -> u16 {
    let status = response.status().as_u16();
    assert_eq!(status, 503, "a storage fault is a 503, not {status}");
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        !detail.contains("No space"),
        "no internals in the answer: {detail}"
    );
    status
}

async fn health(api: &Api) -> (u16, Value) {
    let response = api.send(Method::GET, "/healthz", None, None).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_for_health(api: &Api, want: u16, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = health(api).await;
        if status == want {
            return body;
        }
        assert!(
            started.elapsed() < within,
            "/healthz still {status} {body} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_turns_health_red_and_recovers_by_itself() {
    if crate::helpers::skip_unless_sled("fills the tmpfs under a sled data dir") {
        return;
    }
    tokio::time::timeout(Duration::from_secs(120), full_disk())
        .await
        .expect("finished within 120 s");
}

async fn full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&dir.path().join("data")) else {
        return;
    };
    let mut server = start(dir.path(), 0).await;
    let api = server.api.clone();
    let shop = set_up(&api).await;
    let mut acked = Vec::new();
    for n in 0..20 {
        let token = &shop.shoppers[n % SHOPPERS];
        let placed = order(&api, shop.product, token, format!("room-{n}")).await;
        acked.push(placed.expect("room on the disk"));
    }

    let filler = disk.fill();
    let shoppers = shop.shoppers.iter().enumerate().map(|(n, token)| {
        tokio::spawn(shop_until_refused(
            api.clone(),
            shop.product,
            token.clone(),
            n,
        ))
    });
    for shopper in futures_util::future::join_all(shoppers).await {
        acked.extend(shopper.expect("a shopper finished"));
    }
    let refused = 3 * SHOPPERS;
    let acked_while_filling = acked.len() - 20;
    let unhealthy = Instant::now();
    let body = wait_for_health(&api, 503, Duration::from_secs(10)).await;
    let noticed = unhealthy.elapsed();
    assert_eq!(body["storage"], "failing");
    // A read that needs the database is refused the same way while it is reopened.
    let read = api
        .send(
            Method::GET,
            &format!("/api/products/{}/", shop.product),
            None,
            None,
        )
        .await
        .unwrap();
    if read.status() != 200 {
        refusal(read).await;
    }

    std::fs::remove_file(filler).unwrap();
    let freed = Instant::now();
    wait_for_health(&api, 200, Duration::from_secs(30)).await;
    eprintln!(
        "disk full: {acked_while_filling} orders acknowledged while filling, then {refused} refused; \
         /healthz red after {noticed:?} more; healthy {:?} after space was freed",
        freed.elapsed()
    );
    for (n, token) in shop.shoppers.iter().enumerate() {
        let placed = order(&api, shop.product, token, format!("after-{n}")).await;
        acked.push(placed.expect("orders are taken again"));
    }
    let log = std::fs::read_to_string(dir.path().join("server-0.log")).unwrap();
    assert!(log.contains("storage failed"), "the fault is logged");
    assert!(log.contains("storage recovered"), "the recovery is logged");

    server.kill();
    let server = start(dir.path(), 1).await;
    let api = &server.api;
    for Acked { token, order } in &acked {
        let id = order["id"].as_u64().unwrap();
        let found = api.get(&format!("/api/orders/{id}/"), Some(token)).await;
        assert_eq!(found["items"], order["items"], "order {id}");
    }
    // An order refused because its flush failed may still have reached the disk in an
    // earlier buffer (its retry with the same key then finds it): stock must add up with every
    // order present, and every acknowledged one must be among them.
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut present = Vec::new();
    for page in 1.. {
        let path = format!("/api/orders/?page_size=100&page={page}");
        let list = api.get(&path, Some(&admin)).await;
        present.extend(list["results"].as_array().unwrap().iter().cloned());
        if list["next"].is_null() {
            break;
        }
    }
    assert!(present.len() >= acked.len());
    let sold: u64 = present
        .iter()
        .flat_map(|o| o["items"].as_array().unwrap())
        .map(|item| item["quantity"].as_u64().unwrap())
        .sum();
    let product = api
        .get(&format!("/api/products/{}/", shop.product), None)
        .await;
    assert_eq!(
        product["stock"].as_u64().unwrap(),
        STOCK - sold,
        "stock adds up with the {} orders present ({} acknowledged)",
        present.len(),
        acked.len()
    );
    drop(server);
    drop(disk);
}
