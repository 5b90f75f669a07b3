//! Webhooks with several instances on one database: one instance delivers (the holder of the
//! database's delivery lock), so each event reaches the endpoint once, not once per instance;
//! when that instance dies, another takes over from the recorded cursor and nothing is missed.
use super::*;
use crate::webhooks::receiver::Receiver;
use std::collections::BTreeMap;

const LEADS: &str = "this instance now delivers webhooks and order emails";

/// The instances whose log says they took the lead.
fn leaders(deployment: &Deployment) -> Vec<usize> {
    (0..deployment.len())
        .filter(|i| {
            let log = deployment.dir.path().join(format!("server-{i}.log"));
            std::fs::read_to_string(log).is_ok_and(|text| text.contains(LEADS))
        })
        .collect()
}

/// Order id → how many `order.created` deliveries the endpoint got for it.
fn created_per_order(receiver: &Receiver) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for message in receiver.received() {
        let body = message.json();
        if body["type"] == "order.created" {
            *counts
                .entry(body["data"]["id"].as_u64().unwrap())
                .or_default() += 1;
        }
    }
    counts
}

async fn wait_for_orders(receiver: &Receiver, orders: &[u64]) -> BTreeMap<u64, usize> {
    let all_there = within(Duration::from_secs(20), || async {
        let counts = created_per_order(receiver);
        orders.iter().all(|o| counts.contains_key(o))
    })
    .await;
    let counts = created_per_order(receiver);
    assert!(
        all_there.is_some(),
        "deliveries missing: {orders:?} vs {counts:?}"
    );
    counts
}

#[tokio::test]
async fn one_instance_delivers_each_event_once_and_another_takes_over_when_it_dies() {
    if skip_unless_postgres() {
        return;
    }
    let receiver = Receiver::start(0).await;
    let env = [
        ("ORDERSTREAM_WEBHOOKS_ALLOW_PRIVATE", "true"),
        ("ORDERSTREAM_WEBHOOK_RETRY_BASE_MS", "100"),
    ];
    let mut deployment = Deployment::start(2, &env).await;
    let admin = admin(deployment.api(0)).await;
    let hook = json!({"url": receiver.url, "events": ["order.created"], "description": "both"});
    deployment
        .api(1)
        .post(201, "/api/webhooks/", Some(&admin), Some(hook))
        .await;
    let category = create_category(deployment.api(0), &admin, "Hooks").await;
    let product = create_product(deployment.api(0), &admin, "Bell", "2.00", 1000, category).await;

    let mut orders = Vec::new();
    for i in 0..10 {
        let shopper = new_user(deployment.api(i), "hooked").await;
        orders.push(order(deployment.api(i), &shopper.access, product).await);
    }
    wait_for_orders(&receiver, &orders).await;
    // Both instances had every event in reach for a while: still one delivery each.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let counts = created_per_order(&receiver);
    assert_eq!(counts.len(), 10, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "duplicates: {counts:?}");
    let leading = leaders(&deployment);
    assert_eq!(leading.len(), 1, "exactly one instance leads: {leading:?}");

    // The leader dies; the other instance takes the lock and carries on from the cursor.
    let leader = leading[0];
    let survivor = 1 - leader;
    deployment.kill(leader);
    let mut later = Vec::new();
    for _ in 0..5 {
        let shopper = new_user(deployment.api(survivor), "after").await;
        later.push(order(deployment.api(survivor), &shopper.access, product).await);
    }
    let counts = wait_for_orders(&receiver, &later).await;
    assert_eq!(counts.len(), 15, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "duplicates: {counts:?}");
    assert!(
        leaders(&deployment).contains(&survivor),
        "the survivor took the lead"
    );
}
