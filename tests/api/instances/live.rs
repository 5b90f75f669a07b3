//! Live events across instances: a status change made on one instance reaches the streams held
//! by the others once each, in id order; a client whose instance died resumes on another with
//! exactly what it missed; two instances racing on one order make one change and one event.
use super::*;
use crate::cart_orders::problem;
use crate::live::{assert_increasing, ids, status, summary};

/// Long enough for a duplicate to show: a change is woken by a notification and found again by
/// the catch-up tick; a stream that delivered both would repeat it within this.
const QUIET: Duration = Duration::from_millis(CATCH_UP.as_millis() as u64 + 300);

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

#[tokio::test]
async fn status_changes_on_one_instance_reach_streams_on_the_others_and_resume_after_a_kill() {
    if skip_unless_postgres() {
        return;
    }
    let mut deployment = Deployment::start(3, &[]).await;
    let admin = admin(deployment.api(B)).await;
    let category = create_category(deployment.api(B), &admin, "Live").await;
    let product = create_product(deployment.api(B), &admin, "Lamp", "12.50", 1000, category).await;
    let shopper = new_user(deployment.api(A), "watcher").await;
    let first = order(deployment.api(A), &shopper.access, product).await;
    let second = order(deployment.api(C), &shopper.access, product).await;

    let mut ws = deployment.ws(A, &shopper.access, None).await;
    let mut sse = deployment.sse(C, &shopper.access, None).await;
    for step in ["shipped", "delivered"] {
        let response = set_status(deployment.api(B), &admin, first, step).await;
        assert_eq!(response.status(), 200, "{step} via B");
    }
    let by_ws = ws.next_events(2).await;
    let by_sse = sse.next_events(2).await;
    assert_eq!(
        summary(&by_ws),
        vec![status(first, "shipped"), status(first, "delivered")],
        "WebSocket on A"
    );
    assert_eq!(by_sse, by_ws, "SSE on C got the same events");
    assert_increasing(&ids(&by_ws));
    let (ws_extra, sse_extra) = tokio::join!(ws.drain(QUIET), sse.drain(QUIET));
    assert_eq!(ws_extra, Vec::<Value>::new(), "WebSocket on A: duplicates");
    assert_eq!(sse_extra, Vec::<Value>::new(), "SSE on C: duplicates");
    let last_seen = *ids(&by_ws).last().unwrap();

    // A dies with the WebSocket on it; the shopper's other order moves on while it is gone.
    deployment.kill(A);
    drop(ws);
    for step in ["shipped", "delivered"] {
        let response = set_status(deployment.api(B), &admin, second, step).await;
        assert_eq!(response.status(), 200, "{step} via B");
    }
    let missed = vec![status(second, "shipped"), status(second, "delivered")];
    let live_on_c = sse.next_events(2).await;
    assert_eq!(summary(&live_on_c), missed, "SSE on C, live");

    // The client comes back through the balancer, on B, with its last event id.
    let mut ws = deployment.ws(B, &shopper.access, Some(last_seen)).await;
    let replayed = ws.next_events(2).await;
    assert_eq!(
        replayed, live_on_c,
        "the resumed WebSocket gets exactly what it missed"
    );
    assert!(ids(&replayed)[0] > last_seen);
    assert_increasing(&ids(&replayed));

    // And carries live events after the replay, once: a change made on C.
    let third = order(deployment.api(C), &shopper.access, product).await;
    let response = cancel(deployment.api(C), &admin, third).await;
    assert_eq!(response.status(), 200, "cancel via C");
    let (ws_rest, sse_rest) = tokio::join!(ws.drain(QUIET), sse.drain(QUIET));
    assert_eq!(
        summary(&ws_rest),
        vec![status(third, "cancelled")],
        "WS on B"
    );
    assert_eq!(sse_rest, ws_rest, "SSE on C");

    // What the streams delivered is exactly the log.
    let delivered: Vec<Value> = by_ws
        .iter()
        .chain(&replayed)
        .chain(&ws_rest)
        .cloned()
        .collect();
    let listed = notifications(deployment.api(C), &shopper.access).await;
    assert_eq!(summary(&listed), summary(&delivered));
    assert_eq!(ids(&listed), ids(&delivered));
}

/// A ship on B and a cancellation on C of the same pending order, sent at the same moment:
/// one wins (200), the other is refused (409), and the log holds exactly one status event.
#[tokio::test]
async fn a_ship_and_a_cancel_racing_on_two_instances_have_exactly_one_winner() {
    if skip_unless_postgres() {
        return;
    }
    const ROUNDS: usize = 12;
    let deployment = Deployment::start(3, &[]).await;
    let admin = admin(deployment.api(A)).await;
    let category = create_category(deployment.api(A), &admin, "Races").await;
    let product = create_product(deployment.api(A), &admin, "Chair", "40.00", 1000, category).await;
    let shopper = new_user(deployment.api(A), "racer").await;
    let mut orders = Vec::new();
    for i in 0..ROUNDS {
        orders.push(order(deployment.api(i), &shopper.access, product).await);
    }
    let mut sse = deployment.sse(A, &shopper.access, None).await;

    let mut winners = Vec::new();
    for &order in &orders {
        let (ship, cancelled) = tokio::join!(
            set_status(deployment.api(B), &admin, order, "shipped"),
            cancel(deployment.api(C), &shopper.access, order)
        );
        let (winner, loser) = match (ship.status().as_u16(), cancelled.status().as_u16()) {
            (200, 409) => ("shipped", cancelled),
            (409, 200) => ("cancelled", ship),
            (s, c) => panic!("order {order}: ship answered {s}, cancel answered {c}"),
        };
        problem(loser, 409).await;
        let stored = deployment
            .api(A)
            .get(&format!("/api/orders/{order}/"), Some(&admin))
            .await;
        assert_eq!(stored["status"], winner, "order {order}");
        let history: Vec<&str> = stored["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["status"].as_str().unwrap())
            .collect();
        assert_eq!(history, ["pending", winner], "order {order}");
        winners.push(status(order, winner));
    }
    let cancelled = winners.iter().filter(|w| w.2 == "cancelled").count();
    eprintln!(
        "ship/cancel races: {} shipped, {cancelled} cancelled",
        ROUNDS - cancelled
    );

    let streamed = sse.next_events(ROUNDS).await;
    assert_eq!(
        summary(&streamed),
        winners,
        "one event per order, the winner's"
    );
    assert_increasing(&ids(&streamed));
    assert_eq!(
        sse.drain(QUIET).await,
        Vec::<Value>::new(),
        "no second event"
    );
    let listed = notifications(deployment.api(B), &shopper.access).await;
    assert_eq!(summary(&listed), winners, "the notification list");

    // Only the cancelled orders gave their unit back, once.
    let detail = &format!("/api/products/{product}/");
    let expected = (1000 - ROUNDS + cancelled) as u64;
    for (i, api) in deployment.running() {
        let fresh = within(CATCH_UP, || async move {
            read(api, detail).await["stock"] == expected
        })
        .await;
        assert!(fresh.is_some(), "instance {i}: stock {expected}");
    }
}
