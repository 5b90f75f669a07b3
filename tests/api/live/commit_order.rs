//! Event ids in commit order: many transactions for one user commit at once, and a reader that
//! resumes from whatever it saw last (during the race and after it) misses and repeats nothing.
//! On PostgreSQL this is the test of the event log's head lock: with ids from a plain sequence,
//! a reader could see event n+1 before n commits, resume after n+1 and lose n for good.
use futures_util::future::join_all;
use std::time::Duration;

use super::client::{Kind, LiveClient};
use super::{assert_increasing, ids, Shop};
use crate::helpers::TestApp;

const WRITERS: usize = 16;

#[tokio::test]
async fn concurrent_status_changes_for_one_user_resume_at_every_cursor_without_gaps() {
    // The reader opens hundreds of streams one after another; a closed one is released by the
    // server a moment later, so the per-user cap is lifted for this test.
    let app = TestApp::spawn_with(|s| s.max_live_connections_per_user = 10_000).await;
    let shop = Shop::open(&app).await;
    let owner = app.new_user().await;
    let mut orders = Vec::new();
    for _ in 0..WRITERS {
        orders.push(shop.order(&app, &owner).await);
    }
    // The reader reconnects from its last id over and over while the writers commit.
    let reader = {
        let (app, token) = (&app, owner.access.clone());
        async move {
            let mut seen: Vec<u64> = Vec::new();
            for round in 0.. {
                let kind = if round % 2 == 0 { Kind::Ws } else { Kind::Sse };
                // From event 1 (an order's creation, which is not the shopper's news) at first:
                // a stream without a cursor starts live and replays nothing.
                let cursor = seen.last().copied().unwrap_or(1);
                let mut client = LiveClient::connect(kind, app, &token, Some(cursor)).await;
                let got = client.drain(Duration::from_millis(150)).await;
                client.close().await;
                seen.extend(ids(&got));
                if seen.len() >= WRITERS || round > 400 {
                    return seen;
                }
            }
            unreachable!()
        }
    };
    let writers = join_all(
        orders
            .iter()
            .map(|order| shop.set_status(&app, *order, "shipped")),
    );
    let (seen, _) = tokio::join!(reader, writers);
    assert_eq!(
        seen.len(),
        WRITERS,
        "the reader saw every event once: {seen:?}"
    );
    assert_increasing(&seen);

    // And from every cursor it could have stopped at, exactly what came after it.
    for (position, cursor) in std::iter::once(1).chain(seen.iter().copied()).enumerate() {
        let mut client = LiveClient::connect(Kind::Sse, &app, &owner.access, Some(cursor)).await;
        let rest = ids(&client.drain(Duration::from_millis(300)).await);
        client.close().await;
        assert_eq!(rest, seen[position..], "resuming after {cursor}");
    }
}
