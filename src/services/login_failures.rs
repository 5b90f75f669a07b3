//! Failed sign-ins counted in hourly windows, for the login throttle: per (email, address)
//! counted before the password is checked (so guesses sent at once cannot all pass before the
//! first failure counts) and cleared when it was right; per email counted once confirmed.
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy)]
struct Window {
    count: u32,
    started: Instant,
}

/// Per-key failure counts of the current hour; bounded, so a flood of made-up emails or
/// addresses cannot grow it without end.
#[derive(Clone)]
pub struct FailureCounts {
    windows: moka::sync::Cache<String, Window>,
}

impl FailureCounts {
    pub fn new() -> FailureCounts {
        FailureCounts {
            windows: moka::sync::Cache::builder()
                .max_capacity(200_000)
                .time_to_live(WINDOW)
                .build(),
        }
    }

    /// Counts one more (pending) failure for `key`; returns the count before it and when
    /// the window ends.
    pub fn count(&self, key: &str) -> (u32, Instant) {
        let now = Instant::now();
        let window = self
            .windows
            .entry(key.to_owned())
            .and_upsert_with(|current| match current.map(|e| e.into_value()) {
                Some(w) if now.duration_since(w.started) < WINDOW => Window {
                    count: w.count.saturating_add(1),
                    ..w
                },
                _ => Window {
                    count: 1,
                    started: now,
                },
            })
            .into_value();
        (window.count - 1, window.started + WINDOW)
    }

    /// The failures of `key` in its current window, without counting one more.
    pub fn peek(&self, key: &str) -> u32 {
        match self.windows.get(key) {
            Some(w) if w.started.elapsed() < WINDOW => w.count,
            _ => 0,
        }
    }

    /// Forgets `key`'s failures.
    pub fn clear(&self, key: &str) {
        self.windows.invalidate(key);
    }
}

impl Default for FailureCounts {
    fn default() -> Self {
        Self::new()
    }
}
