//! Delivery of events to one webhook: the durable cursor, the retry schedule, the attempt log.
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

use super::ids::{DeliveryId, EventId, WebhookId};
use super::webhook::WebhookEvent;

/// Where a webhook's dispatcher stands: every event up to `cursor` is done (delivered or given
/// up on); the next one has failed `failures` times and waits until `next_attempt_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchState {
    pub cursor: EventId,
    pub failures: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

impl DispatchState {
    pub fn starting_after(cursor: EventId) -> DispatchState {
        DispatchState {
            cursor,
            failures: 0,
            next_attempt_at: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Failed, and will be tried again at `next_attempt_at`.
    Pending,
    Succeeded,
    /// Failed for the last time (or a test ping that failed).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// One attempt to deliver one event to one webhook, as the deliveries log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    /// None for a test ping, which is not in the event log.
    pub event_id: Option<EventId>,
    pub kind: WebhookEvent,
    /// 1 for the first try of this event.
    pub attempt: u32,
    pub status: DeliveryStatus,
    pub response_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What one HTTP attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub response_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl AttemptOutcome {
    /// Any 2xx is a success (Standard Webhooks); everything else is retried.
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && matches!(self.response_code, Some(200..=299))
    }
}

/// Exponential backoff with jitter: the n-th retry waits `base · 3^(n-1)`, capped, scaled by a
/// factor in [0.75, 1.25) so that endpoints coming back up are not hit by every sender at once.
/// With the default 90 s base, 5 attempts span about an hour (1.5 + 4.5 + 13.5 + 40.5 min).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// The wait after the `failures`-th failure, or None when that was the last attempt.
    /// `jitter` is a random number in [0, 1).
    pub fn delay_after(&self, failures: u32, jitter: f64) -> Option<Duration> {
        if failures >= self.max_attempts.max(1) {
            return None;
        }
        let growth = 3u32.saturating_pow(failures.saturating_sub(1));
        let raw = self.base.saturating_mul(growth).min(self.cap);
        Some(raw.mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_spans_about_an_hour_then_gives_up() {
        let policy = RetryPolicy {
            base: Duration::from_secs(90),
            cap: Duration::from_secs(3600),
            max_attempts: 5,
        };
        let total: Duration = (1..5).map(|n| policy.delay_after(n, 0.5).unwrap()).sum();
        assert_eq!(total, Duration::from_secs(60 * 60));
        assert_eq!(policy.delay_after(5, 0.5), None);
        let low = policy.delay_after(1, 0.0).unwrap();
        let high = policy.delay_after(1, 0.999).unwrap();
        assert!(low >= Duration::from_millis(67_500) && high < Duration::from_secs(113));
    }

    #[test]
    fn delays_are_capped_and_never_overflow() {
        let policy = RetryPolicy {
            base: Duration::from_secs(90),
            cap: Duration::from_secs(600),
            max_attempts: u32::MAX,
        };
        assert!(policy.delay_after(200, 0.99).unwrap() < Duration::from_secs(750));
    }
}
