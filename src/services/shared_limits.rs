//! Login and sign-up limits per deployment, not per instance: with Redis configured, every
//! instance counts in one shared window (Redis `INCR` on a key that expires with the window),
//! beside its own in-memory counts: each client address's attempts and sign-ups, each
//! (email, address) pair's failed sign-ins (the lockout of `throttle`), and each email's
//! failures (its slowdown). Without Redis, or while it cannot be reached, only the
//! per-instance counts apply: N instances behind a balancer then allow up to N times the
//! configured budgets.
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::cache::Cache;
use crate::error::AppError;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct SharedLimits {
    counter: Arc<Cache>,
    login_attempts_per_minute: u32,
    registrations_per_hour: u32,
    failures_per_email_per_hour: u32,
}

/// A bounded key for what a client typed (an email of any length, an address).
fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl SharedLimits {
    pub fn new(
        counter: Arc<Cache>,
        login_attempts_per_minute: u32,
        registrations_per_hour: u32,
        failures_per_email_per_hour: u32,
    ) -> SharedLimits {
        SharedLimits {
            counter,
            login_attempts_per_minute: login_attempts_per_minute.max(1),
            registrations_per_hour: registrations_per_hour.max(1),
            failures_per_email_per_hour: failures_per_email_per_hour.max(1),
        }
    }

    /// Counts `address`'s attempt on `email` as a failure before the password is checked
    /// (handed back by `pair_succeeded`); refuses once the pair is over its hourly budget on
    /// any instance.
    pub async fn pair_attempt(&self, address: &str, email: &str) -> Result<(), AppError> {
        let key = format!("limit:pair:{}", digest(&[email, address]));
        self.count(&key, HOUR, self.failures_per_email_per_hour)
            .await
    }

    /// The password was right: the pair starts afresh everywhere.
    pub async fn pair_succeeded(&self, address: &str, email: &str) {
        let key = format!("limit:pair:{}", digest(&[email, address]));
        self.counter.forget_count(&key).await;
    }

    /// Confirmed failures on `email` this hour from every address and instance (what slows
    /// its attempts down); `None` without a shared count.
    pub async fn email_failures(&self, email: &str) -> Option<u32> {
        let key = format!("limit:email:{}", digest(&[email]));
        let count = self.counter.peek_count(&key).await?;
        Some(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// One more confirmed failure on `email`.
    pub async fn email_failed(&self, email: &str) {
        let key = format!("limit:email:{}", digest(&[email]));
        self.counter.count_hit(&key, HOUR).await;
    }

    /// Counts one login attempt from `address` across the deployment.
    pub async fn login_attempt(&self, address: &str) -> Result<(), AppError> {
        let key = format!("limit:login:{address}");
        self.count(&key, MINUTE, self.login_attempts_per_minute)
            .await
    }

    /// Counts one sign-up from `address` across the deployment.
    pub async fn registration(&self, address: &str) -> Result<(), AppError> {
        let key = format!("limit:register:{address}");
        self.count(&key, HOUR, self.registrations_per_hour).await
    }

    async fn count(&self, key: &str, window: Duration, limit: u32) -> Result<(), AppError> {
        match self.counter.count_hit(key, window).await {
            Some((count, left)) if count > u64::from(limit) => Err(AppError::TooManyRequests {
                retry_after_seconds: left.as_secs().max(1),
            }),
            // Within the limit, or no shared count to be had: the instance's own limiter decides.
            _ => Ok(()),
        }
    }
}
