//! One live connection's stream: the log after its resume point, then live events, until the
//! credentials it was opened with expire or are revoked.
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::time::Duration;

use super::blocking;
use super::notifications::{Notifications, Subscription};
use crate::auth::CurrentUser;
use crate::domain::clock::Clock;
use crate::domain::event::OrderEvent;
use crate::domain::ids::EventId;
use crate::error::AppError;

/// What a connection sends next.
#[derive(Debug)]
pub enum FeedItem {
    Event(OrderEvent),
    /// The resume point was ahead of the log (a restored database, an invented id): the client
    /// must reload what it shows; the feed goes on with events after this newest id.
    Reset(EventId),
    End(FeedEnd),
}

/// Why a feed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEnd {
    /// Fell too far behind: the client resumes by replay.
    TooSlow,
    /// The access token it was opened with expired.
    Expired,
    /// That token was revoked (logout) or outdated by a password change.
    Revoked,
}

pub struct LiveFeed {
    subscription: Subscription,
    last: EventId,
    backlog: VecDeque<OrderEvent>,
    replaying: bool,
    reset: Option<EventId>,
    expiry: Expiry,
}

/// When the token a feed was opened with stops being accepted, on the application's clock:
/// it is valid through the second `exp`.
struct Expiry {
    clock: Clock,
    dead_at: time::OffsetDateTime,
}

impl Expiry {
    fn of(clock: Clock, exp: i64) -> Expiry {
        let dead_at = time::OffsetDateTime::from_unix_timestamp(exp.saturating_add(1))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Expiry { clock, dead_at }
    }

    fn passed(&self) -> bool {
        self.clock.now() >= self.dead_at
    }

    /// Returns once the clock is past `dead_at`: one real timer for the time left, woken
    /// early when a test moves the clock, then checked again. No polling, so an idle
    /// connection costs one timer entry and one watch receiver, as before the clock.
    async fn reached(&self) {
        let mut moves = self.clock.moves();
        loop {
            let left = self.dead_at - self.clock.now();
            if !left.is_positive() {
                return;
            }
            let left = Duration::try_from(left).unwrap_or(Duration::MAX);
            tokio::select! {
                _ = tokio::time::sleep(left) => {}
                moved = moves.changed() => {
                    // The clock is gone only with the application: real time alone decides.
                    if moved.is_err() {
                        tokio::time::sleep(left).await;
                    }
                }
            }
        }
    }
}

impl Notifications {
    /// Starts a feed for `current` resuming after `last_event_id`, or from now when none is
    /// given; a resume point past the newest event starts with a reset.
    pub async fn feed(
        &self,
        current: &CurrentUser,
        last_event_id: Option<EventId>,
    ) -> Result<LiveFeed, AppError> {
        // Read "now" before subscribing: anything committed in between is then replayed.
        let store = self.store.clone();
        let newest = blocking(move || Ok(store.last_event_id()?)).await?;
        let (after, reset) = match last_event_id {
            Some(id) if id > newest => (newest, Some(newest)),
            Some(id) => (id, None),
            None => (newest, None),
        };
        let subscription = self.subscribe(current).await?;
        Ok(LiveFeed {
            subscription,
            last: after,
            backlog: Default::default(),
            replaying: true,
            reset,
            expiry: Expiry::of(self.clock.clone(), current.claims.exp),
        })
    }
}

impl LiveFeed {
    /// The next event, the reset that comes first, or why the feed ended.
    pub async fn next(&mut self) -> Result<FeedItem, AppError> {
        if let Some(newest) = self.reset.take() {
            return Ok(FeedItem::Reset(newest));
        }
        loop {
            if self.expiry.passed() {
                return Ok(FeedItem::End(FeedEnd::Expired));
            }
            if let Some(event) = self.backlog.pop_front() {
                self.last = event.id;
                return Ok(FeedItem::Event(event));
            }
            if self.replaying {
                // Boxed: an idle connection's task then does not carry the replay's state.
                let chunk = Box::pin(self.subscription.replay(self.last)).await?;
                self.replaying = !chunk.is_empty();
                self.backlog.extend(chunk);
                continue;
            }
            let live = tokio::select! {
                live = self.subscription.live.next() => live,
                _ = self.expiry.reached() => continue,
            };
            match live {
                None => return Ok(FeedItem::End(self.why_dropped())),
                // Already sent during replay.
                Some(event) if event.id <= self.last => continue,
                Some(event) => {
                    self.last = event.id;
                    return Ok(FeedItem::Event((*event).clone()));
                }
            }
        }
    }

    /// The session drops a connection for falling behind, or signals first and then drops
    /// it when its credentials were revoked.
    fn why_dropped(&mut self) -> FeedEnd {
        match self.subscription.revoked.try_recv() {
            Ok(Some(())) => FeedEnd::Revoked,
            _ => FeedEnd::TooSlow,
        }
    }
}
