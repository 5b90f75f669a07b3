//! How an instance learns what any instance committed: the order events for its live hub and
//! the catalog generation for its caches.
//!
//! The event log is the only source. A wake-up says "look", never "here is the event": a local
//! commit, a `NOTIFY` from another instance's commit (sent by PostgreSQL at commit, so never
//! before the rows are visible), or a periodic catch-up tick. Each look reads the log past the
//! last id handed over and the catalog generation. So a lost wake-up (a dropped listening
//! connection, a restart of PostgreSQL) delays delivery by at most one tick and never loses or
//! reorders an event: ids are in commit order (see `events.rs`), and one task hands them over.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::Notify;

use super::events::order_event;
use super::rows::key;
use super::{note_health, Failing, Pg};
use crate::domain::event::OrderEvent;
use crate::domain::ids::EventId;
use crate::store::storage::{CommitSink, Revocation};
use crate::store::StoreError;

/// The channel every commit that appends to the log or changes the catalog notifies (named
/// again in the statements of `events::append` and `bump_generation`).
pub(super) const CHANNEL: &str = "orderstream_commits";
/// The channel revoked credentials are announced on (see `announce_revocation`).
pub(super) const REVOCATIONS: &str = "orderstream_revocations";
/// Events handed over per read of the log.
const PAGE: i64 = 512;
/// Pause before listening again after the listening connection failed.
const RETRY: Duration = Duration::from_secs(1);

/// What the looking task shares with the rest of the store.
pub(super) struct Following {
    /// Woken by local commits and by the listener.
    pub wake: Arc<Notify>,
    pub generation: Arc<AtomicU64>,
}

impl Pg {
    /// Starts handing every order event committed from now on, by any instance, to `sink`,
    /// once each, in id order; `catch_up` bounds the delay when a wake-up is lost.
    pub(super) fn start_following(
        &self,
        sink: CommitSink,
        catch_up: Duration,
    ) -> Result<(), StoreError> {
        let last: Option<i64> =
            self.wait(sqlx::query_scalar("SELECT max(id) FROM events").fetch_one(self.pool()))?;
        let follower = Follower {
            pool: self.pool().clone(),
            cursor: EventId::new(last.unwrap_or(0) as u64),
            generation: self.inner.following.generation.clone(),
            failing: self.inner.failing.clone(),
            sink: sink.events,
        };
        let wake = self.inner.following.wake.clone();
        let _context = self.inner.runtime.enter();
        tokio::spawn(listen(self.pool().clone(), wake.clone(), sink.revocations));
        tokio::spawn(follower.run(wake, catch_up));
        Ok(())
    }

    /// Tells the follower that this instance committed something (its own events then reach
    /// its hub without waiting for the round trip of a notification).
    pub(super) fn wake_follower(&self) {
        self.inner.following.wake.notify_one();
    }
}

/// Turns notifications into wake-ups. The tasks hold the pool, not the `Pg`: when the last
/// `Pg` goes, its runtime stops and these tasks with it.
async fn listen(pool: PgPool, wake: Arc<Notify>, revoked: Box<dyn Fn(Revocation) + Send + Sync>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(sqlx::Error::PoolClosed) => return,
            Err(_) => {
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if listener.listen_all([CHANNEL, REVOCATIONS]).await.is_err() {
            tokio::time::sleep(RETRY).await;
            continue;
        }
        // Whatever was committed while we were not listening is read now.
        wake.notify_one();
        loop {
            match listener.try_recv().await {
                Ok(Some(notice)) if notice.channel() == REVOCATIONS => {
                    match serde_json::from_str(notice.payload()) {
                        Ok(revocation) => revoked(revocation),
                        Err(e) => tracing::warn!(error = %e, "an unreadable revocation notice"),
                    }
                }
                // A notification, or a lost connection that was just reconnected.
                Ok(_) => wake.notify_one(),
                Err(sqlx::Error::PoolClosed) => return,
                Err(e) => {
                    tracing::debug!(error = %e, "listening for other instances' commits failed");
                    wake.notify_one();
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

struct Follower {
    pool: PgPool,
    /// The last event handed over.
    cursor: EventId,
    generation: Arc<AtomicU64>,
    /// Every look tells `/healthz` whether PostgreSQL answers, traffic or not.
    failing: Arc<Failing>,
    sink: Box<dyn Fn(&OrderEvent) + Send + Sync>,
}

impl Follower {
    async fn run(mut self, wake: Arc<Notify>, catch_up: Duration) {
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(catch_up) => {}
            }
            let outcome = self.look().await;
            note_health(&self.failing, outcome.as_ref().err());
            match outcome {
                Ok(()) => {}
                Err(sqlx::Error::PoolClosed) => return,
                Err(e) => {
                    tracing::debug!(error = %e, "reading the event log for the live hub failed")
                }
            }
        }
    }

    /// Reads the catalog generation and hands over the events past the cursor.
    async fn look(&mut self) -> Result<(), sqlx::Error> {
        loop {
            // One round trip for both: the generation always comes (one row when no event
            // does), and in the same snapshot as the events.
            let rows: Vec<(i64, Option<i64>, Option<String>)> = sqlx::query_as(
                "SELECT m.catalog_generation, e.id, e.body::text FROM meta m \
                 LEFT JOIN LATERAL (SELECT id, body FROM events WHERE id > $1 \
                 AND kind <> 'product.stock_low' ORDER BY id LIMIT $2) e ON true ORDER BY e.id",
            )
            .bind(key(self.cursor.get()))
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            if let Some((generation, _, _)) = rows.first() {
                self.generation
                    .fetch_max(*generation as u64, Ordering::AcqRel);
            }
            let full = rows.len() as i64 == PAGE;
            for (_, id, body) in rows {
                let (Some(id), Some(body)) = (id, body) else {
                    continue;
                };
                self.cursor = EventId::new(id as u64);
                match order_event(&body) {
                    Ok(event) => (self.sink)(&event),
                    Err(e) => tracing::error!(id, error = %e, "an unreadable event in the log"),
                }
            }
            if !full {
                return Ok(());
            }
        }
    }
}
