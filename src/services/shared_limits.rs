//! Login and sign-up limits per deployment, not per instance: with Redis configured, every
//! instance counts each client address's attempts in one shared window (Redis `INCR` on a key
//! that expires with the window), beside its own in-memory limiter. Without Redis, or while it
//! cannot be reached, only the per-instance limiters count: N instances behind a balancer then
//! let an address make up to N times the configured attempts.
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::error::AppError;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct SharedLimits {
    counter: Arc<Cache>,
    login_attempts_per_minute: u32,
    registrations_per_hour: u32,
}

impl SharedLimits {
    pub fn new(
        counter: Arc<Cache>,
        login_attempts_per_minute: u32,
        registrations_per_hour: u32,
    ) -> SharedLimits {
        SharedLimits {
            counter,
            login_attempts_per_minute: login_attempts_per_minute.max(1),
            registrations_per_hour: registrations_per_hour.max(1),
        }
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
