//! Throttling with governor: login attempts per client address, failures per email,
//! registrations per client address and password checks per user.
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::ids::UserId;
use crate::error::AppError;

#[derive(Clone)]
pub struct LoginThrottle {
    per_address: Arc<DefaultKeyedRateLimiter<String>>,
    failures_per_email: Arc<DefaultKeyedRateLimiter<String>>,
    /// Emails whose failure budget ran out, and until when (governor has no "peek").
    blocked: moka::sync::Cache<String, std::time::Instant>,
    /// Unlimited until `with_registrations_per_address_per_hour`.
    registrations_per_address: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Password checks of password changes, per user: a stolen access token must not be a
    /// way to guess the password faster than the login allows. Spent before the check, a
    /// success too, so parallel guesses cannot all pass before the first failure counts.
    password_checks: Arc<DefaultKeyedRateLimiter<UserId>>,
}

/// The refusal of a limiter that said "not until".
fn too_many(not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> AppError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    AppError::TooManyRequests {
        retry_after_seconds: wait.as_secs() + 1,
    }
}

fn quota(per: Duration, burst: u32) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).expect("nonzero");
    Quota::with_period(per / burst.get())
        .expect("nonzero period")
        .allow_burst(burst)
}

impl LoginThrottle {
    pub fn new(
        attempts_per_address_per_minute: u32,
        failures_per_email_per_hour: u32,
    ) -> LoginThrottle {
        LoginThrottle {
            per_address: Arc::new(RateLimiter::keyed(quota(
                Duration::from_secs(60),
                attempts_per_address_per_minute,
            ))),
            // The failure that finds the budget empty is the one that blocks; a budget of
            // N - 1 cells makes that the N-th failure, so no guess is checked after it.
            failures_per_email: Arc::new(RateLimiter::keyed(quota(
                Duration::from_secs(3600),
                failures_per_email_per_hour.saturating_sub(1).max(1),
            ))),
            blocked: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            registrations_per_address: None,
            password_checks: Arc::new(RateLimiter::keyed(quota(
                Duration::from_secs(3600),
                failures_per_email_per_hour,
            ))),
        }
    }

    /// Counts one check of `user`'s current password (as many an hour as failed logins per
    /// email); refuses when the user is over that budget.
    pub fn before_password_check(&self, user: UserId) -> Result<(), AppError> {
        self.password_checks.check_key(&user).map_err(too_many)
    }

    /// Caps sign-ups from one address (a script making accounts by the hundred).
    pub fn with_registrations_per_address_per_hour(mut self, limit: u32) -> LoginThrottle {
        let quota = quota(Duration::from_secs(3600), limit);
        self.registrations_per_address = Some(Arc::new(RateLimiter::keyed(quota)));
        self
    }

    /// Counts one registration attempt from `address`; refuses when it is over its budget.
    pub fn before_registration(&self, address: &str) -> Result<(), AppError> {
        match &self.registrations_per_address {
            Some(limiter) => limiter.check_key(&address.to_owned()).map_err(too_many),
            None => Ok(()),
        }
    }

    /// Counts one attempt from `address`; refuses when it or the email is over its budget.
    pub fn before_attempt(&self, address: &str, email: &str) -> Result<(), AppError> {
        if let Err(not_until) = self.per_address.check_key(&address.to_owned()) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(AppError::TooManyRequests {
                retry_after_seconds: wait.as_secs() + 1,
            });
        }
        if let Some(until) = self.blocked.get(email) {
            let now = std::time::Instant::now();
            if until > now {
                return Err(AppError::TooManyRequests {
                    retry_after_seconds: (until - now).as_secs() + 1,
                });
            }
            self.blocked.invalidate(email);
        }
        Ok(())
    }

    /// Counts a failed attempt against the email.
    pub fn after_failure(&self, email: &str) {
        if let Err(not_until) = self.failures_per_email.check_key(&email.to_owned()) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            self.blocked
                .insert(email.to_owned(), std::time::Instant::now() + wait);
        }
    }

    pub fn retain_recent(&self) {
        self.per_address.retain_recent();
        self.failures_per_email.retain_recent();
        if let Some(limiter) = &self.registrations_per_address {
            limiter.retain_recent();
        }
        self.password_checks.retain_recent();
    }
}
