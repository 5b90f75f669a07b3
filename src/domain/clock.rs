//! The one clock the rules and the stores agree on: token expiry, order and webhook
//! timestamps, pruning. One per application, so a test can move its server's time forward
//! (`advance`) instead of sleeping until a token expires.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

/// The system clock plus an offset that only tests move. Cloning is cheap (one `Arc`).
#[derive(Clone, Debug)]
pub struct Clock {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// How far this clock runs ahead of the system clock.
    ahead_micros: AtomicI64,
    /// Bumped by every `advance`, so waits on this clock's time (the live streams' expiry)
    /// re-check at once instead of sleeping on into the past. A sync primitive, no runtime.
    moved: tokio::sync::watch::Sender<()>,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl Clock {
    /// The system clock, not moved.
    pub fn system() -> Clock {
        Clock {
            shared: Arc::new(Shared {
                ahead_micros: AtomicI64::new(0),
                moved: tokio::sync::watch::channel(()).0,
            }),
        }
    }

    /// The current time in whole microseconds: stored and rendered times then stay identical
    /// across round trips.
    pub fn now(&self) -> OffsetDateTime {
        let ahead = self.shared.ahead_micros.load(Ordering::Relaxed);
        let now = OffsetDateTime::now_utc() + time::Duration::microseconds(ahead);
        now.replace_nanosecond(now.nanosecond() / 1000 * 1000)
            .unwrap_or(now)
    }

    /// `now()` in whole seconds since the epoch (JWT `iat`/`exp`, refresh-token expiry).
    pub fn unix_seconds(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves this clock forward, for tests: production never calls it. Waits on this clock
    /// (`moves`) are woken so they see the new time.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.shared
            .ahead_micros
            .fetch_add(micros, Ordering::Relaxed);
        self.shared.moved.send_replace(());
    }

    /// Changes when `advance` moves the clock: a wait for a time on this clock selects on this
    /// and a real timer, and checks `now()` again whenever either fires.
    pub fn moves(&self) -> tokio::sync::watch::Receiver<()> {
        self.shared.moved.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_whole_microseconds() {
        assert_eq!(Clock::system().now().nanosecond() % 1000, 0);
    }

    #[test]
    fn advance_moves_every_clone_and_wakes_waiters() {
        let clock = Clock::system();
        let copy = clock.clone();
        let moves = copy.moves();
        let before = copy.now();
        clock.advance(Duration::from_secs(3600));
        let after = copy.now();
        assert!(
            after - before >= time::Duration::hours(1),
            "{before} → {after}"
        );
        assert!(after - before < time::Duration::hours(1) + time::Duration::minutes(1));
        assert!(moves.has_changed().unwrap());
    }
}
