//! Throttling: login attempts per client address, failed logins per (email, address) and per
//! email, registrations per client address and password checks per user.
//!
//! The sign-in model, lockout without denial of service: a wrong guess counts against the
//! address it came from, for that email (`login_failures_per_email_per_hour` of them, then
//! that address gets 429 for that email until the hour is over) and against the email from
//! every address; the latter only slows each attempt on the email (exponentially from a few
//! free failures, at most `MAX_SLOWDOWN`), never refuses it. So an attacker locks out only
//! themselves, and the owner, from any other address, still signs in within seconds.
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::login_failures::FailureCounts;
use super::shared_limits::SharedLimits;
use crate::domain::ids::UserId;
use crate::error::AppError;

/// Failures on one email (from all addresses) before its attempts start to slow down.
const FREE_FAILURES: u32 = 3;
const FIRST_SLOWDOWN: Duration = Duration::from_millis(250);
const MAX_SLOWDOWN: Duration = Duration::from_secs(3);

/// A login attempt the throttle let through: wait `delay` before checking the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempt {
    pub delay: Duration,
}

/// The wait before checking a password for an email that failed `failures` times this hour.
fn slowdown(failures: u32) -> Duration {
    let Some(doublings) = failures.checked_sub(FREE_FAILURES) else {
        return Duration::ZERO;
    };
    let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
    FIRST_SLOWDOWN.saturating_mul(factor).min(MAX_SLOWDOWN)
}

fn pair_key(email: &str, address: &str) -> String {
    format!("{email}\0{address}")
}

#[derive(Clone)]
pub struct LoginThrottle {
    per_address: Arc<DefaultKeyedRateLimiter<String>>,
    /// Failures per (email, address): past `failure_budget`, that address may not try that
    /// email again this hour.
    failures_per_pair: FailureCounts,
    failure_budget: u32,
    /// Failures per email from every address, counted once confirmed: they slow attempts down,
    /// never refuse them.
    failures_per_email: FailureCounts,
    /// Unlimited until `with_registrations_per_address_per_hour`.
    registrations_per_address: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// The same counts across every instance of the deployment (Redis), when there is one:
    /// beside this instance's own, so they still count while Redis is away.
    shared: Option<SharedLimits>,
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
            failures_per_pair: FailureCounts::new(),
            failure_budget: failures_per_email_per_hour.max(1),
            failures_per_email: FailureCounts::new(),
            registrations_per_address: None,
            shared: None,
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

    /// Counts across the deployment too (see `SharedLimits`).
    pub fn with_shared_counts(mut self, shared: SharedLimits) -> LoginThrottle {
        self.shared = Some(shared);
        self
    }

    /// Counts one registration attempt from `address`; refuses when it is over its budget.
    pub async fn before_registration(&self, address: &str) -> Result<(), AppError> {
        if let Some(limiter) = &self.registrations_per_address {
            limiter.check_key(&address.to_owned()).map_err(too_many)?;
        }
        match &self.shared {
            Some(shared) => shared.registration(address).await,
            None => Ok(()),
        }
    }

    /// Counts one attempt from `address` on `email`, and counts it as a failure before the
    /// password is checked (handed back by `after_success`); refuses when the address is over
    /// its attempts or its failures on this email. The answer says how long to wait first.
    pub async fn before_attempt(
        &self,
        address: &str,
        email: &str,
    ) -> Result<LoginAttempt, AppError> {
        self.per_address
            .check_key(&address.to_owned())
            .map_err(too_many)?;
        let (failures, window_end) = self.failures_per_pair.count(&pair_key(email, address));
        if failures >= self.failure_budget {
            let wait = window_end.saturating_duration_since(std::time::Instant::now());
            return Err(AppError::TooManyRequests {
                retry_after_seconds: wait.as_secs() + 1,
            });
        }
        // Confirmed failures only: attempts still in flight (a user signing in from several
        // devices, a client retrying) must not slow each other down.
        let mut failures_on_email = self.failures_per_email.peek(email);
        if let Some(shared) = &self.shared {
            shared.login_attempt(address).await?;
            shared.pair_attempt(address, email).await?;
            let everywhere = shared.email_failures(email).await.unwrap_or_default();
            failures_on_email = failures_on_email.max(everywhere);
        }
        Ok(LoginAttempt {
            delay: slowdown(failures_on_email),
        })
    }

    /// The password was right: this address starts afresh on this email, and the attempt is
    /// no failure of the email.
    pub async fn after_success(&self, address: &str, email: &str) {
        self.failures_per_pair.clear(&pair_key(email, address));
        if let Some(shared) = &self.shared {
            shared.pair_succeeded(address, email).await;
        }
    }

    /// The password was wrong: one more failure of the email, which slows later attempts on it
    /// from every address. (The pair's failure was counted before the check.)
    pub async fn after_failure(&self, email: &str) {
        self.failures_per_email.count(email);
        if let Some(shared) = &self.shared {
            shared.email_failed(email).await;
        }
    }

    pub fn retain_recent(&self) {
        self.per_address.retain_recent();
        if let Some(limiter) = &self.registrations_per_address {
            limiter.retain_recent();
        }
        self.password_checks.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn attempts_in_flight_do_not_slow_each_other() {
        let throttle = LoginThrottle::new(1000, 10);
        let mut attempts = Vec::new();
        for _ in 0..8 {
            attempts.push(
                throttle
                    .before_attempt("10.0.0.1", "a@example.com")
                    .await
                    .unwrap(),
            );
        }
        assert!(attempts.iter().all(|a| a.delay == Duration::ZERO));
    }

    #[test]
    fn the_slowdown_doubles_after_the_free_failures_and_stops_at_the_cap() {
        let waits: Vec<u128> = (0..10).map(|f| slowdown(f).as_millis()).collect();
        assert_eq!(waits, [0, 0, 0, 250, 500, 1000, 2000, 3000, 3000, 3000]);
        assert_eq!(slowdown(u32::MAX), MAX_SLOWDOWN);
    }

    #[tokio::test]
    async fn failures_from_one_address_do_not_refuse_another() {
        let throttle = LoginThrottle::new(1000, 3);
        for _ in 0..3 {
            throttle
                .before_attempt("10.0.0.1", "a@example.com")
                .await
                .unwrap();
            throttle.after_failure("a@example.com").await;
        }
        assert!(throttle
            .before_attempt("10.0.0.1", "a@example.com")
            .await
            .is_err());
        let owner = throttle
            .before_attempt("10.0.0.2", "a@example.com")
            .await
            .unwrap();
        assert!(owner.delay > Duration::ZERO && owner.delay <= MAX_SLOWDOWN);
        throttle.after_success("10.0.0.2", "a@example.com").await;
        assert!(throttle
            .before_attempt("10.0.0.1", "a@example.com")
            .await
            .is_err());
    }
}
